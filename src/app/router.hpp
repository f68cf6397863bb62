// The router role: consumes `<prefix>.jobs`. Each message is taken in (parsed by intake, its row
// stored) and classified; the plan of its domain x tier then runs inline under a lease until it
// finishes or reaches a rung served by the reasoning queue, where the job (attempts and the
// engine's progress) is handed to the worker -- or straight to the worker when the plan starts
// there.
// Start() and Stop() from one thread; the router lives while its consumer can deliver.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/plan_run.hpp"
#include "app/steps.hpp"
#include "classify/heuristic.hpp"

namespace triage::app {

using Classifier = std::function<classify::Classification(std::string_view task)>;

class Router : public std::enable_shared_from_this<Router> {
 public:
  Router(std::shared_ptr<Steps> steps, Classifier classifier);
  void Start();
  // A graceful stop's first step: no more messages are taken; work in flight goes on.
  void StopFetching();
  void Stop();  // finished offsets are committed; work in flight stays leased
  std::optional<queue::ConsumerStatus> Status() const;  // empty before Start()

 private:
  boost::asio::awaitable<void> RouteMessage(const queue::Message& m);
  boost::asio::awaitable<void> RouteJob(const std::string& id);
  boost::asio::awaitable<void> Escalate(const store::JobRecord& job, const Lease& lease,
                                        PlanRun run);

  std::shared_ptr<Steps> steps_;
  Classifier classifier_;
  std::unique_ptr<queue::Consumer> consumer_;
};

}  // namespace triage::app
