// Kafka producer and long-running consumer over librdkafka.
//
// Consumer: one thread polls and hands each message to `handler` (which must not block: it
// posts the work elsewhere and calls the Done callback from any thread when the work is
// durable). Offsets are committed only up to the oldest unfinished message of each partition,
// so a crash re-delivers, never skips. At `max_in_flight` unfinished messages the consumer
// pauses its partitions instead of reading more. A graceful stop is StopFetching(), waiting for
// Status().in_flight to reach 0 (up to a bound), then Stop(): what finished meanwhile is
// committed.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "queue/lag.hpp"
#include "queue/offset_tracker.hpp"

namespace RdKafka {
class KafkaConsumer;
class Producer;
}  // namespace RdKafka

namespace triage::queue {

struct KafkaOptions {
  std::string brokers;  // `kafka.brokers`, env TRIAGE_KAFKA_BROKERS
  // Extra librdkafka properties (e.g. security.protocol), `kafka.properties`.
  std::map<std::string, std::string> properties;
};

struct Message {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string payload;
};

class Producer {
 public:
  explicit Producer(const KafkaOptions& options);
  ~Producer();  // flushes for up to 10 s
  // Asynchronous; `on_delivered(error)` runs on the producer's poll thread with an empty error
  // on success. Never throws for broker trouble: it is reported through the callback.
  void Produce(const std::string& topic, const std::string& key, const std::string& payload,
               std::function<void(std::string error)> on_delivered);
  bool Flush(std::chrono::milliseconds timeout);

 private:
  class DeliveryReports;
  std::unique_ptr<DeliveryReports> reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> running_{true};
  std::thread poller_;
};

struct ConsumerOptions {
  std::string group;
  std::vector<std::string> topics;
  std::size_t max_in_flight = 256;
  int session_timeout_ms = 10000;
  // Every `sample_interval` the consumer thread measures its assigned partitions' backlog (the
  // group's committed offsets and the broker's watermarks: two round trips and one per
  // partition, off the io thread) and hands it to `on_sample`; a failed measurement is skipped.
  // `on_stopped` runs once the consumer has left its group. Both run on the consumer thread.
  std::chrono::milliseconds sample_interval{5000};
  std::function<void(const std::vector<TopicBacklog>&)> on_sample = nullptr;
  std::function<void()> on_stopped = nullptr;
};

// What a readiness probe needs to know of a consumer (thread-safe to read).
struct ConsumerStatus {
  bool running = false;       // its poll thread runs and it was not told to stop fetching
  bool joined = false;        // it has had an assignment from its group (possibly empty)
  std::size_t assigned = 0;   // partitions it holds now
  std::size_t in_flight = 0;  // messages handed out and not yet done
};

class Consumer {
 public:
  using Done = std::function<void()>;
  using Handler = std::function<void(Message message, Done done)>;

  Consumer(const KafkaOptions& kafka, ConsumerOptions options, Handler handler);
  ~Consumer();  // Stop()
  void Start();
  // Pauses every partition (and any assigned later) and hands out no more messages, while it
  // keeps polling so it stays in its group and its finished offsets are still committed.
  void StopFetching();
  // Commits what is finished and leaves the group. In-flight messages are re-delivered to
  // whoever takes their partitions.
  void Stop();
  ConsumerStatus Status() const;

 private:
  class Rebalancer;
  void Loop();
  void CommitFinished();
  void SampleBacklog();

  ConsumerOptions options_;
  Handler handler_;
  std::unique_ptr<Rebalancer> rebalancer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> running_{false};
  std::atomic<bool> fetching_{true};
  std::atomic<bool> joined_{false};
  std::atomic<std::size_t> assigned_{0};
  std::atomic<std::size_t> in_flight_{0};
  std::thread thread_;
  std::mutex finished_mutex_;
  std::vector<Message> finished_;  // offsets done since the last loop turn (payload empty)
  OffsetTracker tracker_;          // consumer thread only
  bool paused_ = false;            // consumer thread only
};

struct TopicSpec {
  std::string name;
  int partitions = 1;
};
// Creates the topics that do not exist yet; throws std::runtime_error naming the topic on any
// other failure.
void EnsureTopics(const KafkaOptions& options, const std::vector<TopicSpec>& topics,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace triage::queue
