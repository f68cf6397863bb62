#include "classify/dataset.hpp"

#include <toml++/toml.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "classify/unicode_word.hpp"

namespace triage::classify {
namespace {

// A small strict JSON reader: enough to pull the top-level scalars out of one JSONL record
// without a JSON library (classify/ depends only on std, core and toml++).
class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  std::variant<JsonFields, std::string> Object() {
    JsonFields fields;
    Ws();
    if (!Eat('{')) return Fail("expected '{'");
    Ws();
    if (!Eat('}')) {
      while (true) {
        Ws();
        std::string key;
        if (!String(&key)) return Error();
        Ws();
        if (!Eat(':')) return Fail("expected ':'");
        Ws();
        std::string scalar;
        bool is_scalar = false;
        if (!Value(0, &scalar, &is_scalar)) return Error();
        if (is_scalar) fields.insert_or_assign(std::move(key), std::move(scalar));
        Ws();
        if (Eat(',')) continue;
        if (Eat('}')) break;
        return Fail("expected ',' or '}'");
      }
    }
    Ws();
    if (pos_ != s_.size()) return Fail("unexpected text after the object");
    return fields;
  }

 private:
  static constexpr int kMaxDepth = 64;

  std::string Error() const { return error_; }
  std::string Fail(std::string_view what) {
    if (error_.empty()) error_ = std::string(what) + " at byte " + std::to_string(pos_);
    return error_;
  }
  bool Bad(std::string_view what) {
    Fail(what);
    return false;
  }
  void Ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  static void AppendUtf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  bool Hex4(char32_t* out) {
    if (pos_ + 4 > s_.size()) return Bad("truncated \\u escape");
    char32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return Bad("bad hex digit in \\u escape");
    }
    *out = v;
    return true;
  }
  bool String(std::string* out) {
    if (!Eat('"')) return Bad("expected a string");
    while (true) {
      if (pos_ >= s_.size()) return Bad("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return Bad("control character in string");
      if (c != '\\') {
        if (out) out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return Bad("unterminated escape");
      const char e = s_[pos_++];
      char plain = 0;
      switch (e) {
        case '"':
          plain = '"';
          break;
        case '\\':
          plain = '\\';
          break;
        case '/':
          plain = '/';
          break;
        case 'b':
          plain = '\b';
          break;
        case 'f':
          plain = '\f';
          break;
        case 'n':
          plain = '\n';
          break;
        case 'r':
          plain = '\r';
          break;
        case 't':
          plain = '\t';
          break;
        case 'u': {
          char32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(pos_, 2) == "\\u") {
            const size_t save = pos_;
            pos_ += 2;
            char32_t lo;
            if (!Hex4(&lo)) return false;
            if (lo >= 0xDC00 && lo <= 0xDFFF)
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else
              pos_ = save;
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate
          if (out) AppendUtf8(*out, cp);
          continue;
        }
        default:
          return Bad("bad escape");
      }
      if (out) out->push_back(plain);
    }
  }
  bool Number(std::string* out) {
    const size_t start = pos_;
    Eat('-');
    size_t digits = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      ++pos_;
      ++digits;
    }
    if (digits == 0) return Bad("bad number");
    if (Eat('.')) {
      digits = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        ++pos_;
        ++digits;
      }
      if (digits == 0) return Bad("bad number");
    }
    if (Eat('e') || Eat('E')) {
      if (!Eat('+')) Eat('-');
      digits = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        ++pos_;
        ++digits;
      }
      if (digits == 0) return Bad("bad number");
    }
    if (out) *out = std::string(s_.substr(start, pos_ - start));
    return true;
  }
  // Parses any value; scalars are written to *scalar (if given) and flagged.
  bool Value(int depth, std::string* scalar, bool* is_scalar) {
    if (depth > kMaxDepth) return Bad("nesting too deep");
    if (pos_ >= s_.size()) return Bad("expected a value");
    if (is_scalar) *is_scalar = true;
    const char c = s_[pos_];
    if (c == '"') return String(scalar);
    if (c == '-' || (c >= '0' && c <= '9')) return Number(scalar);
    for (std::string_view word : {"true", "false", "null"})
      if (Literal(word)) {
        if (scalar) *scalar = std::string(word);
        return true;
      }
    if (is_scalar) *is_scalar = false;
    if (c == '[' || c == '{') {
      const char close = c == '[' ? ']' : '}';
      ++pos_;
      Ws();
      if (Eat(close)) return true;
      while (true) {
        Ws();
        if (close == '}') {
          if (!String(nullptr)) return false;
          Ws();
          if (!Eat(':')) return Bad("expected ':'");
          Ws();
        }
        if (!Value(depth + 1, nullptr, nullptr)) return false;
        Ws();
        if (Eat(',')) continue;
        if (Eat(close)) return true;
        return Bad("expected ',' or a closing bracket");
      }
    }
    return Bad("unexpected character");
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

bool SourceMatches(std::string_view pattern, std::string_view source) {
  if (!pattern.empty() && pattern.back() == '*')
    return source.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
  return pattern == source;
}

std::variant<core::Tier, std::string> TierAt(const toml::node* node, const std::string& key) {
  const auto name = node ? node->value<std::string>() : std::nullopt;
  if (!name) return key + " must be a tier name string";
  if (auto tier = core::ParseTier(*name)) return *tier;
  return key + " = \"" + *name +
         "\" is not a tier (trivial, easy, medium, hard, requires_reasoning)";
}

}  // namespace

std::variant<JsonFields, std::string> ParseJsonObjectFields(std::string_view line) {
  return JsonReader(line).Object();
}

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const char32_t cp = DecodeUtf8(text, i);
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (cp < 0x20) {
          char buf[16];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
          out += buf;
        } else if (cp == 0xFFFD && text.substr(start, 3) != "\xEF\xBF\xBD") {
          out += "\xEF\xBF\xBD";  // an invalid byte
        } else {
          out.append(text.substr(start, i - start));
        }
    }
  }
  out += '"';
  return out;
}

std::variant<ClassifierConfig, std::string> ParseClassifierConfig(std::string_view toml_text) {
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "invalid TOML: " << e.description() << " at line " << e.source().begin.line;
    return msg.str();
  }
  ClassifierConfig config;
  const auto* section = root["classifier"].as_table();
  if (!section) return std::string("missing [classifier] table");
  config.model_path = (*section)["model"].value_or(std::string{});
  const auto* labels = (*section)["labels"].as_array();
  if (!labels || labels->empty())
    return std::string("missing [[classifier.labels]] rules: training needs label -> tier rules");
  for (size_t i = 0; i < labels->size(); ++i) {
    const std::string where = "classifier.labels[" + std::to_string(i) + "]";
    const auto* rule_table = labels->get(i)->as_table();
    if (!rule_table) return where + " must be a table";
    LabelRule rule;
    rule.source = (*rule_table)["source"].value_or(std::string{});
    if (rule.source.empty()) return where + ".source is required";
    rule.group = (*rule_table)["group"].value_or(rule.source);
    if (const auto* tier = rule_table->get("tier")) {
      auto parsed = TierAt(tier, where + ".tier");
      if (auto* err = std::get_if<std::string>(&parsed)) return *err;
      rule.tier = std::get<core::Tier>(parsed);
    }
    rule.field = (*rule_table)["field"].value_or(std::string{});
    if (const auto* tiers = (*rule_table)["tiers"].as_table()) {
      for (const auto& [value, node] : *tiers) {
        auto parsed = TierAt(&node, where + ".tiers." + std::string(value.str()));
        if (auto* err = std::get_if<std::string>(&parsed)) return *err;
        rule.tiers.emplace(std::string(value.str()), std::get<core::Tier>(parsed));
      }
    }
    if (rule.tier.has_value() == !rule.field.empty())
      return where + " needs exactly one of `tier` or `field` (+ `tiers`)";
    if (!rule.field.empty() && rule.tiers.empty())
      return where + ".tiers must map the values of `" + rule.field + "` to tiers";
    config.labels.push_back(std::move(rule));
  }
  return config;
}

std::variant<ClassifierConfig, std::string> LoadClassifierConfig(
    const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return "cannot open classifier config " + path.string();
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto parsed = ParseClassifierConfig(buffer.str());
  if (auto* err = std::get_if<std::string>(&parsed)) return path.string() + ": " + *err;
  return parsed;
}

int SplitBucket(std::string_view id) {
  std::string key = "triage-split-v1:";
  key += id;
  return static_cast<int>(Fnv1a64(key) % 100);
}

bool IsHeldOut(std::string_view id) { return SplitBucket(id) < kHeldOutPercent; }

std::optional<Split> ParseSplit(std::string_view name) {
  if (name == "train") return Split::kTrain;
  if (name == "heldout") return Split::kHeldOut;
  if (name == "all") return Split::kAll;
  return std::nullopt;
}

std::variant<std::vector<LabeledItem>, std::string> LoadLabeledItems(
    const std::vector<std::filesystem::path>& files, const ClassifierConfig& config, Split split,
    LoadStats* stats) {
  std::vector<LabeledItem> items;
  LoadStats local;
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) return "cannot open data file " + file.string();
    const std::string stem = file.stem().string();
    std::string line;
    size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto parsed = ParseJsonObjectFields(line);
      if (auto* err = std::get_if<std::string>(&parsed))
        return file.string() + ":" + std::to_string(line_no) + ": " + *err;
      auto& fields = std::get<JsonFields>(parsed);
      ++local.read;
      const auto text_it = fields.find("text");
      if (text_it == fields.end())
        return file.string() + ":" + std::to_string(line_no) + ": record has no \"text\" field";
      const auto source_it = fields.find("source");
      const std::string source = source_it != fields.end() ? source_it->second : stem;
      const auto id_it = fields.find("id");
      std::string id = id_it != fields.end() ? id_it->second : stem + "/" + std::to_string(line_no);
      const bool held_out = IsHeldOut(id);
      if ((split == Split::kTrain && held_out) || (split == Split::kHeldOut && !held_out)) {
        ++local.other_split;
        continue;
      }
      std::optional<core::Tier> tier;
      std::string group;
      for (const auto& rule : config.labels) {
        if (!SourceMatches(rule.source, source)) continue;
        group = rule.group;
        if (rule.tier) {
          tier = rule.tier;
        } else if (auto value = fields.find(rule.field); value != fields.end()) {
          if (auto t = rule.tiers.find(value->second); t != rule.tiers.end()) tier = t->second;
        }
        break;
      }
      if (!tier) {
        ++local.unmapped;
        continue;
      }
      items.push_back({std::move(id), std::move(group), std::move(text_it->second), *tier});
    }
  }
  if (stats) *stats = local;
  return items;
}

}  // namespace triage::classify
