#include "bench/report.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace triage::bench {
namespace {

using ordered = nlohmann::ordered_json;

const Row& Strong(const Report& r) {
  for (const auto& row : r.rows)
    if (row.kind == "single" && row.model == r.strong) return row;
  throw std::logic_error("the report has no row of its strong model");
}
const Row* Oracle(const Report& r) {
  for (const auto& row : r.rows)
    if (row.kind == "oracle") return &row;
  return nullptr;
}

double Ratio(double a, double b) { return b > 0 ? a / b : 0; }
double Accuracy(const Row& r) { return r.point().accuracy; }

// The figures of a row that relate it to the strong model and the oracle.
struct Relative {
  double to_strong, of_accuracy, of_cost, oracle_gap;
  bool above_hull;
};
Relative RelativeOf(const Report& r, const Row& row) {
  const auto& strong = Strong(r);
  const auto* oracle = Oracle(r);
  return {Ratio(row.reached_strong, row.items), Ratio(Accuracy(row), Accuracy(strong)),
          Ratio(row.cost_usd, strong.cost_usd), oracle ? Accuracy(*oracle) - Accuracy(row) : 0.0,
          row.kind == "strategy" && AboveHull(r.hull, row.point())};
}

std::string Usd(double v) { return fmt::format("${:.6f}", v); }

ordered RowJson(const Report& r, const Row& row) {
  const auto rel = RelativeOf(r, row);
  return ordered{{"name", row.name},
                 {"kind", row.kind},
                 {"plan", row.plan},
                 {"items", row.items},
                 {"correct", row.correct},
                 {"accuracy", Accuracy(row)},
                 {"cost_usd", row.cost_usd},
                 {"cost_per_query_usd", Ratio(row.cost_usd, row.items)},
                 {"cost_per_correct_usd", row.correct ? row.cost_usd / row.correct : 0.0},
                 {"p50_s", row.p50_s},
                 {"p95_s", row.p95_s},
                 {"calls", row.calls},
                 {"share_to_strong", rel.to_strong},
                 {"share_of_strong_accuracy", rel.of_accuracy},
                 {"share_of_strong_cost", rel.of_cost},
                 {"oracle_gap", rel.oracle_gap},
                 {"above_single_model_hull", rel.above_hull}};
}

}  // namespace

std::string FormatTable(const Report& r) {
  const auto& strong = Strong(r);
  std::string out =
      fmt::format("triage bench: {} ({} split, {} items); cheap model {}, strong {}\n", r.set,
                  r.split, r.items, r.cheap, r.strong);
  out += fmt::format("{:<40}{:>9}{:>8}{:>8}{:>13}{:>14}{:>10}{:>10}{:>10}{:>10}{:>7}\n", "strategy",
                     "accuracy", "p50 s", "p95 s", "cost/query", "cost/correct", "to strong",
                     "of acc.", "of cost", "vs oracle", "hull");
  for (const auto& row : r.rows) {
    const auto rel = RelativeOf(r, row);
    out += fmt::format(
        "{:<40}{:>8.1f}%{:>8.2f}{:>8.2f}{:>13}{:>14}{:>9.1f}%{:>9.1f}%{:>9.1f}%{:>+10.1f}{:>7}\n",
        row.name, 100 * Accuracy(row), row.p50_s, row.p95_s, Usd(Ratio(row.cost_usd, row.items)),
        row.correct ? Usd(row.cost_usd / row.correct) : "-", 100 * rel.to_strong,
        100 * rel.of_accuracy, 100 * rel.of_cost, -100 * rel.oracle_gap,
        row.kind != "strategy" ? ""
        : rel.above_hull       ? "above"
                               : "-");
  }
  out += fmt::format(
      "to strong: items with a call on {}; of acc. / of cost: of {}'s; vs oracle: points of "
      "accuracy from the oracle; hull: above the convex hull of the single models (more correct "
      "answers than any mix of them at the same cost)\n",
      strong.name, strong.name);
  out += "plans (rungs are the models' names):\n";
  for (const auto& row : r.rows)
    if (row.kind != "single") out += fmt::format("  {:<40} {}\n", row.name, row.plan);
  for (const auto& c : r.curves) {
    out += fmt::format("sweep: {} ({})\n", c.strategy, c.parameter);
    for (const auto& p : c.points)
      out += fmt::format("  {:<38}{:>8.1f}%{:>13}{}\n", p.name, 100 * Accuracy(p),
                         Usd(Ratio(p.cost_usd, p.items)),
                         AboveHull(r.hull, p.point()) ? "  above the hull" : "");
  }
  if (!r.skipped.empty()) {
    out += "not run on this set:\n";
    for (const auto& s : r.skipped) out += "  " + s + "\n";
  }
  out += "assumptions (not recorded in the set):\n";
  for (const auto& a : r.assumptions) out += "  " + a + "\n";
  return out;
}

std::string ToJson(const Report& r) {
  ordered rows = ordered::array(), curves = ordered::array(), hull = ordered::array();
  for (const auto& row : r.rows) rows.push_back(RowJson(r, row));
  for (const auto& c : r.curves) {
    ordered points = ordered::array();
    for (const auto& p : c.points) points.push_back(RowJson(r, p));
    curves.push_back(
        ordered{{"strategy", c.strategy}, {"parameter", c.parameter}, {"points", points}});
  }
  for (const auto& p : r.hull)
    hull.push_back(ordered{{"cost_per_query_usd", p.cost}, {"accuracy", p.accuracy}});
  return ordered{{"set", r.set},         {"split", r.split},
                 {"items", r.items},     {"cheap", r.cheap},
                 {"strong", r.strong},   {"rows", rows},
                 {"curves", curves},     {"single_model_hull", hull},
                 {"skipped", r.skipped}, {"assumptions", r.assumptions}}
             .dump(2) +
         "\n";
}

std::string ToCsv(const Report& r) {
  const auto quote = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  std::string out =
      "curve,name,kind,items,correct,accuracy,cost_usd,cost_per_query_usd,cost_per_correct_usd,"
      "p50_s,p95_s,share_to_strong,share_of_strong_accuracy,share_of_strong_cost,oracle_gap,"
      "above_single_model_hull\n";
  const auto line = [&](const std::string& curve, const Row& row) {
    const auto rel = RelativeOf(r, row);
    out += fmt::format(
        "{},{},{},{},{},{:.6f},{:.6f},{:.8f},{:.8f},{:.3f},{:.3f},{:.6f},{:.6f},{:.6f},"
        "{:.6f},{}\n",
        quote(curve), quote(row.name), row.kind, row.items, row.correct, Accuracy(row),
        row.cost_usd, Ratio(row.cost_usd, row.items),
        row.correct ? row.cost_usd / row.correct : 0.0, row.p50_s, row.p95_s, rel.to_strong,
        rel.of_accuracy, rel.of_cost, rel.oracle_gap, rel.above_hull ? "true" : "false");
  };
  for (const auto& row : r.rows) line("", row);
  for (const auto& c : r.curves)
    for (const auto& p : c.points) line(c.strategy, p);
  return out;
}

std::string ToSvg(const Report& r) {
  constexpr double W = 900, H = 600, L = 80, R = 260, T = 40, B = 60;
  double max_cost = 0;
  for (const auto& row : r.rows) max_cost = std::max(max_cost, row.point().cost);
  for (const auto& c : r.curves)
    for (const auto& p : c.points) max_cost = std::max(max_cost, p.point().cost);
  if (max_cost <= 0) max_cost = 1;
  max_cost *= 1.05;
  const auto X = [&](double cost) { return L + (W - L - R) * cost / max_cost; };
  const auto Y = [&](double acc) { return H - B - (H - T - B) * acc; };
  const auto esc = [](const std::string& s) {
    std::string out;
    for (char c : s)
      out += c == '&'   ? "&amp;"
             : c == '<' ? "&lt;"
             : c == '>' ? "&gt;"
             : c == '"' ? "&quot;"
                        : std::string(1, c);
    return out;
  };
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" "
      "font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      W, H);
  out += fmt::format(
      "<text x=\"{}\" y=\"22\" font-size=\"14\">{}: accuracy against cost per query ({} split, {} "
      "items)</text>\n",
      L, esc(r.set), r.split, r.items);
  // Axes and grid.
  for (int i = 0; i <= 10; ++i) {
    const double acc = i / 10.0;
    out += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eee\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}%</text>\n",
        L, Y(acc), W - R, Y(acc), L - 6, Y(acc) + 4, i * 10);
  }
  for (int i = 0; i <= 5; ++i) {
    const double cost = max_cost * i / 5;
    out += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eee\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">${:.5f}</text>\n",
        X(cost), T, X(cost), H - B, X(cost), H - B + 16, cost);
  }
  out += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">cost per query (US$)</text>\n",
      (L + W - R) / 2, H - 18);
  // The single models' hull.
  std::string hull;
  for (const auto& p : r.hull) hull += fmt::format("{:.1f},{:.1f} ", X(p.cost), Y(p.accuracy));
  out += fmt::format(
      "<polyline points=\"{}\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n", hull);
  static const char* kColours[] = {"#1f77b4", "#2ca02c", "#d62728",
                                   "#9467bd", "#8c564b", "#e377c2"};
  int legend = 0;
  const auto key = [&](const std::string& colour, const std::string& text) {
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" "
        "y=\"{}\">{}</text>\n",
        W - R + 16, T + 16 * legend, colour, W - R + 32, T + 16 * legend + 9, esc(text));
    ++legend;
  };
  key("#999", "hull of the single models");
  for (std::size_t i = 0; i < r.curves.size(); ++i) {
    const auto colour = kColours[i % 6];
    std::string line;
    for (const auto& p : r.curves[i].points)
      line += fmt::format("{:.1f},{:.1f} ", X(p.point().cost), Y(p.point().accuracy));
    out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\"/>\n", line, colour);
    for (const auto& p : r.curves[i].points)
      out += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"><title>{}</title></circle>\n",
          X(p.point().cost), Y(p.point().accuracy), colour, esc(p.name));
    key(colour, r.curves[i].strategy);
  }
  for (const auto& row : r.rows) {
    const auto p = row.point();
    const char* fill = row.kind == "single"   ? "black"
                       : row.kind == "oracle" ? "#ff7f0e"
                                              : "#17becf";
    const char* shape = row.kind == "oracle" ? "7" : "4";
    out += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"><title>{}</title></circle>\n",
        X(p.cost), Y(p.accuracy), shape, fill, esc(row.name));
    if (row.kind != "strategy")
      out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"9\">{}</text>\n",
                         X(p.cost) + 6, Y(p.accuracy) - 4, esc(row.name));
  }
  key("black", "single models");
  key("#17becf", "strategies (table rows)");
  key("#ff7f0e", "oracle");
  out += "</svg>\n";
  return out;
}

}  // namespace triage::bench
