#include "runtime/expert_rows.hpp"

#include <algorithm>
#include <cmath>

namespace jit::detail::expert_rows {

void planned_rows(const ProblemDesc& p, double* rows, double* groups) {
  *groups = p.layout == Layout::dense ? 1 : p.num_groups;
  if (p.layout == Layout::masked)
    *rows = double(p.expected_m > 0 ? std::min<std::int64_t>(p.expected_m, p.m) : p.m);
  else
    *rows = double(p.m) / *groups;
  *rows = std::max(1.0, *rows);
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

void expert_blocks(double rows, int bm, double s, double* mean, double* var) {
  const double lo = rows * (1 - s), hi = rows * (1 + s);
  if (hi - lo < 1) {
    *mean = std::ceil(rows / bm), *var = 0;
    return;
  }
  // Integrals from 0 to x of ceil(t / bm) and of its square.
  auto m1 = [bm](double x) {
    const double q = std::floor(x / bm);
    return bm * q * (q + 1) / 2 + (x - q * bm) * (q + 1);
  };
  auto m2 = [bm](double x) {
    const double q = std::floor(x / bm);
    return bm * q * (q + 1) * (2 * q + 1) / 6 + (x - q * bm) * (q + 1) * (q + 1);
  };
  *mean = (m1(hi) - m1(lo)) / (hi - lo);
  *var = std::max(0.0, (m2(hi) - m2(lo)) / (hi - lo) - *mean * *mean);
}

}  // namespace jit::detail::expert_rows
