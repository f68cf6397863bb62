// The reaper, run beside the router: every `reaper_interval_seconds` it returns jobs whose lease
// ran out (or whose message never arrived) to their queue and sends them again. It stops when
// Steps::running is cleared.
#pragma once
#include <memory>

#include "app/steps.hpp"

namespace triage::app {

class Reaper : public std::enable_shared_from_this<Reaper> {
 public:
  explicit Reaper(std::shared_ptr<Steps> steps);
  void Start();

 private:
  boost::asio::awaitable<void> Loop();

  std::shared_ptr<Steps> steps_;
};

}  // namespace triage::app
