// What every family's heuristics assume of MoE experts' row counts, which are device data: the rows
// per expert to plan for, their spread, and the m-blocks that spread costs. Shared by the SM80 and
// SM90 models (runtime/sm80_gemm.cpp, sm90_*_gemm.cpp).
#pragma once

#include "jit/runtime.hpp"

namespace jit::detail::expert_rows {

// Rows per group the heuristics plan for (masked: expected_m; contiguous: the average; at least 1),
// and the number of groups.
void planned_rows(const ProblemDesc& p, double* rows, double* groups);

// Experts' row counts vary around the planned rows (routing imbalance): uniform over +-30%, the
// spread the MoE suites draw. What the models assume of G > 1 experts whose sizes are device data.
constexpr double kRowSpread = 0.3;

// The standard normal distribution function.
double normal_cdf(double x);

// Mean and variance of ceil(r / bm) for r uniform in [rows (1 - s), rows (1 + s)]: the m-blocks of
// one expert, the last one partial.
void expert_blocks(double rows, int bm, double s, double* mean, double* var);

}  // namespace jit::detail::expert_rows
