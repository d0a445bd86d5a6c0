// The sm80 family on a GPU (forced with Family::sm80, so Hopper tests it too): every PEERS.md dense
// and MoE shape, decode and skewed experts, odd shapes, all dtype/C combinations, every candidate
// config, CUDA-graph replay with changing counts, and 4 host threads on 4 streams. Each case: random
// inputs, poisoned output, then calc_diff < 1e-5 against the reference family, no NaN, every valid
// element written and every padding/masked row untouched.
#include <algorithm>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "bench/suite.hpp"
#include "runtime/sm80_gemm.hpp"
#include "testing/problem.hpp"
#include "gemm_cases.hpp"
#include "test_util.hpp"

using namespace jit;
using testing::GpuProblem;
using testing::ProblemSpec;
using test::skewed_rows;

namespace {

// The process-wide runtime and its disk cache: a second run of this file compiles nothing.
Runtime& rt() { return Runtime::global(); }

void run_sm80(const GpuProblem& p, CUstream s, const char* config = nullptr) {
  const GemmOptions o{.family = Family::sm80, .config = config};
  if (p.spec().layout == Layout::dense) rt().gemm(p.dense_args(), s, o);
  else rt().grouped_gemm(p.grouped_args(), s, o);
}

// Poison, run sm80, run the reference, compare.
testing::CheckResult run_and_check(const GpuProblem& p, CUstream s, const char* config = nullptr) {
  p.poison(s);
  run_sm80(p, s, config);
  p.run_reference(s, rt());
  return p.check(s);
}

void check_spec(const ProblemSpec& spec, const char* config = nullptr) {
  testing::use_device();
  testing::Stream s;
  GpuProblem p(spec, s);
  const testing::CheckResult r = run_and_check(p, s, config);
  const std::string what = spec.describe() + (spec.with_c ? std::string(" +C ") + dtype_name(spec.c) : "") +
                           (config ? std::string(" [") + config + "]" : "") + ": " + r.summary() +
                           "\n  chose: " + rt().choice(bench::make_desc(spec), rt().device_of(s),
                                                       GemmOptions{.family = Family::sm80, .config = config});
  INFO(what);
  REQUIRE(r.ok(1e-5));
}

void check_suite_shape(const char* suite, std::size_t index, const char* recipe = "bf16") {
  const bench::Suite s = bench::load_suite(suite);
  REQUIRE(index < s.shapes.size());
  check_spec(bench::make_spec(s.shapes[index], bench::parse_recipe(recipe)));
}

// Each of 4 host threads runs its problem 10 times on a stream of its own (poisoned before each
// call), with the forced config config_of(thread) ("" : the heuristics'), then checks it.
void check_four_threads(const std::vector<ProblemSpec>& specs, const std::function<std::string(int)>& config_of) {
  testing::use_device();
  std::vector<std::unique_ptr<GpuProblem>> problems;
  {
    testing::Stream s;
    for (const auto& spec : specs) {
      problems.push_back(std::make_unique<GpuProblem>(spec, s));
      problems.back()->run_reference(s, rt());
    }
    s.sync();
  }
  std::vector<testing::CheckResult> results(4);
  std::vector<std::string> errors(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      try {
        testing::use_device();
        testing::Stream s;
        const std::string cfg = config_of(t);
        for (int c = 0; c < 10; ++c) {
          problems[t]->poison(s);
          run_sm80(*problems[t], s, cfg.empty() ? nullptr : cfg.c_str());
        }
        results[t] = problems[t]->check(s);
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    INFO(problems[t]->spec().describe() << ": " << errors[t] << results[t].summary());
    CHECK(errors[t].empty());
    CHECK(results[t].ok(1e-5));
  }
}

ProblemSpec spec_of(Layout layout, std::vector<int> rows, i64 n, i64 k, DType ab = DType::bf16,
                    DType d = DType::bf16, std::uint64_t seed = 7) {
  ProblemSpec s;
  s.layout = layout;
  s.rows = std::move(rows);
  s.n = n;
  s.k = k;
  s.ab = ab;
  s.d = d;
  s.seed = seed;
  return s;
}

}  // namespace

TEST_SUITE("test_sm80") {

// One case per suite shape (tests/gpu/gemm_cases.hpp): PEERS.md dense and MoE, decode, odd.
JIT_ALL_SUITE_CASES("sm80", check_suite_shape)

GPU_CASE("sm80 fp16: PEERS MoE shapes") {
  check_suite_shape("moe-contiguous", 3, "fp16");
  check_suite_shape("moe-masked", 1, "fp16");
  check_suite_shape("deepgemm-dense", 17, "fp16");
}

// One small config per layout, for compute-sanitizer (memcheck, racecheck, synccheck) runs.
GPU_CASE("sm80 sanitizer small dense") { check_spec(spec_of(Layout::dense, {200}, 264, 400)); }
GPU_CASE("sm80 sanitizer small dense split-K") {
  check_spec(spec_of(Layout::dense, {200}, 264, 400),
             "BLOCK_M=64,BLOCK_N=64,BLOCK_K=64,WARPS_M=2,WARPS_N=2,STAGES=4,CTAS_PER_SM=2,OVERLAP=0,SPLIT_K=3");
}
GPU_CASE("sm80 sanitizer small contiguous_indices") { check_spec(spec_of(Layout::contiguous_indices, {70, 0, 130}, 264, 400)); }
GPU_CASE("sm80 sanitizer small contiguous_offsets") { check_spec(spec_of(Layout::contiguous_offsets, {70, 0, 130}, 264, 400)); }
GPU_CASE("sm80 sanitizer small masked") {
  ProblemSpec s = spec_of(Layout::masked, {70, 0, 130}, 264, 400);
  s.max_m = 160;
  check_spec(s);
}

// L2 hints (the launch's access policy window makes B's lines evict first; the heuristics' choice
// on the small-M dense shapes): forced onto every layout, split-K, OVERLAP, C and fp32 D.
GPU_CASE("sm80 sanitizer L2 hints") {
  check_spec(spec_of(Layout::dense, {200}, 264, 400), "BLOCK_M=128,BLOCK_N=64,BLOCK_K=64,WARPS_M=2,WARPS_N=2,"
                                                      "STAGES=6,CTAS_PER_SM=2,OVERLAP=0,SPLIT_K=3,L2_HINTS=1");
  check_spec(spec_of(Layout::dense, {1000}, 520, 1040, DType::fp16, DType::fp16, 5),
             "BLOCK_M=128,BLOCK_N=256,BLOCK_K=64,WARPS_M=2,WARPS_N=4,STAGES=3,CTAS_PER_SM=1,OVERLAP=1,SPLIT_K=1,L2_HINTS=1");
  ProblemSpec c = spec_of(Layout::contiguous_indices, {70, 0, 130, 1, 300}, 264, 400, DType::bf16, DType::fp32);
  c.with_c = true;
  check_spec(c, "BLOCK_M=64,BLOCK_N=64,BLOCK_K=64,WARPS_M=2,WARPS_N=2,STAGES=8,CTAS_PER_SM=2,L2_HINTS=1");
  check_spec(spec_of(Layout::contiguous_offsets, {70, 0, 130, 1, 300}, 264, 400, DType::fp16, DType::fp16),
             "BLOCK_M=64,BLOCK_N=128,BLOCK_K=64,WARPS_M=2,WARPS_N=2,STAGES=4,CTAS_PER_SM=2,L2_HINTS=1");
  ProblemSpec m = spec_of(Layout::masked, {70, 0, 130, 300}, 264, 1000);
  m.max_m = 320;
  check_spec(m, "BLOCK_M=16,BLOCK_N=128,BLOCK_K=64,WARPS_M=1,WARPS_N=4,STAGES=6,CTAS_PER_SM=2,L2_HINTS=1");
}

GPU_CASE("sm80 M=1 N=8 K=8") {
  check_spec(spec_of(Layout::dense, {1}, 8, 8));
  check_spec(spec_of(Layout::dense, {1}, 8, 8, DType::fp16, DType::fp32));
}

GPU_CASE("sm80 odd: K tails of every kind (K = 8, 24, 40, 72, 136, 1032)") {
  for (i64 k : {8, 24, 40, 72, 136, 1032}) check_spec(spec_of(Layout::dense, {129}, 264, k));
}

GPU_CASE("sm80 odd: N and M tails (M = 1..300, N = 8..520)") {
  for (int m : {1, 15, 17, 33, 255, 257, 300})
    for (i64 n : {8, 24, 136, 520}) check_spec(spec_of(Layout::dense, {m}, n, 88, DType::bf16, DType::bf16, m + n));
}

GPU_CASE("sm80 skewed contiguous_indices, 8 / 64 / 256 experts") {
  for (int g : {8, 64, 256}) check_spec(spec_of(Layout::contiguous_indices, skewed_rows(g, g), 392, 264));
}

GPU_CASE("sm80 skewed contiguous_offsets, 8 / 64 / 256 experts") {
  for (int g : {8, 64, 256}) {
    ProblemSpec s = spec_of(Layout::contiguous_offsets, skewed_rows(g, g + 1), 392, 264);
    s.extra_rows = 37;  // rows past the last expert: never written
    check_spec(s);
  }
}

GPU_CASE("sm80 skewed masked, 8 / 64 / 256 experts") {
  for (int g : {8, 64, 256}) {
    ProblemSpec s = spec_of(Layout::masked, skewed_rows(g, g + 2), 392, 264);
    s.max_m = 320;
    check_spec(s);
  }
}

GPU_CASE("sm80 decode: contiguous_indices with 1-32 rows per expert") {
  check_spec(spec_of(Layout::contiguous_indices, testing::random_group_rows(64, 8, 0.0, 2.0, 5), 4096, 1024));
}

GPU_CASE("sm80 dtypes: bf16/fp16 in, bf16/fp16/fp32 out, with and without C, every layout") {
  struct Combo {
    DType ab, d;
    bool with_c;
    DType c;
  };
  const Combo combos[] = {
      {DType::bf16, DType::bf16, false, DType::fp32}, {DType::bf16, DType::fp32, false, DType::fp32},
      {DType::bf16, DType::fp16, false, DType::fp32}, {DType::fp16, DType::fp16, false, DType::fp32},
      {DType::fp16, DType::fp32, false, DType::fp32}, {DType::fp16, DType::bf16, false, DType::fp32},
      {DType::bf16, DType::bf16, true, DType::fp32},  {DType::bf16, DType::bf16, true, DType::bf16},
      {DType::bf16, DType::fp32, true, DType::fp32},  {DType::fp16, DType::fp16, true, DType::fp16},
      {DType::fp16, DType::fp16, true, DType::fp32},  {DType::fp16, DType::fp32, true, DType::fp32},
  };
  const std::pair<Layout, std::vector<int>> layouts[] = {
      {Layout::dense, {333}},
      {Layout::contiguous_indices, {100, 0, 250, 1}},
      {Layout::contiguous_offsets, {100, 0, 250, 1}},
      {Layout::masked, {100, 0, 250, 1}},
  };
  // The epilogue's dtype paths are layout-independent and the row masking is dtype-independent:
  // every combination on m_indices (the most involved masking), a few on the other layouts.
  int i = 0;
  for (const auto& [layout, rows] : layouts)
    for (const Combo& c : combos) {
      if (layout != Layout::contiguous_indices && &c != &combos[0] && &c != &combos[4] && &c != &combos[9])
        continue;
      ProblemSpec s = spec_of(layout, rows, 200, 336, c.ab, c.d, ++i);
      s.with_c = c.with_c;
      s.c = c.c;
      check_spec(s);
    }
}

GPU_CASE("sm80 every candidate config once, layouts in turn, on odd shapes") {
  testing::use_device();
  testing::Stream s;
  const DeviceSpec& dev = rt().device_of(s);
  const std::pair<Layout, std::vector<int>> layouts[] = {
      {Layout::dense, {301}},
      {Layout::contiguous_indices, {37, 0, 130, 1, 200}},
      {Layout::contiguous_offsets, {37, 0, 130, 1, 200}},
      {Layout::masked, {37, 0, 130, 1, 200}},
  };
  int tested = 0, skipped = 0, turn = 0;
  for (const auto& cfg : detail::sm80_gemm::candidate_configs()) {
    const std::string forced = detail::sm80_gemm::to_string(cfg);
    // The next layout this config can run (256-row tiles cannot do m_indices).
    bool ran = false;
    for (int j = 0; j < 4 && !ran; ++j) {
      const auto& [layout, rows] = layouts[(turn + j) % 4];
      ProblemSpec spec = spec_of(layout, rows, 392, 328, DType::bf16, DType::bf16, turn + 11);
      spec.with_c = turn % 2 == 1;
      if (!detail::sm80_gemm::check_config(cfg, bench::make_desc(spec), dev).empty()) continue;
      check_spec(spec, forced.c_str());
      ran = true;
    }
    ++turn;
    ran ? ++tested : ++skipped;  // skipped: does not fit this device's shared memory
  }
  MESSAGE("candidate configs tested: " << tested << ", not fitting this device: " << skipped);
  CHECK(tested >= 8);
}

// Split-K (dense): the units of a tile sum through the workspace (kernel_src/jit/sm80/split_k.cuh).
std::string split_config(int split, int overlap = 0) {
  return fmt::format("BLOCK_M=64,BLOCK_N=64,BLOCK_K=64,WARPS_M=2,WARPS_N=2,STAGES=4,CTAS_PER_SM=2,SWIZZLE_N=8,"
                     "OVERLAP={},SPLIT_K={}",
                     overlap, split);
}

GPU_CASE("sm80 split-K: forced splits 2, 3, 4, 8 with M/N/K tails, C and fp32 output, OVERLAP") {
  for (int split : {2, 3, 4, 8}) {
    const std::string cfg = split_config(split);
    check_spec(spec_of(Layout::dense, {129}, 264, 1032), cfg.c_str());  // 17 K blocks: uneven shares
    ProblemSpec one = spec_of(Layout::dense, {1}, 8, 520, DType::fp16, DType::fp32, split);  // 9 K blocks
    one.with_c = true;
    check_spec(one, cfg.c_str());
    check_spec(spec_of(Layout::dense, {200}, 136, 8 * 64 * split - 8, DType::bf16, DType::bf16, split),
               split_config(split, 1).c_str());
  }
}

// More tiles than CTAs: the full waves run whole tiles, the last wave's are split (split_plan_for).
// 18 x 17 = 306 64x64 tiles on 2 CTAs per SM: on 132 SMs 42 are left for the last wave, split in
// min(SPLIT_K, 6) parts; M, N and K tails in both kinds of tile.
GPU_CASE("sm80 split-K: the last wave split, the full waves whole, with M/N/K tails and OVERLAP") {
  testing::use_device();
  testing::Stream s;
  for (int split : {2, 4, 8})
    for (int overlap : {0, 1}) {
      const std::string cfg = split_config(split, overlap);
      const ProblemSpec spec = spec_of(Layout::dense, {1100}, 1040, 1032);
      check_spec(spec, cfg.c_str());
      GpuProblem p(spec, s);
      const GemmOptions o{.family = Family::sm80, .config = cfg.c_str()};
      const std::size_t need = rt().workspace_bytes(p.dense_args(), s, o);
      INFO(cfg << ": workspace " << need);
      CHECK(need > std::size_t{64 * 1024});
      CHECK(need < std::size_t{64 * 1024} + 306u * 64 * 64 * 4 * 2);  // far fewer slots than every tile's
    }
}

GPU_CASE("sm80 split-K: a split that does not fit K, or a layout that cannot split, is InvalidArgument") {
  testing::use_device();
  testing::Stream s;
  GpuProblem dense(spec_of(Layout::dense, {64}, 64, 64 * 3), s);
  CHECK_THROWS_AS(run_sm80(dense, s, split_config(4).c_str()), InvalidArgument);  // 3 K blocks
  GpuProblem masked(spec_of(Layout::masked, {64, 3}, 64, 1024), s);
  CHECK_THROWS_AS(run_sm80(masked, s, split_config(2).c_str()), InvalidArgument);
}

GPU_CASE("sm80 split-K: bitwise deterministic, and counters re-zeroed across 12 calls on one stream") {
  testing::use_device();
  testing::Stream s;
  // Tile counts 9, 66, 1, 33, 306 (64x64 tiles; the last with whole tiles before its split ones), in
  // turn on the stream's one library workspace: a counter left non-zero would make the next call
  // on that tile skip its store (poison remains).
  std::vector<std::unique_ptr<GpuProblem>> problems;
  for (auto [m, n] : {std::pair{129, 200}, {128, 2112}, {1, 64}, {64, 2112}, {1100, 1040}})
    problems.push_back(std::make_unique<GpuProblem>(spec_of(Layout::dense, {m}, n, 2048), s));
  for (auto& p : problems) p->run_reference(s, rt());
  for (int call = 0; call < 12; ++call) {
    const GpuProblem& p = *problems[call % problems.size()];
    const std::string cfg = split_config(2 + call % 3);
    const testing::CheckResult r = run_and_check(p, s, cfg.c_str());
    INFO("call " << call << " " << p.spec().describe() << " " << cfg << ": " << r.summary());
    REQUIRE(r.ok(1e-5));
  }
  // Whichever unit of a tile arrives last, the sum runs in split order: the same bits every time.
  const GpuProblem& p = *problems[3];
  testing::DeviceBuffer first(p.out_bytes()), second(p.out_bytes());
  const std::string cfg = split_config(3);
  const GemmOptions o{.family = Family::sm80, .config = cfg.c_str()};
  p.poison(s, first.get());
  p.poison(s, second.get());
  rt().gemm(p.dense_args(first.get()), s, o);
  rt().gemm(p.dense_args(second.get()), s, o);
  CHECK(p.check(s, first.get()).ok(1e-5));
  CHECK(p.download(first) == p.download(second));
}

GPU_CASE("sm80 split-K: workspace_bytes, a caller's workspace, and one that is too small") {
  testing::use_device();
  testing::Stream s;
  GpuProblem p(spec_of(Layout::dense, {64}, 2112, 2048), s);
  p.run_reference(s, rt());
  const std::string cfg = split_config(3);
  const GemmOptions o{.family = Family::sm80, .config = cfg.c_str()};
  const std::size_t need = rt().workspace_bytes(p.dense_args(), s, o);
  CHECK(need == std::size_t{64 * 1024} + 33 * 3 * 64 * 64 * 4);  // counters + 33 tiles x 3 slots
  const std::string unsplit = split_config(1);
  CHECK(rt().workspace_bytes(p.dense_args(), s, GemmOptions{.family = Family::sm80, .config = unsplit.c_str()}) == 0);
  testing::DeviceBuffer ws(need);
  TEST_CU(cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(ws.get()), 0, need, s));
  GemmArgs args = p.dense_args();
  args.workspace = {ws.get(), need};
  for (int call = 0; call < 3; ++call) {
    p.poison(s);
    rt().gemm(args, s, o);
    const testing::CheckResult r = p.check(s);
    INFO(r.summary());
    CHECK(r.ok(1e-5));
  }
  args.workspace.bytes = need - 4;
  CHECK_THROWS_AS(rt().gemm(args, s, o), InvalidArgument);
  args.workspace = {static_cast<char*>(ws.get()) + 16, need - 16};
  CHECK_THROWS_AS(rt().gemm(args, s, o), InvalidArgument);
}

// Captured without a workspace, the call takes a kernel that needs none (the library's per-stream
// buffer could be shared with work outside the graph); with the caller's, the split is captured.
GPU_CASE("sm80 split-K: CUDA graph replays, without and with a caller's workspace") {
  testing::use_device();
  for (bool with_ws : {false, true}) {
    testing::Stream s;
    GpuProblem p(spec_of(Layout::dense, {128}, 2112, 4096), s);
    p.run_reference(s, rt());
    const std::string cfg = split_config(4);
    // Forced only where a workspace is given: without one the heuristics' choice (split or not)
    // must fall back under capture.
    const GemmOptions o{.family = Family::sm80, .config = with_ws ? cfg.c_str() : nullptr};
    GemmArgs args = p.dense_args();
    testing::DeviceBuffer ws(with_ws ? rt().workspace_bytes(args, s, o) : 0);
    if (with_ws) {
      TEST_CU(cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(ws.get()), 0, ws.size(), s));
      args.workspace = {ws.get(), ws.size()};
    }
    rt().gemm(args, s, o);  // eager: compiles and loads the split kernel where chosen
    s.sync();
    TEST_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    rt().gemm(args, s, o);
    CUgraph graph;
    TEST_CU(cuStreamEndCapture(s, &graph));
    CUgraphExec exec;
    TEST_CU(cuGraphInstantiateWithFlags(&exec, graph, 0));
    for (int replay = 0; replay < 3; ++replay) {
      p.poison(s);
      TEST_CU(cuGraphLaunch(exec, s));
      const testing::CheckResult r = p.check(s);
      INFO("workspace " << with_ws << " replay " << replay << ": " << r.summary());
      CHECK(r.ok(1e-5));
    }
    TEST_CU(cuGraphExecDestroy(exec));
    TEST_CU(cuGraphDestroy(graph));
  }
}

GPU_CASE("sm80 split-K: 4 host threads on 4 streams, each with the library's workspace") {
  std::vector<ProblemSpec> specs;
  for (int t = 0; t < 4; ++t)
    specs.push_back(spec_of(Layout::dense, {64 + 32 * t}, 2112, 2048, DType::bf16, DType::bf16, 100 + t));
  check_four_threads(specs, [](int t) { return split_config(2 + t % 3); });
}

GPU_CASE("sm80 CUDA graph: replay while masked_m changes") {
  testing::use_device();
  ProblemSpec spec = spec_of(Layout::masked, {100, 20, 300, 0}, 392, 264);
  spec.max_m = 320;
  test::check_graph_replays(rt(), spec,
                            {{100, 20, 300, 0}, {320, 0, 1, 17}, {0, 0, 0, 0}, {1, 319, 320, 64}, {-5, 1000, 7, 129}},
                            1e-5, [](const GpuProblem& p, CUstream st) { run_sm80(p, st); });
}

GPU_CASE("sm80 CUDA graph: replay while group offsets change") {
  testing::use_device();
  ProblemSpec spec = spec_of(Layout::contiguous_offsets, {100, 20, 300, 0, 77}, 392, 264);
  spec.extra_rows = 50;
  // Totals at most the allocated 547 rows; fewer leaves trailing rows that must stay untouched.
  test::check_graph_replays(
      rt(), spec,
      {{100, 20, 300, 0, 77}, {0, 0, 0, 0, 547}, {1, 1, 1, 1, 1}, {547, 0, 0, 0, 0}, {129, 128, 127, 0, 130}}, 1e-5,
      [](const GpuProblem& p, CUstream st) { run_sm80(p, st); });
}

GPU_CASE("sm80 L2 hints: CUDA graph replay while masked_m changes, and 4 threads on small-M dense shapes") {
  testing::use_device();
  ProblemSpec spec = spec_of(Layout::masked, {100, 20, 300, 0}, 392, 264);
  spec.max_m = 320;
  test::check_graph_replays(rt(), spec, {{100, 20, 300, 0}, {320, 0, 1, 17}, {0, 0, 0, 0}, {1, 319, 320, 64}}, 1e-5,
                            [](const GpuProblem& p, CUstream st) { run_sm80(p, st, "L2_HINTS=1"); });
  std::vector<ProblemSpec> specs;  // the heuristics' hints (M <= 2 x BLOCK_M), with and without split-K
  for (int t = 0; t < 4; ++t)
    specs.push_back(spec_of(Layout::dense, {std::vector<int>{64, 96, 128, 104}[t]}, t % 2 ? 2112 : 7168, 2048,
                            DType::bf16, DType::bf16, 200 + t));
  for (const ProblemSpec& sp : specs)
    REQUIRE(rt().choice(bench::make_desc(sp), rt().device_of(nullptr), GemmOptions{.family = Family::sm80})
                .find("L2_HINTS=1") != std::string::npos);
  check_four_threads(specs, [](int) { return std::string(); });
}

GPU_CASE("sm80 4 host threads on 4 streams") {
  const std::vector<ProblemSpec> specs = {
      spec_of(Layout::dense, {777}, 520, 1032, DType::bf16, DType::bf16, 1),
      spec_of(Layout::contiguous_indices, {300, 0, 129, 5}, 392, 264, DType::fp16, DType::fp16, 2),
      spec_of(Layout::contiguous_offsets, {300, 0, 129, 5}, 1024, 512, DType::bf16, DType::fp32, 3),
      spec_of(Layout::masked, {3, 0, 17, 32}, 2048, 1024, DType::bf16, DType::bf16, 4),
  };
  check_four_threads(specs, [](int) { return std::string(); });
}

}  // TEST_SUITE
