// Cases every fast family's GPU test runs the same way: skewed expert sizes, the dtype/C
// combinations of the 16-bit recipe, and CUDA-graph replays while the device-side counts change.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "testing/problem.hpp"
#include "test_util.hpp"


// One doctest case per shape of the benchmark suites (PEERS.md dense and MoE shapes, decode, odd),
// named "<prefix> <suite> #<i>", each calling check(suite, i). The counts are the suite files'.
#define JIT_SUITE_CASE(prefix, check, suite, i) \
  GPU_CASE(prefix " " suite " #" #i) { check(suite, i); }
#define JIT_SUITE_CASES_6(prefix, check, suite)                                                  \
  JIT_SUITE_CASE(prefix, check, suite, 0) JIT_SUITE_CASE(prefix, check, suite, 1)                \
  JIT_SUITE_CASE(prefix, check, suite, 2) JIT_SUITE_CASE(prefix, check, suite, 3)                \
  JIT_SUITE_CASE(prefix, check, suite, 4) JIT_SUITE_CASE(prefix, check, suite, 5)
#define JIT_SUITE_CASES_7(prefix, check, suite) \
  JIT_SUITE_CASES_6(prefix, check, suite) JIT_SUITE_CASE(prefix, check, suite, 6)
#define JIT_SUITE_CASES_18(prefix, check, suite)                                                  \
  JIT_SUITE_CASES_6(prefix, check, suite) JIT_SUITE_CASE(prefix, check, suite, 6)                 \
  JIT_SUITE_CASE(prefix, check, suite, 7) JIT_SUITE_CASE(prefix, check, suite, 8)                 \
  JIT_SUITE_CASE(prefix, check, suite, 9) JIT_SUITE_CASE(prefix, check, suite, 10)                \
  JIT_SUITE_CASE(prefix, check, suite, 11) JIT_SUITE_CASE(prefix, check, suite, 12)               \
  JIT_SUITE_CASE(prefix, check, suite, 13) JIT_SUITE_CASE(prefix, check, suite, 14)               \
  JIT_SUITE_CASE(prefix, check, suite, 15) JIT_SUITE_CASE(prefix, check, suite, 16)               \
  JIT_SUITE_CASE(prefix, check, suite, 17)
#define JIT_ALL_SUITE_CASES(prefix, check)                                                        \
  JIT_SUITE_CASES_18(prefix, check, "deepgemm-dense")                                             \
  JIT_SUITE_CASES_6(prefix, check, "moe-contiguous")                                              \
  JIT_SUITE_CASES_6(prefix, check, "moe-masked")                                                  \
  JIT_SUITE_CASES_7(prefix, check, "moe-decode")                                                  \
  JIT_SUITE_CASES_7(prefix, check, "odd")

namespace jit::test {

// Skewed expert sizes: mostly tiny (0, 1, a few rows), some large, from a heavy-tailed draw.
inline std::vector<int> skewed_rows(int groups, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> rows(groups);
  for (int& r : rows) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    r = u < 0.2 ? 0 : u < 0.35 ? 1 : u < 0.8 ? static_cast<int>(u * 40) : static_cast<int>(u * u * 700);
  }
  rows[0] = 0, rows[1] = 1, rows[groups - 1] = 300;  // always an empty, a 1-row and a large expert
  return rows;
}

// Inputs, output and C of the 16-bit recipe: both input types, every output type, C in fp32 and
// in D's type.
struct DtypeCombo {
  DType ab, d;
  bool with_c;
  DType c;
};
inline const std::vector<DtypeCombo>& dtype_combos() {
  static const std::vector<DtypeCombo> all = {
      {DType::bf16, DType::bf16, false, DType::fp32}, {DType::bf16, DType::fp32, false, DType::fp32},
      {DType::bf16, DType::fp16, false, DType::fp32}, {DType::fp16, DType::fp16, false, DType::fp32},
      {DType::fp16, DType::fp32, false, DType::fp32}, {DType::fp16, DType::bf16, false, DType::fp32},
      {DType::bf16, DType::bf16, true, DType::fp32},  {DType::bf16, DType::bf16, true, DType::bf16},
      {DType::bf16, DType::fp32, true, DType::fp32},  {DType::fp16, DType::fp16, true, DType::fp16},
      {DType::fp16, DType::fp16, true, DType::fp32},  {DType::fp16, DType::fp32, true, DType::fp32},
  };
  return all;
}

// Captures run(problem, stream) into a CUDA graph once, then replays it after each change of the
// device-side counts (masked_m, or group offsets with the same total), checking every replay
// against the reference family of `rt`.
template <class Run>
void check_graph_replays(Runtime& rt, const testing::ProblemSpec& spec, const std::vector<std::vector<int>>& counts,
                         double tolerance, const Run& run) {
  testing::Stream s;
  testing::GpuProblem p(spec, s);
  run(p, s);  // compile and load before the capture
  s.sync();
  TEST_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
  run(p, s);
  CUgraph graph;
  TEST_CU(cuStreamEndCapture(s, &graph));
  CUgraphExec exec;
  TEST_CU(cuGraphInstantiateWithFlags(&exec, graph, 0));
  for (const std::vector<int>& rows : counts) {
    p.set_rows(rows, s);
    p.poison(s);
    TEST_CU(cuGraphLaunch(exec, s));
    p.run_reference(s, rt);
    const testing::CheckResult r = p.check(s);
    std::string label;
    for (int x : rows) label += std::to_string(x) + " ";
    MESSAGE(layout_name(spec.layout) << " replay with " << label << ": calc_diff " << fmt::format("{:.3e}", r.diff));
    INFO(label << ": " << r.summary());
    CHECK(r.ok(tolerance));
  }
  TEST_CU(cuGraphExecDestroy(exec));
  TEST_CU(cuGraphDestroy(graph));
}

}  // namespace jit::test
