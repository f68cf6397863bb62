// The model file format: round trip, and every kind of damage refused with a clear message.
#include "classify/model_file.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "classify/trained_classifier.hpp"

namespace triage::classify {
namespace {

ModelParams SmallModel() {
  ModelParams p;
  p.features.hash_bits = 8;
  p.metadata = "test model";
  for (int j = 0; j < kDenseCount; ++j) {
    p.dense_mean[j] = 0.5f * j;
    p.dense_inv_std[j] = 1.0f;
  }
  p.bias = {-1, 0.5f, 0.25f, 0, 1};
  p.dense_weights.assign(kDenseCount * core::kTierCount, 0.01f);
  p.hashed_weights.resize((size_t{1} << 8) * core::kTierCount);
  for (size_t i = 0; i < p.hashed_weights.size(); ++i) p.hashed_weights[i] = 0.001f * i;
  return p;
}

std::string ErrorOf(std::string_view bytes) {
  auto parsed = ParseModel(bytes);
  const auto* err = std::get_if<std::string>(&parsed);
  return err ? *err : "";
}

// Recomputes the trailing checksum so a test can reach the checks behind it.
void Reseal(std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i + 8 < bytes.size(); ++i)
    h = (h ^ static_cast<unsigned char>(bytes[i])) * 0x100000001b3ULL;
  for (int i = 0; i < 8; ++i)
    bytes[bytes.size() - 8 + i] = static_cast<char>((h >> (8 * i)) & 0xff);
}

TEST(ModelFile, RoundTripsExactly) {
  const auto p = SmallModel();
  const auto bytes = SerializeModel(p);
  auto parsed = ParseModel(bytes);
  ASSERT_TRUE(std::holds_alternative<ModelParams>(parsed)) << std::get<std::string>(parsed);
  const auto& q = std::get<ModelParams>(parsed);
  EXPECT_EQ(q.metadata, p.metadata);
  EXPECT_EQ(q.features.hash_bits, 8);
  EXPECT_EQ(q.bias, p.bias);
  EXPECT_EQ(q.dense_mean, p.dense_mean);
  EXPECT_EQ(q.hashed_weights, p.hashed_weights);
  EXPECT_EQ(SerializeModel(q), bytes);
}

TEST(ModelFile, HeaderIsLittleEndianAndDocumented) {
  const auto bytes = SerializeModel(SmallModel());
  EXPECT_EQ(bytes.substr(0, 8), "TRIAGECM");
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]), kModelFormatVersion);
  EXPECT_EQ(static_cast<unsigned char>(bytes[12]), core::kTierCount);
  EXPECT_EQ(static_cast<unsigned char>(bytes[16]), kDenseCount);
  EXPECT_EQ(static_cast<unsigned char>(bytes[20]), 8);  // hash_bits
  const size_t floats = 2 * kDenseCount + 5 + kDenseCount * 5 + 256 * 5;
  EXPECT_EQ(bytes.size(), 40 + std::string("test model").size() + 4 * floats + 8);
}

TEST(ModelFile, RefusesForeignFiles) {
  EXPECT_NE(ErrorOf("").find("bad magic"), std::string::npos);
  EXPECT_NE(ErrorOf("GIF89a......").find("bad magic"), std::string::npos);
}

TEST(ModelFile, RefusesEveryTruncation) {
  const auto bytes = SerializeModel(SmallModel());
  for (size_t len :
       {size_t{8}, size_t{20}, size_t{47}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    const auto err = ErrorOf(std::string_view(bytes).substr(0, len));
    EXPECT_NE(err.find("truncated"), std::string::npos) << len << ": " << err;
  }
}

TEST(ModelFile, RefusesTrailingBytes) {
  auto bytes = SerializeModel(SmallModel()) + "x";
  EXPECT_NE(ErrorOf(bytes).find("unexpected bytes"), std::string::npos);
}

TEST(ModelFile, RefusesAFlippedBitAnywhereInTheBody) {
  const auto good = SerializeModel(SmallModel());
  for (size_t pos : {size_t{45}, good.size() / 2, good.size() - 9, good.size() - 1}) {
    auto bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    EXPECT_NE(ErrorOf(bad).find("checksum"), std::string::npos) << pos;
  }
}

TEST(ModelFile, RefusesOtherVersionsAndShapes) {
  auto bytes = SerializeModel(SmallModel());
  auto v2 = bytes;
  v2[8] = 2;
  EXPECT_NE(ErrorOf(v2).find("unsupported format version 2"), std::string::npos);
  auto tiers = bytes;
  tiers[12] = 4;
  EXPECT_NE(ErrorOf(tiers).find("4 tiers"), std::string::npos);
  auto bits = bytes;
  bits[20] = 40;
  EXPECT_NE(ErrorOf(bits).find("hash_bits"), std::string::npos);
}

TEST(ModelFile, RefusesNonFiniteWeights) {
  auto bytes = SerializeModel(SmallModel());
  const uint32_t nan = std::bit_cast<uint32_t>(std::nanf(""));
  const size_t first_float = 40 + std::string("test model").size();
  std::memcpy(&bytes[first_float], &nan, 4);  // little-endian host assumed by this test only
  Reseal(bytes);
  EXPECT_NE(ErrorOf(bytes).find("not a finite number"), std::string::npos);
}

TEST(TrainedClassifierLoad, NamesTheFileAndTheProblem) {
  const auto missing = TrainedClassifier::Load("/nonexistent/model.bin");
  EXPECT_FALSE(missing);
  EXPECT_NE(missing.error.find("cannot open classifier model /nonexistent/model.bin"),
            std::string::npos);

  const auto path = std::filesystem::temp_directory_path() / "triage_classify_truncated.bin";
  const auto bytes = SerializeModel(SmallModel());
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  const auto truncated = TrainedClassifier::Load(path);
  EXPECT_FALSE(truncated);
  EXPECT_NE(truncated.error.find("refusing classifier model"), std::string::npos);
  EXPECT_NE(truncated.error.find("truncated"), std::string::npos);

  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  const auto good = TrainedClassifier::Load(path);
  ASSERT_TRUE(good) << good.error;
  EXPECT_EQ(good.classifier->params().metadata, "test model");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace triage::classify
