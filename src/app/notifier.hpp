// The notifier role: leases due outbox rows (at most `notify.max_in_flight` at once), publishes
// each completion event to `<prefix>.completed` and POSTs it to the job's callback URL with
// Standard Webhooks headers, retrying failures on the policy's schedule. Deliveries run on one
// strand; the loop stops when Steps::running is cleared. Every `metrics.sample_interval_ms` it
// measures the outbox depth for the metrics.
#pragma once
#include <atomic>
#include <boost/asio/strand.hpp>
#include <memory>

#include "app/steps.hpp"

namespace triage::app {

class Notifier : public std::enable_shared_from_this<Notifier> {
 public:
  explicit Notifier(std::shared_ptr<Steps> steps);
  void Start();
  std::size_t InFlight() const { return in_flight_; }  // deliveries under way

 private:
  boost::asio::awaitable<void> Loop();
  boost::asio::awaitable<void> Deliver(store::OutboxItem item);
  boost::asio::awaitable<void> SampleDepth();

  std::shared_ptr<Steps> steps_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::atomic<std::size_t> in_flight_{0};
};

}  // namespace triage::app
