#include "queue/kafka.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "core/log.hpp"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
// ThreadSanitizer build only. librdkafka starts its threads and takes its locks through C11
// <threads.h>, which glibc implements without going through the pthread functions that
// ThreadSanitizer (clang 16) intercepts: it would neither set those threads up (its allocator
// crashes in them) nor see their locks (every access under one looks like a race). These
// definitions take the place of glibc's for librdkafka (the executable's symbols come first)
// and call the pthread functions instead; glibc lays mtx_t and cnd_t out as pthread's types.
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>

namespace {
struct ThrdStart {
  thrd_start_t fn;
  void* arg;
};
void* RunThrd(void* p) {
  const ThrdStart start = *static_cast<ThrdStart*>(p);
  delete static_cast<ThrdStart*>(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.fn(start.arg)));
}
int ThrdResult(int rc) {
  if (rc == 0) return thrd_success;
  if (rc == EBUSY) return thrd_busy;
  if (rc == ETIMEDOUT) return thrd_timedout;
  if (rc == ENOMEM || rc == EAGAIN) return thrd_nomem;
  return thrd_error;
}
pthread_mutex_t* Mutex(mtx_t* m) { return reinterpret_cast<pthread_mutex_t*>(m); }
pthread_cond_t* Cond(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }
}  // namespace

extern "C" {
int thrd_create(thrd_t* thread, thrd_start_t fn, void* arg) {
  auto* start = new ThrdStart{fn, arg};
  const int rc = pthread_create(thread, nullptr, RunThrd, start);
  if (rc != 0) delete start;
  return ThrdResult(rc);
}
int thrd_join(thrd_t thread, int* result) {
  void* value = nullptr;
  const int rc = pthread_join(thread, &value);
  if (rc == 0 && result) *result = static_cast<int>(reinterpret_cast<intptr_t>(value));
  return ThrdResult(rc);
}
int thrd_detach(thrd_t thread) { return ThrdResult(pthread_detach(thread)); }
int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int rc = pthread_mutex_init(Mutex(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return ThrdResult(rc);
}
int mtx_lock(mtx_t* m) { return ThrdResult(pthread_mutex_lock(Mutex(m))); }
int mtx_trylock(mtx_t* m) { return ThrdResult(pthread_mutex_trylock(Mutex(m))); }
int mtx_timedlock(mtx_t* m, const struct timespec* until) {
  return ThrdResult(pthread_mutex_timedlock(Mutex(m), until));
}
int mtx_unlock(mtx_t* m) { return ThrdResult(pthread_mutex_unlock(Mutex(m))); }
void mtx_destroy(mtx_t* m) { pthread_mutex_destroy(Mutex(m)); }
int cnd_init(cnd_t* c) { return ThrdResult(pthread_cond_init(Cond(c), nullptr)); }
int cnd_signal(cnd_t* c) { return ThrdResult(pthread_cond_signal(Cond(c))); }
int cnd_broadcast(cnd_t* c) { return ThrdResult(pthread_cond_broadcast(Cond(c))); }
int cnd_wait(cnd_t* c, mtx_t* m) { return ThrdResult(pthread_cond_wait(Cond(c), Mutex(m))); }
int cnd_timedwait(cnd_t* c, mtx_t* m, const struct timespec* until) {
  return ThrdResult(pthread_cond_timedwait(Cond(c), Mutex(m), until));
}
void cnd_destroy(cnd_t* c) { pthread_cond_destroy(Cond(c)); }
}
#endif
#endif

namespace triage::queue {
namespace {

using Opaque = std::function<void(std::string)>;

// librdkafka's own lines go to the "kafka" logger (so they follow log.format and redaction),
// not straight to stderr. Called on librdkafka's threads; spdlog's loggers are thread-safe.
void LogToSpdlog(const rd_kafka_t*, int level, const char* facility, const char* message) {
  static const auto log = core::Logger("kafka");
  const auto spd = level <= 3   ? spdlog::level::err
                   : level == 4 ? spdlog::level::warn
                   : level <= 6 ? spdlog::level::info
                                : spdlog::level::debug;
  log->log(spd, "{}: {}", facility, message);
}

std::unique_ptr<RdKafka::Conf> MakeConf(const KafkaOptions& options,
                                        const std::map<std::string, std::string>& extra) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const std::string& key, const std::string& value) {
    if (conf->set(key, value, err) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error("kafka property " + key + ": " + err +
                               " (Hint: check `kafka.properties`)");
  };
  set("bootstrap.servers", options.brokers);
  for (const auto& [k, v] : extra) set(k, v);
  for (const auto& [k, v] : options.properties) set(k, v);
  rd_kafka_conf_set_log_cb(conf->c_ptr_global(), LogToSpdlog);
  return conf;
}

}  // namespace

class Producer::DeliveryReports : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    std::unique_ptr<Opaque> callback(static_cast<Opaque*>(message.msg_opaque()));
    if (!callback) return;
    (*callback)(message.err() == RdKafka::ERR_NO_ERROR ? std::string() : message.errstr());
  }
};

Producer::Producer(const KafkaOptions& options) : reports_(std::make_unique<DeliveryReports>()) {
  auto conf = MakeConf(options, {{"enable.idempotence", "true"},
                                 {"acks", "all"},
                                 {"linger.ms", "2"},
                                 {"message.timeout.ms", "30000"}});
  std::string err;
  conf->set("dr_cb", reports_.get(), err);
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) throw std::runtime_error("kafka producer: " + err);
  poller_ = std::thread([this] {
    while (running_) producer_->poll(50);
  });
}

Producer::~Producer() {
  Flush(std::chrono::seconds(10));
  running_ = false;
  poller_.join();
  producer_->poll(0);
}

void Producer::Produce(const std::string& topic, const std::string& key, const std::string& payload,
                       std::function<void(std::string error)> on_delivered) {
  auto* opaque = new Opaque(std::move(on_delivered));
  for (int attempt = 0;; ++attempt) {
    const auto err = producer_->produce(
        topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
        const_cast<char*>(payload.data()), payload.size(), key.data(), key.size(), 0, opaque);
    if (err == RdKafka::ERR_NO_ERROR) return;
    if (err == RdKafka::ERR__QUEUE_FULL && attempt < 100) {
      producer_->poll(10);  // the local queue drains as the broker acknowledges
      continue;
    }
    std::unique_ptr<Opaque> callback(opaque);
    (*callback)(RdKafka::err2str(err));
    return;
  }
}

bool Producer::Flush(std::chrono::milliseconds timeout) {
  return producer_->flush(static_cast<int>(timeout.count())) == RdKafka::ERR_NO_ERROR;
}

class Consumer::Rebalancer : public RdKafka::RebalanceCb {
 public:
  explicit Rebalancer(Consumer& owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    spdlog::info("kafka group {}: {} {} partitions", owner_.options_.group,
                 err == RdKafka::ERR__ASSIGN_PARTITIONS ? "assigned" : "revoked",
                 partitions.size());
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      consumer->assign(partitions);
      owner_.assigned_ = partitions.size();
      owner_.joined_ = true;
      // librdkafka keeps a partition's pause through revocation and re-assignment, so one paused
      // before a rebalance would never be read again once the loop has resumed (it resumes only
      // what is assigned at the time): give every assigned partition the consumer's state now.
      if (owner_.paused_)
        consumer->pause(partitions);
      else
        consumer->resume(partitions);
    } else {
      owner_.CommitFinished();  // store what is done before the auto-commit on unassign
      for (auto* tp : partitions) owner_.tracker_.Forget({tp->topic(), tp->partition()});
      consumer->unassign();
      owner_.assigned_ = 0;
    }
  }

 private:
  Consumer& owner_;
};

Consumer::Consumer(const KafkaOptions& kafka, ConsumerOptions options, Handler handler)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      rebalancer_(std::make_unique<Rebalancer>(*this)) {
  auto conf = MakeConf(kafka, {{"group.id", options_.group},
                               {"enable.auto.commit", "true"},
                               {"enable.auto.offset.store", "false"},
                               {"auto.commit.interval.ms", "500"},
                               {"auto.offset.reset", "earliest"},
                               {"session.timeout.ms", std::to_string(options_.session_timeout_ms)},
                               {"heartbeat.interval.ms",
                                std::to_string(std::max(100, options_.session_timeout_ms / 4))}});
  std::string err;
  conf->set("rebalance_cb", rebalancer_.get(), err);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw std::runtime_error("kafka consumer: " + err);
}

Consumer::~Consumer() { Stop(); }

void Consumer::Start() {
  const auto err = consumer_->subscribe(options_.topics);
  if (err != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error("kafka subscribe: " + RdKafka::err2str(err));
  running_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void Consumer::StopFetching() { fetching_ = false; }

void Consumer::Stop() {
  if (!thread_.joinable()) return;
  running_ = false;
  thread_.join();
  // Nothing calls the handler now. It holds its role (a router, a worker), which holds this
  // consumer: released, the stopped role can be freed once its owner lets it go.
  handler_ = nullptr;
}

ConsumerStatus Consumer::Status() const {
  return {running_ && fetching_, joined_, assigned_, in_flight_};
}

void Consumer::CommitFinished() {
  std::vector<Message> finished;
  {
    std::lock_guard lock(finished_mutex_);
    finished.swap(finished_);
  }
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& m : finished) {
    if (auto next = tracker_.Finished({m.topic, m.partition}, m.offset))
      offsets.push_back(RdKafka::TopicPartition::create(m.topic, m.partition, *next));
  }
  if (!offsets.empty()) {
    consumer_->offsets_store(offsets);
    RdKafka::TopicPartition::destroy(offsets);
  }
}

// A measurement that cannot finish quickly is skipped: the next one comes an interval later.
constexpr int kSampleTimeoutMs = 2000;

void Consumer::SampleBacklog() {
  std::vector<RdKafka::TopicPartition*> assigned;
  if (consumer_->assignment(assigned) != RdKafka::ERR_NO_ERROR) return;
  std::unique_ptr<std::vector<RdKafka::TopicPartition*>,
                  void (*)(std::vector<RdKafka::TopicPartition*>*)>
      holder(&assigned, [](auto* v) { RdKafka::TopicPartition::destroy(*v); });
  std::vector<PartitionOffsets> offsets;
  if (!assigned.empty()) {
    if (const auto err = consumer_->committed(assigned, kSampleTimeoutMs);
        err != RdKafka::ERR_NO_ERROR) {
      spdlog::debug("kafka group {}: committed offsets not read: {}", options_.group,
                    RdKafka::err2str(err));
      return;
    }
    for (auto* tp : assigned) {
      std::int64_t low = 0, high = 0;
      if (const auto err = consumer_->query_watermark_offsets(tp->topic(), tp->partition(), &low,
                                                              &high, kSampleTimeoutMs);
          err != RdKafka::ERR_NO_ERROR) {
        spdlog::debug("kafka group {}: watermarks of {} not read: {}", options_.group, tp->topic(),
                      RdKafka::err2str(err));
        return;
      }
      offsets.push_back({tp->topic(), tp->partition(), low, high, tp->offset(), paused_});
    }
  }
  options_.on_sample(BacklogByTopic(options_.topics, offsets));
}

void Consumer::Loop() {
  auto log = spdlog::default_logger();
  auto next_sample = std::chrono::steady_clock::now();
  while (running_) {
    CommitFinished();
    if (options_.on_sample && std::chrono::steady_clock::now() >= next_sample) {
      SampleBacklog();
      next_sample = std::chrono::steady_clock::now() + options_.sample_interval;
    }
    const auto in_flight = tracker_.InFlight();
    // Paused for good once told to stop fetching; the rebalance callback keeps new partitions
    // paused too, since it gives them paused_.
    const bool full = in_flight >= options_.max_in_flight || !fetching_;
    if (!paused_ && full) {
      std::vector<RdKafka::TopicPartition*> assigned;
      consumer_->assignment(assigned);
      consumer_->pause(assigned);
      RdKafka::TopicPartition::destroy(assigned);
      paused_ = true;
    } else if (paused_ && fetching_ && in_flight <= options_.max_in_flight / 2) {
      std::vector<RdKafka::TopicPartition*> assigned;
      consumer_->assignment(assigned);
      consumer_->resume(assigned);
      RdKafka::TopicPartition::destroy(assigned);
      paused_ = false;
    }
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(paused_ ? 20 : 100));
    if (msg->err() == RdKafka::ERR__TIMED_OUT || msg->err() == RdKafka::ERR__PARTITION_EOF)
      continue;
    if (msg->err() != RdKafka::ERR_NO_ERROR) {
      log->warn("kafka consumer group={}: {}", options_.group, msg->errstr());
      continue;
    }
    // A message fetched before the pause took effect is not started: its offset is never
    // stored, so it is delivered again to whoever reads the partition next.
    if (!fetching_) continue;
    Message m{msg->topic_name(), msg->partition(), msg->offset(),
              msg->key() ? *msg->key() : std::string(),
              std::string(static_cast<const char*>(msg->payload()), msg->len())};
    tracker_.Started({m.topic, m.partition}, m.offset);
    ++in_flight_;
    Message finished{m.topic, m.partition, m.offset, {}, {}};
    handler_(std::move(m), [this, finished = std::move(finished)] {
      std::lock_guard lock(finished_mutex_);
      finished_.push_back(finished);
      --in_flight_;
    });
  }
  CommitFinished();
  consumer_->close();  // commits the stored offsets and leaves the group
  if (options_.on_stopped) options_.on_stopped();
}

void EnsureTopics(const KafkaOptions& options, const std::vector<TopicSpec>& topics,
                  std::chrono::milliseconds timeout) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", options.brokers.c_str(), errstr,
                        sizeof errstr) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("kafka.brokers: ") + errstr);
  }
  for (const auto& [k, v] : options.properties)
    rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr);
  rd_kafka_conf_set_log_cb(conf, LogToSpdlog);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) throw std::runtime_error(std::string("kafka admin: ") + errstr);
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> holder(rk, &rd_kafka_destroy);

  std::vector<rd_kafka_NewTopic_t*> new_topics;
  for (const auto& t : topics)
    new_topics.push_back(
        rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, -1, errstr, sizeof errstr));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* admin = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(admin, static_cast<int>(timeout.count()), errstr,
                                            sizeof errstr);
  rd_kafka_CreateTopics(rk, new_topics.data(), new_topics.size(), admin, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);
  std::string failure;
  if (!event) {
    failure = "no answer from " + options.brokers;
  } else if (rd_kafka_event_error(event)) {
    failure = rd_kafka_event_error_string(event);
  } else {
    size_t count = 0;
    const auto* results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count; ++i) {
      const auto code = rd_kafka_topic_result_error(results[i]);
      if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        failure += std::string(rd_kafka_topic_result_name(results[i])) + ": " +
                   rd_kafka_topic_result_error_string(results[i]) + "; ";
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(admin);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
  if (!failure.empty())
    throw std::runtime_error("creating kafka topics: " + failure +
                             " (Hint: check `kafka.brokers` and that the broker is up)");
}

}  // namespace triage::queue
