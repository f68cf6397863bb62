#include "providers/replay.hpp"
#include "providers/sim.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace triage::providers {
using nlohmann::json;

namespace {

template <class F>
void ForEachLine(const std::string& path, F f) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("replay: cannot read " + path);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.empty()) continue;
    auto doc = json::parse(line, nullptr, false);
    if (!doc.is_object())
      throw std::runtime_error("replay: " + path + ":" + std::to_string(n) +
                               " is not a JSON object");
    f(doc);
  }
}

}  // namespace

ReplayModel::ReplayModel(ReplayOptions options) : options_(std::move(options)) {
  std::unordered_map<std::string, std::string> gold;
  ForEachLine(options_.dir + "/items.jsonl", [&](const json& item) {
    const auto id = item.value("id", "");
    if (item.contains("gold") && item["gold"].is_string())
      gold[id] = item["gold"].get<std::string>();
    if (item.contains("text") && item["text"].is_string())
      by_text_[item["text"].get<std::string>()] = id;
  });
  ForEachLine(options_.dir + "/outcomes.jsonl", [&](const json& o) {
    if (o.value("model", "") != options_.model) return;
    Outcome out;
    const auto id = o.value("item", "");
    out.gold = gold.count(id) ? gold[id] : "";
    if (o.contains("response") && o["response"].is_string())
      out.response = o["response"].get<std::string>();
    if (o.contains("p_correct") && o["p_correct"].is_number())
      out.p_correct = o["p_correct"].get<double>();
    outcomes_[id] = std::move(out);
  });
  if (outcomes_.empty())
    throw std::runtime_error("replay: no outcomes for model '" + options_.model + "' in " +
                             options_.dir);
}

boost::asio::awaitable<ModelResponse> ReplayModel::Complete(ModelRequest request,
                                                            Deadline deadline) {
  std::string id;
  if (auto it = request.sim_hints.find("replay_item"); it != request.sim_hints.end())
    id = it->second;
  else if (auto t = by_text_.find(request.prompt); t != by_text_.end())
    id = t->second;
  const auto found = outcomes_.find(id);
  if (found == outcomes_.end())
    throw ModelError(options_.name + " (replay): no recorded outcome for this request", false,
                     ErrorKind::kRequest);
  const auto& o = found->second;
  const auto start = std::chrono::steady_clock::now();
  if (options_.latency.count() > 0) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    const bool late = start + options_.latency > deadline;
    timer.expires_at(late ? deadline : start + options_.latency);
    co_await timer.async_wait(boost::asio::use_awaitable);
    if (late) throw ModelError(options_.name + ": deadline exceeded", true, ErrorKind::kTimeout);
  } else if (deadline <= start) {
    throw ModelError(options_.name + ": deadline exceeded", true, ErrorKind::kTimeout);
  }
  ModelResponse r;
  if (o.response) {
    r.text = *o.response;
  } else {
    const std::string key = std::to_string(options_.seed) + '\x1f' + id + '\x1f' + options_.model +
                            '\x1f' + std::to_string(request.attempt);
    const bool correct = UniformDraw(key) < o.p_correct;
    const std::string gold = o.gold.empty() ? "42" : o.gold;
    r.text = "The answer is " + (correct ? gold : gold + "1") + ".";
  }
  const auto prompt_bytes = request.messages.empty() ? request.prompt.size() : [&] {
    std::size_t n = 0;
    for (const auto& m : request.messages) n += m.content.size();
    return n;
  }();
  r.usage.input = static_cast<std::int64_t>(prompt_bytes / 4) + 1;
  r.usage.output = options_.output_tokens > 0 ? options_.output_tokens
                                              : static_cast<std::int64_t>(r.text.size() / 4) + 1;
  r.finish_reason = "stop";
  r.model = options_.name;
  r.provider_id = "replay-" + id;
  r.simulated = true;
  r.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  co_return r;
}

}  // namespace triage::providers
