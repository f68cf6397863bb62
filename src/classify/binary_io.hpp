// Little-endian byte writing and bounds-checked reading for the versioned model files (the
// classifier's and the learned router's), plus the FNV-1a-64 checksum they end with. Pure.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace triage::classify {

static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559);

inline uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

template <typename T>
void PutLe(std::string& out, T value) {
  static_assert(std::is_integral_v<T>);
  for (size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

inline void PutFloats(std::string& out, const float* data, size_t count) {
  for (size_t i = 0; i < count; ++i) PutLe(out, std::bit_cast<uint32_t>(data[i]));
}

// Reads from a byte string; callers check Has() before each read (reads past the end are a bug).
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool Has(size_t n) const { return bytes_.size() - pos_ >= n; }
  size_t pos() const { return pos_; }
  template <typename T>
  T Le() {
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      value |= static_cast<T>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    pos_ += sizeof(T);
    return value;
  }
  // Returns false on a non-finite value (a corrupt file would otherwise poison every logit).
  bool Floats(float* out, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      out[i] = std::bit_cast<float>(Le<uint32_t>());
      if (!std::isfinite(out[i])) return false;
    }
    return true;
  }
  std::string_view Take(size_t n) {
    const auto s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace triage::classify
