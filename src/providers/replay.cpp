#include "providers/replay.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "replay/grade.hpp"
#include "replay/set.hpp"

namespace triage::providers {

ReplayModel::ReplayModel(ReplayOptions options) : options_(std::move(options)) {
  // replay::ReadReplaySet checks the whole set (a bad record throws ReplayError, a
  // std::runtime_error naming its file and line); this model keeps its own outcomes.
  const auto set = replay::ReadReplaySet(options_.dir);
  for (const auto& item : set.items)
    if (item.text) by_text_[*item.text] = item.id;
  for (const auto& o : set.outcomes) {
    if (o.model != options_.model) continue;
    Outcome out;
    out.gold = set.FindItem(o.item)->gold.value_or("");
    out.response = o.response;
    out.p_correct = o.p_correct.value_or(0);
    outcomes_[o.item] = std::move(out);
  }
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
    const bool correct =
        replay::SampleDraw(options_.seed, id, options_.model, request.attempt) < o.p_correct;
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
