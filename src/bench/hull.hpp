// Accuracy against cost: the upper convex hull of a set of strategies' points, and whether a
// point lies above it. Mixing strategies at random (each item to A with probability q, else B)
// reaches every point on the segment between them, so the hull of the single models -- with
// "answer nothing" at the origin -- is what routing must beat: a point strictly above it gives
// more correct answers than any mix of single models at the same cost. Pure.
#pragma once
#include <vector>

namespace triage::bench {

struct Point {
  double cost = 0;      // mean US dollars per item
  double accuracy = 0;  // share of items answered correctly
  bool operator==(const Point&) const = default;
};

// The hull's vertices by rising cost, from the origin to the most accurate point (the cheapest
// of equally accurate ones); points under it are left out.
std::vector<Point> UpperHull(std::vector<Point> points);

// The best accuracy a mix of the hull's points reaches at `cost` (flat past the last vertex).
double HullAccuracyAt(const std::vector<Point>& hull, double cost);

// `p` is more accurate than the hull at its cost, by more than `margin` (rounding noise).
bool AboveHull(const std::vector<Point>& hull, const Point& p, double margin = 1e-9);

}  // namespace triage::bench
