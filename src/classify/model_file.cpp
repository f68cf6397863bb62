#include "classify/model_file.hpp"

#include <cstring>

#include "classify/binary_io.hpp"

namespace triage::classify {
namespace {

constexpr size_t kHeaderBytes = 40;
constexpr size_t kK = core::kTierCount;

}  // namespace

std::string SerializeModel(const ModelParams& p) {
  std::string out(kModelMagic, sizeof kModelMagic);
  PutLe<uint32_t>(out, kModelFormatVersion);
  PutLe<uint32_t>(out, kK);
  PutLe<uint32_t>(out, kDenseCount);
  PutLe<uint32_t>(out, p.features.hash_bits);
  PutLe<uint32_t>(out, p.features.char_ngram_min);
  PutLe<uint32_t>(out, p.features.char_ngram_max);
  PutLe<uint32_t>(out, p.features.word_bigrams ? 1u : 0u);
  PutLe<uint32_t>(out, static_cast<uint32_t>(p.metadata.size()));
  out += p.metadata;
  PutFloats(out, p.dense_mean.data(), kDenseCount);
  PutFloats(out, p.dense_inv_std.data(), kDenseCount);
  PutFloats(out, p.bias.data(), kK);
  PutFloats(out, p.dense_weights.data(), p.dense_weights.size());
  PutFloats(out, p.hashed_weights.data(), p.hashed_weights.size());
  PutLe<uint64_t>(out, Fnv1a64(out));
  return out;
}

std::variant<ModelParams, std::string> ParseModel(std::string_view bytes) {
  if (bytes.size() < sizeof kModelMagic ||
      std::memcmp(bytes.data(), kModelMagic, sizeof kModelMagic) != 0)
    return std::string("not a triage classifier model (bad magic; expected \"TRIAGECM\")");
  if (bytes.size() < kHeaderBytes + 8)
    return "truncated: " + std::to_string(bytes.size()) + " bytes is shorter than the header";
  ByteReader r(bytes);
  r.Take(sizeof kModelMagic);
  const auto version = r.Le<uint32_t>();
  if (version != kModelFormatVersion)
    return "unsupported format version " + std::to_string(version) + " (this build reads version " +
           std::to_string(kModelFormatVersion) + "); retrain with `triage classifier train`";
  const auto tiers = r.Le<uint32_t>();
  const auto dense = r.Le<uint32_t>();
  if (tiers != kK || dense != static_cast<uint32_t>(kDenseCount))
    return "model has " + std::to_string(tiers) + " tiers and " + std::to_string(dense) +
           " dense features; this build expects " + std::to_string(kK) + " and " +
           std::to_string(kDenseCount) + "; retrain with `triage classifier train`";
  ModelParams p;
  p.features.hash_bits = static_cast<int>(r.Le<uint32_t>());
  p.features.char_ngram_min = static_cast<int>(r.Le<uint32_t>());
  p.features.char_ngram_max = static_cast<int>(r.Le<uint32_t>());
  const auto flags = r.Le<uint32_t>();
  p.features.word_bigrams = (flags & 1u) != 0;
  if (auto err = Validate(p.features); !err.empty()) return "bad feature settings: " + err;
  if (flags > 1u) return "unknown flags " + std::to_string(flags);
  const auto metadata_len = r.Le<uint32_t>();
  if (metadata_len > kMaxMetadataBytes)
    return "metadata length " + std::to_string(metadata_len) + " too large";

  const size_t buckets = size_t{1} << p.features.hash_bits;
  const size_t float_count = 2 * kDenseCount + kK + kDenseCount * kK + buckets * kK;
  const size_t expected = kHeaderBytes + metadata_len + 4 * float_count + 8;
  if (bytes.size() < expected)
    return "truncated: " + std::to_string(bytes.size()) + " bytes, the header announces " +
           std::to_string(expected);
  if (bytes.size() > expected)
    return "corrupt: " + std::to_string(bytes.size() - expected) +
           " unexpected bytes after the model";
  const uint64_t stored = [&] {
    ByteReader tail(bytes.substr(expected - 8));
    return tail.Le<uint64_t>();
  }();
  if (stored != Fnv1a64(bytes.substr(0, expected - 8)))
    return std::string("corrupt: checksum mismatch (the file was damaged or edited)");

  p.metadata = std::string(r.Take(metadata_len));
  p.dense_weights.resize(kDenseCount * kK);
  p.hashed_weights.resize(buckets * kK);
  if (!r.Floats(p.dense_mean.data(), kDenseCount) ||
      !r.Floats(p.dense_inv_std.data(), kDenseCount) || !r.Floats(p.bias.data(), kK) ||
      !r.Floats(p.dense_weights.data(), p.dense_weights.size()) ||
      !r.Floats(p.hashed_weights.data(), p.hashed_weights.size()))
    return std::string("corrupt: a weight is not a finite number");
  return p;
}

namespace {
std::array<float, kK> DenseLogits(const ModelParams& p,
                                  const std::array<float, kDenseCount>& dense) {
  std::array<float, kK> z = p.bias;
  for (int j = 0; j < kDenseCount; ++j) {
    const float x = (dense[j] - p.dense_mean[j]) * p.dense_inv_std[j];
    const float* w = &p.dense_weights[j * kK];
    for (size_t c = 0; c < kK; ++c) z[c] += x * w[c];
  }
  return z;
}
}  // namespace

std::array<float, core::kTierCount> ComputeLogits(const ModelParams& p, const Features& f) {
  std::array<float, kK> z = DenseLogits(p, f.dense);
  // Sum per kind, then scale: one multiply per kind instead of one per occurrence.
  std::array<std::array<float, kK>, kFeatureKindCount> sums{};
  for (const auto& h : f.hashed) {
    const float* w = &p.hashed_weights[size_t{h.bucket} * kK];
    auto& s = sums[static_cast<int>(h.kind)];
    for (size_t c = 0; c < kK; ++c) s[c] += w[c];
  }
  for (int k = 0; k < kFeatureKindCount; ++k)
    for (size_t c = 0; c < kK; ++c) z[c] += f.kind_scale[k] * sums[k][c];
  return z;
}

std::array<float, core::kTierCount> ComputeLogits(const ModelParams& p, const FeatureSums& f) {
  std::array<float, kK> z = DenseLogits(p, f.dense);
  for (int k = 0; k < kFeatureKindCount; ++k)
    for (size_t c = 0; c < kK; ++c) z[c] += f.kind_scale[k] * f.sums[k][c];
  return z;
}

}  // namespace triage::classify
