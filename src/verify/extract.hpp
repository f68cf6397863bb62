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
  kLastNumber,   // the last number in the text
  kWhole,        // the whole (short) text
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
std::vector<Extraction> ExtractCandidates(std::string_view text,
                                          const ExtractOptions& options = {});

// The first candidate, if any.
std::optional<Extraction> ExtractAnswer(std::string_view text, const ExtractOptions& options = {});

// Plain numbers in `text` as normalised decimal strings ("1,000.5" -> "1000.5"), in order.
struct NumberSpan {
  std::string value;
  std::size_t begin = 0;
  std::size_t end = 0;
};
std::vector<NumberSpan> FindNumbers(std::string_view text);

}  // namespace triage::verify
