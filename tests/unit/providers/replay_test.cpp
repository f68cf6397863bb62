// `replay` answers from recorded outcomes (tests/fixtures/replay, the shape of shared/data/replay).
#include "providers/replay.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <fstream>

namespace triage::providers {
namespace {

ReplayOptions Options() {
  ReplayOptions o;
  o.name = "replayed";
  o.dir = std::string(TRIAGE_SOURCE_DIR) + "/tests/fixtures/replay";
  o.model = "recorded-model";
  o.pricing = {1'000'000, 1'000'000, 0};
  return o;
}

ModelResponse Ask(ReplayModel& model, ModelRequest request) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(
      io, model.Complete(request, std::chrono::steady_clock::now() + std::chrono::seconds(5)),
      boost::asio::use_future);
  io.run();
  return f.get();
}

TEST(Replay, AnswersARecordedResponseFoundByItsPromptText) {
  ReplayModel model(Options());
  EXPECT_EQ(model.Items(), 3u);
  ModelRequest r;
  r.prompt = "What is 6 times 7?";
  const auto out = Ask(model, r);
  EXPECT_EQ(out.text, "6 times 7 is 42.\n#### 42");
  EXPECT_EQ(out.provider_id, "replay-t/1");
  EXPECT_TRUE(out.simulated);
  EXPECT_GT(out.usage.input, 0);
  EXPECT_GT(out.usage.output, 0);
}

TEST(Replay, SamplesPCorrectDeterministicallyByAttempt) {
  ReplayModel model(Options());
  ModelRequest r;
  r.sim_hints["replay_item"] = "t/2";
  int right = 0;
  for (int attempt = 0; attempt < 200; ++attempt) {
    r.attempt = attempt;
    const auto first = Ask(model, r).text;
    EXPECT_EQ(Ask(model, r).text, first);  // same attempt, same answer
    right += first == "The answer is 4." ? 1 : 0;
  }
  EXPECT_GT(right, 70);  // p = 0.5 over 200 draws
  EXPECT_LT(right, 130);
  r.sim_hints["replay_item"] = "t/3";
  EXPECT_EQ(Ask(model, r).text, "The answer is 42.");  // no gold: a placeholder answer
}

TEST(Replay, AnUnknownItemIsANonRetryableError) {
  ReplayModel model(Options());
  ModelRequest r;
  r.prompt = "never recorded";
  try {
    Ask(model, r);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_FALSE(e.Retryable());
    EXPECT_EQ(e.Kind(), ErrorKind::kRequest);
  }
  auto missing = Options();
  missing.model = "no-such-model";
  EXPECT_THROW(ReplayModel{missing}, std::runtime_error);
}

// The set is read by replay::ReadReplaySet: a malformed one is refused with its file and line
// instead of being read in part (here a second outcome for the same item and model).
TEST(Replay, AMalformedSetIsRefusedNamingItsLine) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("triage-replay-provider-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "items.jsonl") << R"({"id": "t/1", "text": "What is 2 + 2?", "gold": "4"})"
                                        "\n";
  std::ofstream(dir / "outcomes.jsonl")
      << R"({"item": "t/1", "model": "recorded-model", "response": "#### 4"})"
         "\n"
         R"({"item": "t/1", "model": "recorded-model", "response": "#### 5"})"
         "\n";
  auto options = Options();
  options.dir = dir.string();
  try {
    ReplayModel model(options);
    ADD_FAILURE() << "a set with a repeated (item, model) pair was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("outcomes.jsonl:2"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace triage::providers
