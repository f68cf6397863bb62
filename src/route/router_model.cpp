#include "route/router_model.hpp"

#include <cstring>

#include "classify/binary_io.hpp"

namespace triage::route {
namespace {

using classify::ByteReader;
using classify::PutFloats;
using classify::PutLe;

constexpr uint32_t kFlagBigrams = 1u, kFlagAnswerText = 2u;

void PutString(std::string& out, std::string_view s) {
  PutLe<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out += s;
}

// Reads a length-prefixed string; false when it does not fit or is too long.
bool GetString(ByteReader& r, std::string& out) {
  if (!r.Has(4)) return false;
  const auto n = r.Le<uint32_t>();
  if (n > kMaxRouterStringBytes || !r.Has(n)) return false;
  out = std::string(r.Take(n));
  return true;
}

const std::string kRetrain = "; retrain with `triage router train`";

}  // namespace

std::string SerializeRouter(const RouterParams& p) {
  const auto& f = p.features;
  std::string out(kRouterMagic, sizeof kRouterMagic);
  PutLe<uint32_t>(out, kRouterFormatVersion);
  PutLe<uint32_t>(out, static_cast<uint32_t>(f.kind));
  PutLe<uint32_t>(out, f.text.hash_bits);
  PutLe<uint32_t>(out, f.text.char_ngram_min);
  PutLe<uint32_t>(out, f.text.char_ngram_max);
  PutLe<uint32_t>(
      out, (f.text.word_bigrams ? kFlagBigrams : 0u) | (f.answer_text ? kFlagAnswerText : 0u));
  PutLe<uint32_t>(out, kTaskDenseCount);
  PutLe<uint32_t>(out, kAnswerDenseCount);
  PutLe<uint32_t>(out, static_cast<uint32_t>(f.vocabulary.size()));
  for (const auto& v : f.vocabulary) PutString(out, v);
  PutString(out, p.metadata);
  PutLe<uint32_t>(out, static_cast<uint32_t>(p.models.size()));
  for (const auto& m : p.models) {
    PutString(out, m.name);
    PutLe<uint32_t>(out, m.rows);
    PutFloats(out, &m.positive_share, 1);
    const auto& l = m.linear;
    PutFloats(out, l.dense_mean.data(), l.dense_mean.size());
    PutFloats(out, l.dense_inv_std.data(), l.dense_inv_std.size());
    PutFloats(out, l.bias.data(), l.bias.size());
    PutFloats(out, l.dense_weights.data(), l.dense_weights.size());
    PutFloats(out, l.hashed_weights.data(), l.hashed_weights.size());
  }
  PutLe<uint64_t>(out, classify::Fnv1a64(out));
  return out;
}

std::variant<RouterParams, std::string> ParseRouter(std::string_view bytes) {
  if (bytes.size() < sizeof kRouterMagic ||
      std::memcmp(bytes.data(), kRouterMagic, sizeof kRouterMagic) != 0)
    return std::string("not a triage router model (bad magic; expected \"TRIAGERM\")");
  constexpr size_t kFixedHeader = 44;
  if (bytes.size() < kFixedHeader + 8)
    return "truncated: " + std::to_string(bytes.size()) + " bytes is shorter than the header";
  // The checksum first: every later message can then trust the bytes it describes, and a
  // truncated file (whose last 8 bytes are not a checksum) is caught here too.
  const size_t body = bytes.size() - 8;
  ByteReader tail(bytes.substr(body));
  if (tail.Le<uint64_t>() != classify::Fnv1a64(bytes.substr(0, body)))
    return std::string(
        "corrupt or truncated: checksum mismatch (the file was cut short, damaged or edited)");

  ByteReader r(bytes.substr(0, body));
  r.Take(sizeof kRouterMagic);
  const auto version = r.Le<uint32_t>();
  if (version != kRouterFormatVersion)
    return "unsupported format version " + std::to_string(version) + " (this build reads version " +
           std::to_string(kRouterFormatVersion) + ")" + kRetrain;
  RouterParams p;
  auto& f = p.features;
  const auto kind = r.Le<uint32_t>();
  if (kind > 1) return "unknown router kind " + std::to_string(kind);
  f.kind = static_cast<RouterKind>(kind);
  f.text.hash_bits = static_cast<int>(r.Le<uint32_t>());
  f.text.char_ngram_min = static_cast<int>(r.Le<uint32_t>());
  f.text.char_ngram_max = static_cast<int>(r.Le<uint32_t>());
  const auto flags = r.Le<uint32_t>();
  if (flags > (kFlagBigrams | kFlagAnswerText)) return "unknown flags " + std::to_string(flags);
  f.text.word_bigrams = (flags & kFlagBigrams) != 0;
  f.answer_text = (flags & kFlagAnswerText) != 0;
  if (auto err = classify::Validate(f.text); !err.empty()) return "bad feature settings: " + err;
  const auto task_dense = r.Le<uint32_t>();
  const auto answer_dense = r.Le<uint32_t>();
  if (task_dense != kTaskDenseCount || answer_dense != kAnswerDenseCount)
    return "model has " + std::to_string(task_dense) + " task and " + std::to_string(answer_dense) +
           " answer features; this build computes " + std::to_string(kTaskDenseCount) + " and " +
           std::to_string(kAnswerDenseCount) + kRetrain;
  const auto vocab = r.Le<uint32_t>();
  if (vocab > kMaxRouterStringBytes)
    return "vocabulary size " + std::to_string(vocab) + " too large";
  f.vocabulary.resize(vocab);
  for (auto& v : f.vocabulary)
    if (!GetString(r, v)) return std::string("corrupt: a vocabulary entry does not fit the file");
  if (!GetString(r, p.metadata)) return std::string("corrupt: the metadata does not fit the file");
  if (!r.Has(4)) return std::string("corrupt: no model count");
  const auto count = r.Le<uint32_t>();
  if (count == 0 || count > kMaxRouterModels)
    return "model count " + std::to_string(count) + " out of range [1, " +
           std::to_string(kMaxRouterModels) + "]";
  const size_t d = static_cast<size_t>(DenseCount(f));
  const size_t buckets = size_t{1} << f.text.hash_bits;
  const size_t floats = 1 + 2 * d + 2 + 2 * d + 2 * buckets;
  p.models.resize(count);
  for (auto& m : p.models) {
    if (!GetString(r, m.name) || !r.Has(4 + 4 * floats))
      return std::string("corrupt: model ") + std::to_string(&m - p.models.data()) +
             " does not fit the file";
    m.rows = r.Le<uint32_t>();
    auto& l = m.linear;
    l.classes = 2;
    l.hash_bits = f.text.hash_bits;
    l.dense_mean.resize(d);
    l.dense_inv_std.resize(d);
    l.bias.resize(2);
    l.dense_weights.resize(2 * d);
    l.hashed_weights.resize(2 * buckets);
    if (!r.Floats(&m.positive_share, 1) || !r.Floats(l.dense_mean.data(), d) ||
        !r.Floats(l.dense_inv_std.data(), d) || !r.Floats(l.bias.data(), 2) ||
        !r.Floats(l.dense_weights.data(), 2 * d) || !r.Floats(l.hashed_weights.data(), 2 * buckets))
      return "corrupt: a weight of model \"" + m.name + "\" is not a finite number";
  }
  if (r.pos() != body)
    return "corrupt: " + std::to_string(body - r.pos()) + " unexpected bytes after the models";
  return p;
}

}  // namespace triage::route
