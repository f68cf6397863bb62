// The router model file: a round trip keeps every parameter, and a corrupt, truncated, foreign
// or other-version file is refused with a message saying which.
#include "route/router_model.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "classify/binary_io.hpp"
#include "learn/router_training.hpp"
#include "route/learned_router.hpp"

namespace triage::route {
namespace {

RouterParams SmallModel() {
  RouterFeatureConfig config;
  config.kind = RouterKind::kAfter;
  config.text.hash_bits = 8;
  config.answer_text = true;
  config.vocabulary = {"domain=math", "platform=x"};
  const RouterAnswer answer{"2 + 2 = 4\n#### 4", {}};
  std::vector<learn::RouterExample> ex;
  for (int i = 0; i < 20; ++i) {
    const RouterTask task{i % 2 ? "What is two plus two?" : "Compute 2+2, please.",
                          std::array<double, core::kTierCount>{0.1, 0.6, 0.2, 0.05, 0.05},
                          {{"domain", "math"}}};
    ex.push_back({i % 3 ? "a" : "b", BuildRouterRow(config, task, &answer), i % 2 ? 1.0 : 0.0});
  }
  return learn::TrainRouter(ex, config, {}, "trained for a test");
}

std::string Bytes() { return SerializeRouter(SmallModel()); }

std::string Error(std::string_view bytes) {
  auto parsed = ParseRouter(bytes);
  return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "";
}

// Rewrites the trailing checksum so a deliberate edit passes the integrity check.
std::string Reseal(std::string bytes) {
  bytes.resize(bytes.size() - 8);
  classify::PutLe<uint64_t>(bytes, classify::Fnv1a64(bytes));
  return bytes;
}

TEST(RouterModelFile, RoundTripsEveryParameter) {
  const auto params = SmallModel();
  const auto bytes = SerializeRouter(params);
  auto parsed = ParseRouter(bytes);
  ASSERT_TRUE(std::holds_alternative<RouterParams>(parsed)) << std::get<std::string>(parsed);
  const auto& p = std::get<RouterParams>(parsed);
  EXPECT_EQ(p.features.kind, RouterKind::kAfter);
  EXPECT_TRUE(p.features.answer_text);
  EXPECT_EQ(p.features.vocabulary, params.features.vocabulary);
  EXPECT_EQ(p.metadata, "trained for a test");
  ASSERT_EQ(p.models.size(), 2u);
  EXPECT_EQ(p.models[0].name, "a");
  EXPECT_EQ(p.models[0].rows, params.models[0].rows);
  EXPECT_EQ(p.models[1].linear.hashed_weights, params.models[1].linear.hashed_weights);
  EXPECT_EQ(p.models[1].linear.dense_weights, params.models[1].linear.dense_weights);
  EXPECT_EQ(SerializeRouter(p), bytes);
}

TEST(RouterModelFile, RefusesTruncatedFiles) {
  const auto bytes = Bytes();
  for (size_t keep : {size_t{0}, size_t{7}, size_t{30}, bytes.size() / 2, bytes.size() - 1})
    EXPECT_FALSE(Error(std::string_view(bytes).substr(0, keep)).empty()) << keep;
  EXPECT_NE(Error(std::string_view(bytes).substr(0, bytes.size() / 2)).find("truncated"),
            std::string::npos);
}

TEST(RouterModelFile, RefusesAFlippedByte) {
  auto bytes = Bytes();
  bytes[bytes.size() / 2] ^= 0x40;
  EXPECT_NE(Error(bytes).find("checksum mismatch"), std::string::npos) << Error(bytes);
}

TEST(RouterModelFile, RefusesAnotherVersionWithAHint) {
  auto bytes = Bytes();
  bytes[8] = 9;  // version field
  const auto err = Error(Reseal(bytes));
  EXPECT_NE(err.find("unsupported format version 9"), std::string::npos) << err;
  EXPECT_NE(err.find("triage router train"), std::string::npos) << err;
}

TEST(RouterModelFile, RefusesAForeignFile) {
  EXPECT_NE(Error("TRIAGECM and then a classifier").find("not a triage router model"),
            std::string::npos);
}

TEST(RouterModelFile, RefusesTrailingBytesAndAnUnknownKind) {
  auto bytes = Bytes();
  bytes.insert(bytes.size() - 8, "xx");
  EXPECT_NE(Error(Reseal(bytes)).find("unexpected bytes"), std::string::npos);
  auto kind = Bytes();
  kind[12] = 7;
  EXPECT_NE(Error(Reseal(kind)).find("unknown router kind"), std::string::npos);
}

TEST(LearnedRouterLoad, NamesTheFileAndTheProblem) {
  const auto dir = std::filesystem::temp_directory_path() / "triage_router_model_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / "cut.bin";
  const auto bytes = Bytes();
  std::ofstream(path, std::ios::binary) << bytes.substr(0, 100);
  const auto loaded = LearnedRouter::Load(path);
  EXPECT_FALSE(loaded);
  EXPECT_NE(loaded.error.find(path.string()), std::string::npos);
  EXPECT_FALSE(LearnedRouter::Load(dir / "missing.bin"));
  std::ofstream(path, std::ios::binary) << bytes;
  const auto good = LearnedRouter::Load(path);
  ASSERT_TRUE(good) << good.error;
  EXPECT_EQ(good.router->models(), (std::vector<std::string>{"a", "b"}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace triage::route
