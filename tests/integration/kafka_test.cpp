// The Kafka producer and consumer against the real broker: delivery, and commits that never
// pass an unfinished message.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>

#include "queue/kafka.hpp"
#include "support.hpp"

namespace triage::queue {
namespace {

KafkaOptions Options() { return {testing::KafkaBrokers(), {}}; }

void ProduceAll(const std::string& topic, int count) {
  Producer producer(Options());
  std::promise<void> all;
  std::atomic<int> left{count};
  std::atomic<int> failed{0};
  for (int i = 0; i < count; ++i)
    producer.Produce(topic, "k" + std::to_string(i), "m" + std::to_string(i),
                     [&](std::string error) {
                       if (!error.empty()) ++failed;
                       if (--left == 0) all.set_value();
                     });
  ASSERT_EQ(all.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(failed, 0);
}

TEST(Kafka, EnsureTopicsIsIdempotent) {
  const auto topic = testing::UniqueName("test.topics.");
  EnsureTopics(Options(), {{topic, 2}});
  EXPECT_NO_THROW(EnsureTopics(Options(), {{topic, 2}}));
}

TEST(Kafka, EnsureTopicsNamesTheProblem) {
  EXPECT_THROW(EnsureTopics(Options(), {{"bad topic name!", 1}}), std::runtime_error);
}

TEST(Kafka, ProducerReportsDeliveryAndConsumerReceivesEveryMessage) {
  const auto topic = testing::UniqueName("test.consume.");
  EnsureTopics(Options(), {{topic, 3}});
  ProduceAll(topic, 30);
  std::mutex mutex;
  std::set<std::string> seen;
  Consumer consumer(Options(), {testing::UniqueName("g"), {topic}, 8, 6000},
                    [&](Message m, Consumer::Done done) {
                      {
                        std::lock_guard lock(mutex);
                        seen.insert(m.payload);
                      }
                      done();
                    });
  consumer.Start();
  EXPECT_TRUE(testing::WaitFor([&] {
    std::lock_guard lock(mutex);
    return seen.size() == 30;
  }, std::chrono::seconds(60)));
  consumer.Stop();
}

TEST(Kafka, AnUnfinishedMessageIsRedeliveredAfterARestartAndFinishedOnesAreNot) {
  const auto topic = testing::UniqueName("test.commit.");
  const auto group = testing::UniqueName("g");
  EnsureTopics(Options(), {{topic, 1}});
  ProduceAll(topic, 10);
  std::mutex mutex;
  std::vector<std::int64_t> first_run;
  {
    // Finishes every message but offset 4, out of order.
    Consumer consumer(Options(), {group, {topic}, 64, 6000}, [&](Message m, Consumer::Done done) {
      std::lock_guard lock(mutex);
      first_run.push_back(m.offset);
      if (m.offset != 4) done();
    });
    consumer.Start();
    ASSERT_TRUE(testing::WaitFor([&] {
      std::lock_guard lock(mutex);
      return first_run.size() == 10;
    }, std::chrono::seconds(60)));
    consumer.Stop();
  }
  std::vector<std::int64_t> second_run;
  Consumer consumer(Options(), {group, {topic}, 64, 6000}, [&](Message m, Consumer::Done done) {
    std::lock_guard lock(mutex);
    second_run.push_back(m.offset);
    done();
  });
  consumer.Start();
  ASSERT_TRUE(testing::WaitFor([&] {
    std::lock_guard lock(mutex);
    return second_run.size() >= 6;
  }, std::chrono::seconds(60)));
  consumer.Stop();
  std::lock_guard lock(mutex);
  EXPECT_EQ(second_run.front(), 4);  // resumes at the unfinished message, not past it
  EXPECT_EQ(second_run.size(), 6u);  // 4..9: nothing before it comes again
}

TEST(Kafka, PausesAtMaxInFlightAndResumesAsWorkFinishes) {
  const auto topic = testing::UniqueName("test.pause.");
  EnsureTopics(Options(), {{topic, 1}});
  ProduceAll(topic, 40);
  std::mutex mutex;
  std::vector<Consumer::Done> pending;
  std::size_t received = 0, peak = 0;
  Consumer consumer(Options(), {testing::UniqueName("g"), {topic}, 10, 6000},
                    [&](Message, Consumer::Done done) {
                      std::lock_guard lock(mutex);
                      ++received;
                      pending.push_back(std::move(done));
                      peak = std::max(peak, pending.size());
                    });
  consumer.Start();
  // Finish work in batches; the consumer must never hold more than max_in_flight plus what one
  // poll batch delivers before it pauses.
  ASSERT_TRUE(testing::WaitFor([&] {
    std::lock_guard lock(mutex);
    if (pending.size() >= 10) {
      for (auto& d : pending) d();
      pending.clear();
    }
    return received == 40;
  }, std::chrono::seconds(60)));
  consumer.Stop();
  EXPECT_LE(peak, 12u);
}

}  // namespace
}  // namespace triage::queue
