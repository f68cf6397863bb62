#include "app/workload.hpp"

#include <array>
#include <functional>
#include <numeric>

namespace triage::app {
namespace {

// splitmix64: a tiny generator whose sequence is the same on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  long long In(long long lo, long long hi) {  // inclusive
    return lo + static_cast<long long>(Next() % static_cast<std::uint64_t>(hi - lo + 1));
  }

 private:
  std::uint64_t state_;
};

constexpr std::array<const char*, 8> kNames = {"Maria", "Ahmed", "Lena", "Kofi",
                                               "Priya", "Tomas", "Yuki", "Sofia"};
constexpr std::array<const char*, 6> kItems = {"apples", "pencils", "stickers",
                                               "marbles", "cookies", "cards"};

std::string S(long long v) { return std::to_string(v); }
// A negative operand in parentheses, so a step reads "5 - (-3) = 8" and never "5 - -3".
std::string P(long long v) { return v < 0 ? "(" + S(v) + ")" : S(v); }
// One checkable step: "expression = value".
std::string Step(const std::string& expression, long long value) {
  return expression + " = " + S(value);
}

long long Factorial(long long n) { return n <= 1 ? 1 : n * Factorial(n - 1); }

Problem Easy(Rng& r) {
  const std::string name = kNames[r.In(0, kNames.size() - 1)];
  const std::string item = kItems[r.In(0, kItems.size() - 1)];
  const long long a = r.In(3, 60), b = r.In(2, 9), c = r.In(2, 12);
  switch (r.In(0, 3)) {
    case 0:
      return {name + " has " + S(a) + " " + item + ". " + name + " buys " + S(b) +
                  " more packs with " + S(c) + " " + item + " in each pack. How many " + item +
                  " does " + name + " have now?",
              S(a + b * c),
              "easy",
              "word-add-multiply",
              {Step(S(b) + " * " + S(c), b * c), Step(S(a) + " + " + S(b * c), a + b * c)}};
    case 1:
      return {"A train travels at " + S(a + 40) + " km per hour for " + S(b) +
                  " hours. How many kilometres does it travel?",
              S((a + 40) * b),
              "easy",
              "word-rate",
              {Step(S(a + 40) + " * " + S(b), (a + 40) * b)}};
    case 2:
      return {name + " had $" + S(a * c) + " and spent $" + S(a) +
                  " on a book. How many dollars does " + name + " have left?",
              S(a * c - a),
              "easy",
              "word-subtract",
              {Step(S(a * c) + " - " + S(a), a * c - a)}};
    default: {
      const long long kept = a - b > 0 ? a - b : 0;
      std::vector<std::string> steps;
      if (kept > 0) steps.push_back(Step(S(a) + " - " + S(b), kept));
      steps.push_back(Step(S(kept) + " * " + S(c), kept * c));
      return {"Each box holds " + S(c) + " " + item + ". " + name + " fills " + S(a) +
                  " boxes and gives " + S(b) + " boxes away. How many " + item +
                  " are in the boxes " + name + " kept?",
              S(kept * c), "easy", "word-boxes", std::move(steps)};
    }
  }
}

Problem Medium(Rng& r) {
  const long long x = r.In(-9, 15);
  switch (r.In(0, 2)) {
    case 0: {
      const long long a = r.In(3, 9), c = r.In(1, a - 1), b = r.In(-20, 20);
      const long long d = (a - c) * x + b, e = r.In(2, 6), f = r.In(1, 10);
      return {"If " + S(a) + "x + " + S(b) + " = " + S(c) + "x + " + S(d) + " and y = " + S(e) +
                  "x - " + S(f) + ", what is x + y?",
              S(x + e * x - f),
              "medium",
              "linear-system",
              {Step(P(d) + " - " + P(b), d - b), Step(S(a) + " - " + S(c), a - c),
               Step(P(d - b) + " / " + S(a - c), x),
               Step(S(e) + " * " + P(x) + " - " + S(f), e * x - f),
               Step(P(x) + " + " + P(e * x - f), x + e * x - f)}};
    }
    case 1: {
      const long long a = r.In(2, 7), b = r.In(1, 9), c = r.In(1, 9), e = r.In(2, 9);
      const long long d = a * (x - b) - c * x;
      if (a == c) return Medium(r);
      return {"Solve " + S(a) + "(x - " + S(b) + ") = " + S(c) + "x + " + S(d) +
                  " for x, then compute " + S(e) + "x + " + S(b) + ".",
              S(e * x + b),
              "medium",
              "linear-then-evaluate",
              {Step(S(a) + " * " + S(b), a * b), Step(P(d) + " + " + S(a * b), d + a * b),
               Step(S(a) + " - " + S(c), a - c), Step(P(d + a * b) + " / " + P(a - c), x),
               Step(S(e) + " * " + P(x) + " + " + S(b), e * x + b)}};
    }
    default: {
      const long long big = r.In(20, 90), small = r.In(2, big - 1);
      return {"The sum of two numbers is " + S(big + small) + " and their difference is " +
                  S(big - small) + ". First find both numbers, then give their product.",
              S(big * small),
              "medium",
              "sum-difference",
              {Step(S(big + small) + " + " + S(big - small), 2 * big),
               Step(S(2 * big) + " / 2", big), Step(S(big + small) + " - " + S(big), small),
               Step(S(big) + " * " + S(small), big * small)}};
    }
  }
}

Problem Hard(Rng& r) {
  switch (r.In(0, 3)) {
    case 0: {
      const long long n = r.In(5, 9);
      return {"How many ways can " + S(n) +
                  " distinct books be arranged on a shelf so that two particular books are "
                  "never next to each other?",
              S(Factorial(n) - 2 * Factorial(n - 1)),
              "hard",
              "arrangements",
              {"All orders: " + S(n) + "! is " + S(Factorial(n)) + ".",
               "With the two books glued together: " + S(n - 1) + "! is " + S(Factorial(n - 1)) +
                   ", twice over for their order:",
               Step("2 * " + S(Factorial(n - 1)), 2 * Factorial(n - 1)),
               Step(S(Factorial(n)) + " - " + S(2 * Factorial(n - 1)),
                    Factorial(n) - 2 * Factorial(n - 1))}};
    }
    case 1: {
      const long long N = r.In(200, 2000), a = r.In(3, 7), b = r.In(8, 13);
      const long long both = std::lcm(a, b);
      return {"How many positive integers not exceeding " + S(N) + " are divisible by " + S(a) +
                  " or " + S(b) + " but not by both?",
              S(N / a + N / b - 2 * (N / both)),
              "hard",
              "inclusion-exclusion",
              {"Multiples of " + S(a) + ": " + S(N / a) + ".",
               "Multiples of " + S(b) + ": " + S(N / b) + ".",
               "Multiples of both (of " + S(both) + "): " + S(N / both) + ".",
               Step(S(N / a) + " + " + S(N / b) + " - 2 * " + S(N / both),
                    N / a + N / b - 2 * (N / both))}};
    }
    case 2: {
      const long long n = r.In(6, 20);
      long long f1 = 1, f2 = 2;  // subsets of {1..n} with no two consecutive: Fib(n + 2)
      std::vector<std::string> steps = {
          "Each count is the sum of the two before it, starting from 1 and 2:"};
      for (long long i = 2; i <= n; ++i) {
        steps.push_back(Step(S(f1) + " + " + S(f2), f1 + f2));
        std::tie(f1, f2) = std::pair(f2, f1 + f2);
      }
      return {"Find the number of subsets of {1, 2, ..., " + S(n) +
                  "} (including the empty set) that contain no two consecutive integers.",
              S(f2), "hard", "no-consecutive-subsets", std::move(steps)};
    }
    default: {
      const long long N = r.In(100, 5000);
      long long sigma = 0;
      std::string sum;
      for (long long d = 1; d <= N; ++d)
        if (N % d == 0) sigma += d, sum += (sum.empty() ? "" : " + ") + S(d);
      return {"Find the sum of all positive divisors of " + S(N) + ".",
              S(sigma),
              "hard",
              "divisor-sum",
              {Step(sum, sigma)}};
    }
  }
}

}  // namespace

nlohmann::json SimMetadata(const Problem& problem) {
  nlohmann::json hints = nlohmann::json::object();
  hints["difficulty"] = problem.difficulty;
  hints["expected_answer"] = problem.answer;
  hints["steps"] = problem.steps;
  return hints;
}

std::map<std::string, std::string> SimHints(const Problem& problem) {
  std::map<std::string, std::string> hints;
  const nlohmann::json metadata = SimMetadata(problem);  // alive for the loop
  for (const auto& [key, value] : metadata.items())
    hints[key] = value.is_string() ? value.get<std::string>() : value.dump();
  return hints;
}

std::vector<Problem> GenerateWorkload(int count, std::uint64_t seed) {
  Rng r(seed);
  std::vector<Problem> out;
  out.reserve(static_cast<size_t>(std::max(count, 0)));
  for (int i = 0; i < count; ++i) {
    const auto bucket = r.In(0, 9);  // 0–4 easy, 5–7 medium, 8–9 hard
    out.push_back(bucket < 5 ? Easy(r) : bucket < 8 ? Medium(r) : Hard(r));
  }
  return out;
}

}  // namespace triage::app
