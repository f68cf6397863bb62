#include "app/classifier_cli.hpp"

#include <iostream>
#include <memory>

#include "classify/commands.hpp"

namespace triage::app {
namespace {

void Check(int rc) {
  if (rc != 0) throw CLI::RuntimeError(rc);
}

const std::map<std::string, classify::Split> kSplits = {{"train", classify::Split::kTrain},
                                                        {"heldout", classify::Split::kHeldOut},
                                                        {"all", classify::Split::kAll}};

}  // namespace

void AddClassifierCommands(CLI::App& app) {
  auto* group = app.add_subcommand("classifier", "Train and evaluate the difficulty classifier");
  group->require_subcommand(1);

  auto train = std::make_shared<classify::TrainOptions>();
  auto* t = group->add_subcommand(
      "train", "Train a model from labelled JSONL (label -> tier rules in the config)");
  t->add_option("--data", train->data, "JSONL files with text and label fields")
      ->required()
      ->expected(1, -1);
  t->add_option("--out", train->out, "Model file to write")->required();
  t->add_option("--config", train->config, "Classifier config with [[classifier.labels]]")
      ->capture_default_str();
  t->add_option("--split", train->split,
                "Items to train on: train (default: all but the held-out split) or all")
      ->transform(CLI::CheckedTransformer(kSplits, CLI::ignore_case));
  t->add_option("--epochs", train->params.epochs, "Passes over the data")->capture_default_str();
  t->add_option("--seed", train->params.seed, "Shuffle seed (training is deterministic for a seed)")
      ->capture_default_str();
  t->add_option("--learning-rate", train->params.learning_rate, "AdaGrad step")
      ->capture_default_str();
  t->add_option("--l2", train->params.l2, "L2 penalty")->capture_default_str();
  t->add_option("--class-weight-power", train->params.class_weight_power,
                "1 balances tiers, 0 weighs items alike")
      ->capture_default_str();
  t->add_option("--hash-bits", train->params.features.hash_bits, "log2 of hashed feature buckets")
      ->capture_default_str();
  t->add_option("--char-min", train->params.features.char_ngram_min, "Shortest char n-gram")
      ->capture_default_str();
  t->add_option("--char-max", train->params.features.char_ngram_max, "Longest char n-gram")
      ->capture_default_str();
  t->callback([train] { Check(classify::RunTrain(*train, std::cout, std::cerr)); });

  auto eval = std::make_shared<classify::EvalOptions>();
  auto* e = group->add_subcommand(
      "eval", "Accuracy, macro-F1 and confusion matrices: trained model vs heuristic");
  e->add_option("--data", eval->data, "JSONL files with text and label fields")
      ->required()
      ->expected(1, -1);
  e->add_option("--model", eval->model, "Model file")->capture_default_str();
  e->add_option("--config", eval->config, "Classifier config with [[classifier.labels]]")
      ->capture_default_str();
  e->add_option("--split", eval->split, "Items to evaluate: heldout (default), train or all")
      ->transform(CLI::CheckedTransformer(kSplits, CLI::ignore_case));
  e->add_option("--confidence-cut", eval->confidence_cut,
                "Score the rule: model probability below this routes one tier up (0: off)")
      ->check(CLI::Range(0.0, 1.0));
  e->add_flag("--json", eval->json, "Machine-readable output");
  e->callback([eval] { Check(classify::RunEval(*eval, std::cout, std::cerr)); });

  auto one = std::make_shared<classify::ClassifyOptions>();
  auto* c = app.add_subcommand("classify",
                               "Classify one task: tier, probability per tier, strongest features");
  c->add_option("text", one->text, "The task text (\"-\": read it from standard input)")
      ->required();
  c->add_option("--model", one->model, "Model file (\"\" for the heuristic only)")
      ->capture_default_str();
  c->add_option("--top", one->top_features, "How many strongest features to print")
      ->capture_default_str();
  c->add_flag("--json", one->json, "Machine-readable output");
  c->callback([one] { Check(classify::RunClassify(*one, std::cout, std::cerr)); });
}

}  // namespace triage::app
