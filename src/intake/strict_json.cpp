#include "intake/strict_json.hpp"

#include <set>
#include <vector>

namespace triage::intake {
namespace {

using nlohmann::json;

// A SAX pass that tracks the keys of every open object and stops at the first problem.
class StrictChecker : public nlohmann::json_sax<json> {
 public:
  std::optional<JsonProblem> problem;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool string(string_t& value) override {
    if (value.find('\0') != std::string::npos)
      return Fail("invalid_field", "a NUL character (\\u0000) in " + Quoted(Path()) +
                                       " cannot be stored; remove it or encode the data");
    return Value();
  }
  bool start_object(std::size_t) override {
    frames_.push_back({true, {}, {}});
    return true;
  }
  bool key(string_t& key) override {
    auto& frame = frames_.back();
    frame.key = key;
    if (key.find('\0') != std::string::npos)
      return Fail("invalid_field", "a NUL character (\\u0000) in a key of " + Quoted(Path(false)) +
                                       " cannot be stored");
    if (!frame.keys.insert(key).second)
      return Fail("invalid_json", "duplicate key '" + Path() +
                                      "': only one of its values could "
                                      "be kept, so the document is refused");
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override {
    frames_.push_back({false, {}, {}});
    return true;
  }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    problem = JsonProblem{"invalid_json", "",
                          "body is not valid JSON (at byte " + std::to_string(position) + ")"};
    return false;
  }

 private:
  struct Frame {
    bool object;
    std::string key;  // the key being read, in an object
    std::set<std::string, std::less<>> keys;
  };
  std::vector<Frame> frames_;

  bool Value() { return true; }
  bool Close() {
    frames_.pop_back();
    return true;
  }
  // "metadata.tags[]": the object keys and arrays down to the current value; without the
  // innermost key when `with_last_key` is false (the object a bad key is in).
  std::string Path(bool with_last_key = true) const {
    std::string path;
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const auto& f = frames_[i];
      if (!f.object) {
        path += "[]";
      } else if (with_last_key || i + 1 < frames_.size()) {
        path += (path.empty() ? "" : ".") + f.key;
      }
    }
    return path;
  }
  static std::string Quoted(const std::string& path) {
    return path.empty() ? "the document" : "'" + path + "'";
  }
  bool Fail(std::string code, std::string message) {
    const std::string field =
        !frames_.empty() && frames_.front().object ? frames_.front().key : std::string();
    problem = JsonProblem{std::move(code), field, std::move(message)};
    return false;
  }
};

}  // namespace

std::variant<json, JsonProblem> ParseStrictJson(std::string_view text) {
  StrictChecker checker;
  if (!json::sax_parse(text, &checker) || checker.problem) {
    if (checker.problem) return *checker.problem;
    return JsonProblem{"invalid_json", "", "body is not valid JSON"};
  }
  return json::parse(text);
}

}  // namespace triage::intake
