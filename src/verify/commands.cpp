#include "verify/commands.hpp"

#include <nlohmann/json.hpp>

#include "verify/steps.hpp"
#include "verify/structured.hpp"
#include "verify/verifier.hpp"

namespace triage::verify {
namespace {

int ExitCode(const Verdict& v) {
  switch (v.outcome) {
    case Outcome::kPassed:
      return 0;
    case Outcome::kFailed:
    case Outcome::kTimedOut:
    case Outcome::kCrashed:
      return 1;
    default:
      return 2;
  }
}

CommandOutput Render(const std::string& kind, const Verdict& v, bool json,
                     nlohmann::json extra = {}) {
  CommandOutput out;
  out.exit_code = ExitCode(v);
  if (json) {
    nlohmann::json j = extra.is_object() ? extra : nlohmann::json::object();
    j["kind"] = kind;
    j["outcome"] = std::string(ToString(v.outcome));
    j["status"] = std::string(core::ToString(v.ToStatus()));
    j["reason"] = v.reason;
    out.text = j.dump();
  } else {
    out.text = std::string(ToString(v.outcome)) + ": " + v.reason;
  }
  return out;
}

}  // namespace

CommandOutput MathCommand(const std::string& gold, const std::string& answer, bool json,
                          const MathOptions& options) {
  // The router's entry point, so the CLI judges a response exactly as the service does.
  VerifyRequest request;
  request.domain = "math";
  request.response = answer;
  request.gold = gold;
  request.math = options;
  return Render("math", Verify(request), json);
}

CommandOutput CodeCommand(const std::string& candidate, const std::string& tests,
                          const std::string& entry_point, bool json, const SandboxLimits& limits) {
  CodeTests t;
  if (entry_point.empty()) {
    t.setup = tests;
  } else {
    t.check_source = tests;
    t.entry_point = entry_point;
  }
  CodeResult r = RunPythonTests(candidate, t, limits);
  nlohmann::json extra = {{"failed_test", r.failed_test},
                          {"elapsed_ms", r.elapsed.count()},
                          {"isolation", r.isolation}};
  return Render("code", r.verdict, json, extra);
}

CommandOutput StepsCommand(const std::string& response, bool json) {
  StepReport r = CheckSteps(response);
  nlohmann::json extra = {{"claims", r.claims.size()}, {"wrong", r.wrong}};
  return Render("steps", r.verdict, json, extra);
}

CommandOutput JsonSchemaCommand(const std::string& schema_text, const std::string& answer,
                                bool json) {
  auto schema = nlohmann::json::parse(schema_text, nullptr, false);
  if (schema.is_discarded())
    return Render("json", Unparseable("the schema is not valid JSON"), json);
  return Render("json", ValidateJsonText(answer, schema), json);
}

}  // namespace triage::verify
