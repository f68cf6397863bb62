// The worker role: consumes `<prefix>.reasoning` ({"id"} hand-offs from the router and the
// reaper), leases the job and calls the reasoning model under its long deadline, then finishes
// the job. Start() and Stop() from one thread; the worker lives while its consumer can deliver.
#pragma once
#include <memory>
#include <optional>

#include "app/steps.hpp"

namespace triage::app {

class Worker : public std::enable_shared_from_this<Worker> {
 public:
  explicit Worker(std::shared_ptr<Steps> steps);
  void Start();
  // A graceful stop's first step: no more messages are taken; work in flight goes on.
  void StopFetching();
  void Stop();  // finished offsets are committed; work in flight stays leased
  std::optional<queue::ConsumerStatus> Status() const;  // empty before Start()

 private:
  boost::asio::awaitable<void> ReasonMessage(const queue::Message& m);

  std::shared_ptr<Steps> steps_;
  std::unique_ptr<queue::Consumer> consumer_;
};

}  // namespace triage::app
