#include "app/verify_cli.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "verify/commands.hpp"

namespace triage::app {
namespace {

struct VerifyFlags {
  std::string kind = "math";
  std::string gold;
  std::string answer;
  std::string answer_file;
  std::string tests_file;
  std::string entry_point;
  std::string schema_file;
  bool json = false;
  bool no_extract = false;
  int precision = 6;
  int timeout_ms = 10000;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "verify: cannot read " << path << "\n";
    throw CLI::RuntimeError(2);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void Run(const VerifyFlags& f) {
  std::string answer = f.answer_file.empty() ? f.answer : ReadFile(f.answer_file);
  verify::CommandOutput out;
  if (f.kind == "math") {
    verify::MathOptions options;
    options.precision = f.precision;
    options.extract_answer = !f.no_extract;
    out = verify::MathCommand(f.gold, answer, f.json, options);
  } else if (f.kind == "code") {
    if (f.tests_file.empty()) {
      std::cerr << "verify: --kind code needs --tests FILE\n";
      throw CLI::RuntimeError(2);
    }
    verify::SandboxLimits limits;
    limits.wall_clock = std::chrono::milliseconds(f.timeout_ms);
    out = verify::CodeCommand(answer, ReadFile(f.tests_file), f.entry_point, f.json, limits);
  } else if (f.kind == "steps") {
    out = verify::StepsCommand(answer, f.json);
  } else if (f.kind == "json") {
    if (f.schema_file.empty()) {
      std::cerr << "verify: --kind json needs --schema FILE\n";
      throw CLI::RuntimeError(2);
    }
    out = verify::JsonSchemaCommand(ReadFile(f.schema_file), answer, f.json);
  }
  std::cout << out.text << "\n";
  if (out.exit_code != 0) throw CLI::RuntimeError(out.exit_code);
}

}  // namespace

void AddVerifyCommands(CLI::App& app) {
  auto flags = std::make_shared<VerifyFlags>();
  auto* v = app.add_subcommand("verify",
                               "Verify an answer: math equivalence, code against tests, "
                               "arithmetic steps, JSON schema");
  v->add_option("--kind", flags->kind, "math | code | steps | json")
      ->check(CLI::IsMember({"math", "code", "steps", "json"}))
      ->capture_default_str();
  v->add_option("--gold", flags->gold, "math: the reference answer (text or LaTeX)");
  v->add_option("--answer", flags->answer, "The answer or the model's full response");
  v->add_option("--answer-file", flags->answer_file,
                "Read the answer (code: the candidate program) from a file");
  v->add_option("--tests", flags->tests_file,
                "code: Python file with asserts, or check(candidate) with --entry-point");
  v->add_option("--entry-point", flags->entry_point,
                "code: the function passed to check() (HumanEval style)");
  v->add_option("--schema", flags->schema_file, "json: JSON Schema file");
  v->add_option("--precision", flags->precision, "math: decimals that count for float answers")
      ->capture_default_str();
  v->add_option("--timeout-ms", flags->timeout_ms, "code: wall-clock limit")->capture_default_str();
  v->add_flag("--no-extract", flags->no_extract,
              "math: compare --gold and --answer as bare answers");
  v->add_flag("--json", flags->json, "Machine-readable output");
  v->callback([flags] { Run(*flags); });
}

}  // namespace triage::app
