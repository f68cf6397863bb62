#include "classify/heuristic.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include "classify/unicode_word.hpp"

namespace triage::classify {
namespace {

constexpr std::array<std::string_view, 13> kCompetitionIndicators = {
    "find all",       "prove that",       "show that",        "how many ways",
    "aime",           "olympiad",         "competition",      "for all positive integers",
    "if and only if", "minimum value of", "maximum value of", "sum of all",
    "product of all"};
constexpr std::array<std::string_view, 3> kFormalTerms = {"prove", "verify correctness",
                                                          "formal proof"};
constexpr std::array<std::string_view, 4> kTrivialPhrases = {"what is", "who is", "when did",
                                                             "list the"};

// All phrases in one list (competition, then formal, then trivial), found in a single pass:
// a rolling window of the last 4 lower-cased bytes is hashed into a table of the phrases that
// start with those 4 bytes (every phrase has at least 4), and only those are compared in full.
// Searching each phrase separately costs about 10x more on a 500-byte task.
constexpr size_t kPhraseCount = 20;
constexpr std::array<std::string_view, kPhraseCount> kPhrases = {"find all",
                                                                 "prove that",
                                                                 "show that",
                                                                 "how many ways",
                                                                 "aime",
                                                                 "olympiad",
                                                                 "competition",
                                                                 "for all positive integers",
                                                                 "if and only if",
                                                                 "minimum value of",
                                                                 "maximum value of",
                                                                 "sum of all",
                                                                 "product of all",
                                                                 "prove",
                                                                 "verify correctness",
                                                                 "formal proof",
                                                                 "what is",
                                                                 "who is",
                                                                 "when did",
                                                                 "list the"};
constexpr int kFormalBase = 13, kTrivialBase = 16;

constexpr uint32_t Prefix4(std::string_view s) {
  return (uint32_t{static_cast<unsigned char>(s[0])} << 24) |
         (uint32_t{static_cast<unsigned char>(s[1])} << 16) |
         (uint32_t{static_cast<unsigned char>(s[2])} << 8) | static_cast<unsigned char>(s[3]);
}
constexpr uint32_t Slot(uint32_t prefix) { return (prefix * 2654435761u) >> 20; }

// 4096 slots for 20 phrases: a position rarely lands on a non-empty slot by chance.
constexpr std::array<uint32_t, 4096> kPhraseSlots = [] {
  std::array<uint32_t, 4096> slots{};
  for (size_t k = 0; k < kPhraseCount; ++k) slots[Slot(Prefix4(kPhrases[k]))] |= 1u << k;
  return slots;
}();

constexpr unsigned char Lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}
// The same as a table: one load in the hot loop instead of a compare and a conditional move.
constexpr std::array<unsigned char, 256> kLowerTable = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = Lower(static_cast<unsigned char>(c));
  return t;
}();

// Matches kPhrases[k] at text[begin..] (ASCII-case-insensitively) given its first 4 bytes match.
bool PhraseAt(std::string_view text, size_t begin, int k) {
  const auto phrase = kPhrases[k];
  if (text.size() - begin < phrase.size()) return false;
  for (size_t j = 4; j < phrase.size(); ++j)
    if (Lower(static_cast<unsigned char>(text[begin + j])) != phrase[j]) return false;
  return true;
}

int LowestIn(uint32_t found, int begin, int end) {
  const uint32_t mask = ((1u << end) - 1) & ~((1u << begin) - 1);
  return (found & mask) ? std::countr_zero(found & mask) - begin : -1;
}

// The seed's counted words, looked up branch-free: a word run of at most 8 ASCII bytes packed
// into a u64 (first byte highest) is its own key, so any run longer than 8 or holding a
// non-ASCII character (packed as 0xFF bytes) can never equal a key.
constexpr uint64_t Pack(std::string_view w) {
  uint64_t key = 0;
  for (char c : w) key = (key << 8) | static_cast<unsigned char>(c);
  return key;
}
struct WordSlot {
  uint64_t key = 0;
  int condition = 0;
  int step = 0;
};
constexpr int kWordSlotBits = 6;
constexpr uint64_t kWordHashMul = 0xbf58476d1ce4e5b9ULL;
constexpr uint32_t WordSlotOf(uint64_t key) {
  return static_cast<uint32_t>((key * kWordHashMul) >> (64 - kWordSlotBits));
}
constexpr std::array<std::string_view, 5> kConditionWords = {"and", "or", "if", "when", "given"};
constexpr std::array<std::string_view, 5> kStepWords = {"step", "first", "then", "finally", "next"};
constexpr std::array<WordSlot, 1 << kWordSlotBits> kWordSlots = [] {
  std::array<WordSlot, 1 << kWordSlotBits> slots{};
  for (auto w : kConditionWords) slots[WordSlotOf(Pack(w))] = {Pack(w), 1, 0};
  for (auto w : kStepWords) slots[WordSlotOf(Pack(w))] = {Pack(w), 0, 1};
  return slots;
}();
constexpr bool WordSlotsDistinct() {
  for (auto w : kConditionWords)
    if (kWordSlots[WordSlotOf(Pack(w))].key != Pack(w)) return false;
  for (auto w : kStepWords)
    if (kWordSlots[WordSlotOf(Pack(w))].key != Pack(w)) return false;
  return true;
}
static_assert(WordSlotsDistinct(), "counted words collide in kWordSlots: change kWordHashMul");

// Byte classes for the single pass: ASCII word byte (Python \w), other ASCII, non-ASCII.
enum ByteClass : unsigned char { kAsciiOther = 0, kAsciiWord = 1, kNonAscii = 2 };
constexpr std::array<unsigned char, 256> kByteClass = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const bool word =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    table[c] = c >= 0x80 ? kNonAscii : word ? kAsciiWord : kAsciiOther;
  }
  return table;
}();

// Lower-cased byte (low 8 bits) and ByteClass (high 8 bits): one load per byte in the hot loop.
constexpr std::array<uint16_t, 256> kByteInfo = [] {
  std::array<uint16_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = static_cast<uint16_t>(kLowerTable[c] | (kByteClass[c] << 8));
  return t;
}();

}  // namespace

// The seed matches phrases on task.lower() (Python, Unicode). Lower-casing only ASCII is
// equivalent here: every phrase is ASCII, and the only non-ASCII characters whose lower case
// contains ASCII letters (U+212A Kelvin -> "k", U+0130 -> "i" + U+0307) cannot complete a phrase
// (no phrase has a "k", and U+0307 always follows that "i").
// The seed counts condition and step words with re.findall(r'\band\b|...', task) on the original
// case; \b there is Unicode-aware, so word runs are split on Python's \w (IsUnicodeWordChar).
HeuristicSignals AnalyzeHeuristic(std::string_view task) {
  task = task.substr(0, Utf8Prefix(task, kHeuristicInputCap));
  HeuristicSignals s;
  // One pass finds the phrases and counts the words. Word runs are split on Python's \w.
  uint32_t found = 0, window = 0;
  uint64_t run = 0;  // the current word run, packed (see Pack)
  size_t decoded_until = 0;
  auto end_run = [&] {
    const auto& slot = kWordSlots[WordSlotOf(run)];
    const bool hit = slot.key == run;
    s.conditions += hit * slot.condition;
    s.steps += hit * slot.step;
    run = 0;
  };
  for (size_t i = 0; i < task.size(); ++i) {
    const auto b = static_cast<unsigned char>(task[i]);
    const uint16_t info = kByteInfo[b];
    window = (window << 8) | (info & 0xff);
    // Phrases start with non-zero bytes, so the window matches only once it holds 4 bytes.
    if (uint32_t candidates = kPhraseSlots[Slot(window)]) [[unlikely]] {
      candidates &= ~found;
      while (candidates) {
        const int k = std::countr_zero(candidates);
        candidates &= candidates - 1;
        if (Prefix4(kPhrases[k]) == window && PhraseAt(task, i - 3, k)) found |= 1u << k;
      }
    }
    const auto cls = static_cast<unsigned char>(info >> 8);
    if (cls == kAsciiWord) {
      run = (run << 8) | b;
    } else if (cls == kAsciiOther) {
      end_run();  // run == 0 hits the empty slot's zero counts
    } else if (i >= decoded_until) [[unlikely]] {
      size_t next = i;
      const bool word = IsNonAsciiWordChar(DecodeUtf8(task, next));
      decoded_until = next;
      if (word)
        run = ~uint64_t{0};
      else
        end_run();
    }
  }
  end_run();
  s.competition_indicator = LowestIn(found, 0, kFormalBase);
  s.formal_term = LowestIn(found, kFormalBase, kTrivialBase);
  s.trivial_phrase = LowestIn(found, kTrivialBase, static_cast<int>(kPhraseCount));

  if (s.competition_indicator >= 0 || s.formal_term >= 0)
    s.tier = core::Tier::kRequiresReasoning;
  else if (s.conditions >= 4 || s.steps >= 3)
    s.tier = core::Tier::kHard;
  else if (s.conditions >= 2 || s.steps >= 2)
    s.tier = core::Tier::kMedium;
  else if (s.trivial_phrase >= 0)
    s.tier = core::Tier::kTrivial;
  else
    s.tier = core::Tier::kEasy;
  return s;
}

Classification ClassifyHeuristic(std::string_view task) {
  const auto s = AnalyzeHeuristic(task);
  Classification out;
  out.tier = s.tier;
  if (s.competition_indicator >= 0) {
    out.reasons.push_back("competition:" +
                          std::string(kCompetitionIndicators[s.competition_indicator]));
  } else if (s.formal_term >= 0) {
    out.reasons.push_back("formal:" + std::string(kFormalTerms[s.formal_term]));
  } else if (s.tier == core::Tier::kTrivial) {
    out.reasons.push_back("question:" + std::string(kTrivialPhrases[s.trivial_phrase]));
  } else {
    out.reasons.push_back("conditions=" + std::to_string(s.conditions) +
                          " steps=" + std::to_string(s.steps));
  }
  return out;
}

}  // namespace triage::classify
