#include "queue/kafka.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace triage::queue {
namespace {

using Opaque = std::function<void(std::string)>;

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

void Consumer::Stop() {
  if (!thread_.joinable()) return;
  running_ = false;
  thread_.join();
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

void Consumer::Loop() {
  auto log = spdlog::default_logger();
  while (running_) {
    CommitFinished();
    const auto in_flight = tracker_.InFlight();
    if (!paused_ && in_flight >= options_.max_in_flight) {
      std::vector<RdKafka::TopicPartition*> assigned;
      consumer_->assignment(assigned);
      consumer_->pause(assigned);
      RdKafka::TopicPartition::destroy(assigned);
      paused_ = true;
    } else if (paused_ && in_flight <= options_.max_in_flight / 2) {
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
    Message m{msg->topic_name(), msg->partition(), msg->offset(),
              msg->key() ? *msg->key() : std::string(),
              std::string(static_cast<const char*>(msg->payload()), msg->len())};
    tracker_.Started({m.topic, m.partition}, m.offset);
    Message finished{m.topic, m.partition, m.offset, {}, {}};
    handler_(std::move(m), [this, finished = std::move(finished)] {
      std::lock_guard lock(finished_mutex_);
      finished_.push_back(finished);
    });
  }
  CommitFinished();
  consumer_->close();  // commits the stored offsets and leaves the group
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
