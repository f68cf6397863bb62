#include "bench/hull.hpp"

#include <algorithm>

namespace triage::bench {
namespace {

// > 0 when o -> a -> b turns left (counter-clockwise).
double Cross(const Point& o, const Point& a, const Point& b) {
  return (a.cost - o.cost) * (b.accuracy - o.accuracy) -
         (a.accuracy - o.accuracy) * (b.cost - o.cost);
}

}  // namespace

std::vector<Point> UpperHull(std::vector<Point> points) {
  points.push_back({0, 0});
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.accuracy > b.accuracy;
  });
  std::vector<Point> hull;
  for (const auto& p : points) {
    // Past the most accurate point so far, a costlier point that is no more accurate adds
    // nothing a mix needs.
    if (!hull.empty() && p.accuracy <= hull.back().accuracy) continue;
    while (hull.size() >= 2 && Cross(hull[hull.size() - 2], hull.back(), p) >= 0) hull.pop_back();
    hull.push_back(p);
  }
  return hull;
}

double HullAccuracyAt(const std::vector<Point>& hull, double cost) {
  if (hull.empty()) return 0;
  if (cost >= hull.back().cost) return hull.back().accuracy;
  for (std::size_t i = 1; i < hull.size(); ++i) {
    if (cost > hull[i].cost) continue;
    const auto& a = hull[i - 1];
    const auto& b = hull[i];
    const double t = b.cost > a.cost ? (cost - a.cost) / (b.cost - a.cost) : 1.0;
    return a.accuracy + t * (b.accuracy - a.accuracy);
  }
  return hull.back().accuracy;
}

bool AboveHull(const std::vector<Point>& hull, const Point& p, double margin) {
  return p.accuracy > HullAccuracyAt(hull, p.cost) + margin;
}

}  // namespace triage::bench
