#include "classify/features.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "classify/unicode_word.hpp"

namespace triage::classify {
namespace {

// MurmurHash3's 64-bit finaliser: a cheap full-avalanche mix, so the top bits make good buckets.
uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Distinct salts keep a word, a bigram and a char n-gram with equal bytes in different buckets.
constexpr uint64_t kWordSalt = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kBigramSalt = 0xbf58476d1ce4e5b9ULL;
constexpr uint64_t kCharSalt = 0x94d049bb133111ebULL;

uint64_t HashBytes(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a: tokens are short
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

bool IsAsciiLetter(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool IsWordByte(unsigned char c) { return IsAsciiLetter(c) || c >= 0x80; }

float Log1p(int count) { return std::log1p(static_cast<float>(count)); }

}  // namespace

std::string Validate(const FeatureConfig& config) {
  if (config.hash_bits < 8 || config.hash_bits > 24) return "hash_bits must be in [8, 24]";
  if (config.char_ngram_min < 1 || config.char_ngram_max > 8 ||
      config.char_ngram_min > config.char_ngram_max + 1)
    return "char n-gram sizes must satisfy 1 <= min <= max + 1, max <= 8 (min = max + 1: none)";
  return {};
}

namespace {

// Counts gathered while normalising, for the dense features.
struct TextStats {
  bool truncated = false;
  int dollars = 0, math_symbols = 0, non_ascii = 0, newlines = 0, questions = 0, sentences = 0;
  int words = 0, numbers = 0, longest_number = 0, latex_commands = 0, code_markers = 0;
  int conditions = 0, steps = 0, what = 0, how = 0, find_verbs = 0, proof_words = 0;
};

// Words the hand features count; the normalised text is lower-case, so these are
// case-insensitive (unlike the seed heuristic's condition and step counts).
enum class WordRole : uint8_t { kOther, kCondition, kStep, kWhat, kHow, kFindVerb, kProof, kCode };
WordRole RoleOf(std::string_view w) {
  switch (w.size()) {
    case 2:
      if (w == "or" || w == "if") return WordRole::kCondition;
      break;
    case 3:
      if (w == "and") return WordRole::kCondition;
      if (w == "how") return WordRole::kHow;
      if (w == "def") return WordRole::kCode;
      break;
    case 4:
      if (w == "when") return WordRole::kCondition;
      if (w == "step" || w == "then" || w == "next") return WordRole::kStep;
      if (w == "what") return WordRole::kWhat;
      if (w == "find") return WordRole::kFindVerb;
      if (w == "show") return WordRole::kProof;
      break;
    case 5:
      if (w == "given") return WordRole::kCondition;
      if (w == "first") return WordRole::kStep;
      if (w == "solve") return WordRole::kFindVerb;
      if (w == "prove" || w == "proof") return WordRole::kProof;
      break;
    case 6:
      if (w == "return") return WordRole::kCode;
      if (w == "verify") return WordRole::kProof;
      break;
    case 7:
      if (w == "finally") return WordRole::kStep;
      if (w == "compute") return WordRole::kFindVerb;
      if (w == "proving") return WordRole::kProof;
      break;
    case 8:
      if (w == "evaluate" || w == "simplify") return WordRole::kFindVerb;
      if (w == "function") return WordRole::kCode;
      break;
    case 9:
      if (w == "determine" || w == "calculate") return WordRole::kFindVerb;
      break;
    default:
      break;
  }
  return WordRole::kOther;
}

// Per-byte facts for Normalize, looked up once per byte instead of a chain of comparisons.
enum ByteFlag : uint8_t {
  kDollar = 1,
  kMathSymbol = 2,
  kNewline = 4,
  kQuestion = 8,
  kSentenceEnd = 16,
  kSpace = 32,
  kNonAsciiByte = 64
};
constexpr std::array<uint8_t, 256> kByteFlags = [] {
  std::array<uint8_t, 256> t{};
  t['$'] = kDollar;
  for (unsigned char c : std::string_view("=+*/^_<>|")) t[c] = kMathSymbol;
  for (unsigned char c : std::string_view(" \t\n\r\f\v")) t[c] = kSpace;
  t['\n'] |= kNewline;
  t['?'] = kQuestion | kSentenceEnd;
  t['.'] = kSentenceEnd;
  t['!'] = kSentenceEnd;
  for (int c = 0x80; c < 256; ++c) t[c] = kNonAsciiByte;
  return t;
}();
// Lower-case ASCII letters, fold digits to '0'.
constexpr std::array<char, 256> kNormalChar = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = static_cast<char>(c);
    if (c >= 'A' && c <= 'Z') t[c] = static_cast<char>(c - 'A' + 'a');
    if (c >= '0' && c <= '9') t[c] = '0';
  }
  return t;
}();

// Caps `text` and writes its normalised form to `norm`.
std::string_view Normalize(std::string_view text, std::string& norm, TextStats& st) {
  st.truncated = text.size() > kTrainedInputCap;
  text = text.substr(0, Utf8Prefix(text, kTrainedInputCap));
  norm.resize(text.size());
  char* out = norm.data();
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const uint8_t f = kByteFlags[c];
    if (f == 0) [[likely]] {
      out[n++] = kNormalChar[c];
      continue;
    }
    st.dollars += (f & kDollar) != 0;
    st.math_symbols += (f & kMathSymbol) != 0;
    st.newlines += (f & kNewline) != 0;
    st.questions += (f & kQuestion) != 0;
    st.non_ascii += (f & kNonAsciiByte) != 0;
    if ((f & kSentenceEnd) && (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n'))
      ++st.sentences;
    if (f & kSpace) {
      if (n > 0 && out[n - 1] != ' ') out[n++] = ' ';
    } else {
      out[n++] = kNormalChar[c];
    }
  }
  norm.resize(n);
  return text;
}

// Calls sink(kind, bucket, offset, length) for every hashed occurrence in `norm`, in text order;
// `kind` is a std::integral_constant so the sink can keep per-kind sums in registers.
// The one definition of the hashed features, shared by training and both inference paths.
using CharKind = std::integral_constant<FeatureKind, FeatureKind::kChar>;
using WordKind = std::integral_constant<FeatureKind, FeatureKind::kWord>;
using BigramKind = std::integral_constant<FeatureKind, FeatureKind::kWordBigram>;
constexpr CharKind kCharKind{};
constexpr WordKind kWordKind{};
constexpr BigramKind kBigramKind{};

template <typename Sink>
void ForEachHashed(std::string_view norm, const FeatureConfig& config, TextStats& st, Sink&& sink) {
  const int shift = 64 - config.hash_bits;
  // Character n-grams from a rolling window of the last 8 bytes; one multiply places them
  // (Fibonacci hashing: the top bits of gram * odd constant depend on every gram byte).
  uint64_t window = 0;
  for (size_t i = 0; i < norm.size(); ++i) {
    window = (window << 8) | static_cast<unsigned char>(norm[i]);
    for (int n = config.char_ngram_min; n <= config.char_ngram_max; ++n) {
      if (i + 1 < static_cast<size_t>(n)) break;
      const uint64_t gram = n == 8 ? window : window & ((uint64_t{1} << (8 * n)) - 1);
      const uint64_t h = ((gram ^ (kCharSalt * static_cast<uint64_t>(n))) * 0x9e3779b97f4a7c15ULL);
      sink(kCharKind, static_cast<uint32_t>(h >> shift), i + 1 - n, n);
    }
  }

  // Tokens: letter runs (non-ASCII bytes count as letters), digit runs, LaTeX commands, and
  // single punctuation characters; unigrams and adjacent bigrams.
  uint64_t prev_hash = 0;
  size_t prev_start = 0;
  bool have_prev = false;
  size_t i = 0;
  while (i < norm.size()) {
    const auto c = static_cast<unsigned char>(norm[i]);
    if (c == ' ') {
      ++i;
      continue;
    }
    const size_t start = i;
    if (IsWordByte(c)) {
      while (i < norm.size() && IsWordByte(static_cast<unsigned char>(norm[i]))) ++i;
      ++st.words;
      switch (RoleOf(norm.substr(start, i - start))) {
        case WordRole::kCondition:
          ++st.conditions;
          break;
        case WordRole::kStep:
          ++st.steps;
          break;
        case WordRole::kWhat:
          ++st.what;
          break;
        case WordRole::kHow:
          ++st.how;
          break;
        case WordRole::kFindVerb:
          ++st.find_verbs;
          break;
        case WordRole::kProof:
          ++st.proof_words;
          break;
        case WordRole::kCode:
          ++st.code_markers;
          break;
        case WordRole::kOther:
          break;
      }
    } else if (c == '0') {
      while (i < norm.size() && norm[i] == '0') ++i;
      ++st.numbers;
      st.longest_number = std::max(st.longest_number, static_cast<int>(i - start));
    } else if (c == '\\' && i + 1 < norm.size() && IsAsciiLetter(norm[i + 1])) {
      ++i;
      while (i < norm.size() && IsAsciiLetter(norm[i])) ++i;
      ++st.latex_commands;
    } else {
      // ">>>" (doctest) and "```" (code fence) runs mark code.
      if ((c == '>' || c == '`') && i + 2 < norm.size() && norm[i + 1] == static_cast<char>(c) &&
          norm[i + 2] == static_cast<char>(c) && (i == 0 || norm[i - 1] != c))
        ++st.code_markers;
      ++i;
    }
    // Numbers longer than 4 digits share one token: their exact length says little.
    const size_t hashed_len = c == '0' ? std::min<size_t>(i - start, 4) : i - start;
    const uint64_t h = HashBytes(norm.substr(start, hashed_len));
    sink(kWordKind, static_cast<uint32_t>(Mix(h + kWordSalt) >> shift), start, i - start);
    if (config.word_bigrams && have_prev)
      sink(kBigramKind,
           static_cast<uint32_t>(Mix(prev_hash * 0x100000001b3ULL + h + kBigramSalt) >> shift),
           prev_start, i - prev_start);
    prev_hash = h;
    prev_start = start;
    have_prev = true;
  }
}

// Returns whether a proof word occurs (the gate for the trained model's proof-request rule).
bool FillDense(std::string_view text, const TextStats& st, std::array<float, kDenseCount>& d) {
  d = {Log1p(static_cast<int>(text.size())),
       Log1p(st.words),
       Log1p(st.dollars),
       Log1p(st.latex_commands),
       Log1p(st.numbers),
       Log1p(st.longest_number),
       Log1p(st.math_symbols),
       Log1p(st.conditions),
       Log1p(st.steps),
       Log1p(st.sentences),
       Log1p(st.questions),
       Log1p(st.code_markers),
       Log1p(st.non_ascii),
       Log1p(st.newlines),
       st.truncated ? 1.0f : 0.0f,
       st.what > 0 ? 1.0f : 0.0f,
       st.how > 0 ? 1.0f : 0.0f,
       st.find_verbs > 0 ? 1.0f : 0.0f,
       st.proof_words > 0 ? 1.0f : 0.0f};
  return st.proof_words > 0;
}

void KindScales(const std::array<int, kFeatureKindCount>& counts,
                std::array<float, kFeatureKindCount>& scale) {
  for (int k = 0; k < kFeatureKindCount; ++k)
    scale[k] = counts[k] > 0 ? 1.0f / std::sqrt(static_cast<float>(counts[k])) : 0.0f;
}

}  // namespace

void ExtractFeatures(std::string_view text, const FeatureConfig& config, Features& out) {
  TextStats st;
  text = Normalize(text, out.normalized, st);
  out.hashed.clear();
  std::array<int, kFeatureKindCount> counts{};
  ForEachHashed(
      out.normalized, config, st, [&](auto kind, uint32_t bucket, size_t offset, size_t length) {
        out.hashed.push_back(
            {bucket, kind.value, static_cast<uint32_t>(offset), static_cast<uint32_t>(length)});
        ++counts[static_cast<int>(kind.value)];
      });
  KindScales(counts, out.kind_scale);
  out.proof_candidate = FillDense(text, st, out.dense);
}

void SumFeatures(std::string_view text, const FeatureConfig& config, const float* hashed_weights,
                 FeatureSums& out) {
  constexpr int kK = core::kTierCount;
  TextStats st;
  text = Normalize(text, out.normalized, st);
  // Scalar local sums: the compiler keeps them in registers, so the adds wait on nothing but
  // the weight loads (an array indexed by kind lives in memory and serialises every add).
  float c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0;
  float w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0;
  float b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0;
  int n_chars = 0, n_words = 0, n_bigrams = 0;
  static_assert(kK == 5, "SumFeatures unrolls the tiers");
  ForEachHashed(out.normalized, config, st, [&](auto kind, uint32_t bucket, size_t, size_t) {
    const float* w = hashed_weights + size_t{bucket} * kK;
    if constexpr (decltype(kind)::value == FeatureKind::kChar) {
      c0 += w[0], c1 += w[1], c2 += w[2], c3 += w[3], c4 += w[4];
      ++n_chars;
    } else if constexpr (decltype(kind)::value == FeatureKind::kWord) {
      w0 += w[0], w1 += w[1], w2 += w[2], w3 += w[3], w4 += w[4];
      ++n_words;
    } else {
      b0 += w[0], b1 += w[1], b2 += w[2], b3 += w[3], b4 += w[4];
      ++n_bigrams;
    }
  });
  out.sums[static_cast<int>(FeatureKind::kChar)] = {c0, c1, c2, c3, c4};
  out.sums[static_cast<int>(FeatureKind::kWord)] = {w0, w1, w2, w3, w4};
  out.sums[static_cast<int>(FeatureKind::kWordBigram)] = {b0, b1, b2, b3, b4};
  std::array<int, kFeatureKindCount> counts{};
  counts[static_cast<int>(FeatureKind::kChar)] = n_chars;
  counts[static_cast<int>(FeatureKind::kWord)] = n_words;
  counts[static_cast<int>(FeatureKind::kWordBigram)] = n_bigrams;
  KindScales(counts, out.kind_scale);
  out.proof_candidate = FillDense(text, st, out.dense);
}

std::string FeatureName(const Features& features, const HashedFeature& feature) {
  const auto slice = std::string_view(features.normalized).substr(feature.offset, feature.length);
  switch (feature.kind) {
    case FeatureKind::kWord:
      return "word:" + std::string(slice);
    case FeatureKind::kWordBigram:
      return "bigram:" + std::string(slice);
    case FeatureKind::kChar:
      break;
  }
  return "char:\"" + std::string(slice) + "\"";
}

}  // namespace triage::classify
