#include "app/router_cli.hpp"

#include <iostream>
#include <map>
#include <memory>

#include "learn/router_commands.hpp"

namespace triage::app {
namespace {

void Check(int rc) {
  if (rc != 0) throw CLI::RuntimeError(rc);
}

const std::map<std::string, route::RouterKind> kKinds = {{"before", route::RouterKind::kBefore},
                                                         {"after", route::RouterKind::kAfter}};
const std::map<std::string, learn::RouterSplit> kTrainSplits = {
    {"train", learn::RouterSplit::kTrain}, {"fit", learn::RouterSplit::kFit}};
const std::map<std::string, learn::RouterSplit> kEvalSplits = {
    {"test", learn::RouterSplit::kTest},
    {"validation", learn::RouterSplit::kValidation},
    {"train", learn::RouterSplit::kTrain},
    {"fit", learn::RouterSplit::kFit},
    {"all", learn::RouterSplit::kAll}};

}  // namespace

void AddRouterCommands(CLI::App& app) {
  auto* group = app.add_subcommand(
      "router", "Train and evaluate the learned router (P(correct) per model) on a replay set");
  group->require_subcommand(1);

  auto train = std::make_shared<learn::RouterTrainOptions>();
  auto* t = group->add_subcommand("train", "Fit one predictor per model on the train split");
  t->add_option("--data", train->data, "Replay set folder (items.jsonl, outcomes.jsonl)")
      ->required();
  t->add_option("--out", train->out,
                "Model file to write (default models/router_<set>_<kind>.bin)");
  t->add_option("--kind", train->kind,
                "before: P(model correct | task); after: P(answer correct | task, answer)")
      ->transform(CLI::CheckedTransformer(kKinds, CLI::ignore_case));
  t->add_option("--classifier", train->classifier,
                "Difficulty classifier for tier probabilities (\"\": none)")
      ->capture_default_str();
  t->add_option("--split", train->split,
                "Items to fit on: train (default) or fit (train minus the validation fold)")
      ->transform(CLI::CheckedTransformer(kTrainSplits, CLI::ignore_case));
  t->add_option("--epochs", train->params.epochs, "Passes over the data")->capture_default_str();
  t->add_option("--seed", train->params.seed, "Shuffle seed (training is deterministic for a seed)")
      ->capture_default_str();
  t->add_option("--learning-rate", train->params.learning_rate, "AdaGrad step")
      ->capture_default_str();
  t->add_option("--l2", train->params.l2, "L2 penalty")->capture_default_str();
  t->add_option("--hash-bits", train->hash_bits, "log2 of hashed text feature buckets")
      ->capture_default_str();
  t->add_option("--char-min", train->char_ngram_min, "Shortest char n-gram")->capture_default_str();
  t->add_option("--char-max", train->char_ngram_max, "Longest char n-gram (min = max + 1: none)")
      ->capture_default_str();
  t->add_flag("--no-bigrams{false}", train->word_bigrams, "No word bigrams");
  t->add_flag("--answer-text", train->answer_text, "after: hash the answer's words too");
  t->callback([train] { Check(learn::RunRouterTrain(*train, std::cout, std::cerr)); });

  auto eval = std::make_shared<learn::RouterEvalOptions>();
  auto* e = group->add_subcommand(
      "eval", "AUC, Brier score and reliability table per model on the held-out split");
  e->add_option("--data", eval->data, "Replay set folder")->required();
  e->add_option("--model", eval->model, "Router model file")->required();
  e->add_option("--classifier", eval->classifier,
                "Difficulty classifier (the one the router was trained with)")
      ->capture_default_str();
  e->add_option("--split", eval->split,
                "Items to score: test (default, held out), validation, train, fit or all")
      ->transform(CLI::CheckedTransformer(kEvalSplits, CLI::ignore_case));
  e->add_option("--bins", eval->bins, "Reliability table bins")->check(CLI::Range(1, 100));
  e->add_flag("--json", eval->json, "Machine-readable output");
  e->callback([eval] { Check(learn::RunRouterEval(*eval, std::cout, std::cerr)); });
}

}  // namespace triage::app
