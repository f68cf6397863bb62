// Answer extraction: finds the final answer in a model's free text.
// Pure and thread-safe; linear in the input (no std::regex, so 1 MB of text is fine).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace triage::verify {

enum class ExtractionMethod {
  kHashes,       // GSM8K "#### 42"
  kBoxed,        // \boxed{...} (adjacent boxes joined by "and"/"," become one list)
  kFinalAnswer,  // "final answer is $...$" / "Final Answer: ..."
  kAnswerIs,     // "the answer is ..." / "Answer: ..."
  kLatexEnv,     // the last $...$, $$...$$, \(...\), \[...\]
  kLastNumber,   // the last number in prose (never in a bare formula: "(x-2)(x+2)" is not "2")
  kWhole,        // the whole (short) text
  kBare,         // the whole text, a bare answer with no prose around it (set by the verifier)
};
std::string_view ToString(ExtractionMethod method);

struct ExtractOptions {
  bool latex = true;   // look for \boxed, $...$ and other LaTeX anchors
  bool expr = true;    // look for plain numbers and "answer is N"
  bool hashes = true;  // GSM8K "#### N"
};

struct Extraction {
  std::string answer;     // the text of the answer (box contents, env contents, number)
  std::size_t begin = 0;  // span in the input
  std::size_t end = 0;
  ExtractionMethod method = ExtractionMethod::kWhole;
};

// Every candidate, most trusted first (anchors before bare LaTeX/numbers; within a tier the
// rightmost first). A verifier tries them in order and keeps the first it can parse.
// The phrase after "the answer is" is offered whole before its first number when it holds no
// prose ("the answer is 4, 12, 2" is the list, not 4). Plain numbers are offered only when the
// text is prose, or when the number is all the text holds besides markup ("**5**"): a bare
// formula is never cut down to one of its numbers.
std::vector<Extraction> ExtractCandidates(std::string_view text,
                                          const ExtractOptions& options = {});

// The first candidate, if any.
std::optional<Extraction> ExtractAnswer(std::string_view text, const ExtractOptions& options = {});

// Does `text` hold prose: a word of two or more letters standing on its own ("so", "answer:"),
// not a LaTeX command (\frac), a product of letters glued to symbols ("2xy") or the list
// separators "and" / "or"?
bool HasProse(std::string_view text);

// Plain numbers in `text` as normalised decimal strings ("1,000.5" -> "1000.5") or simple
// fractions ("2/3"), in order.
struct NumberSpan {
  std::string value;
  std::size_t begin = 0;
  std::size_t end = 0;
};
std::vector<NumberSpan> FindNumbers(std::string_view text);

}  // namespace triage::verify
