// The sm90 16-bit family on a Hopper GPU (skipped elsewhere): every PEERS.md shape (deepgemm-dense,
// moe-contiguous, moe-masked with the bf16 recipe), moe-decode and odd shapes, skewed experts in
// every grouped layout, fp16, fp32 output and C in every combination, every candidate config once,
// CUDA-graph replay with changing masked_m / offsets, and one small case per layout for
// compute-sanitizer ("sm90 bf16 sanitizer*"). Each case: random inputs, poisoned output, then
// calc_diff < 1e-5 against the reference family, no NaN, every valid element written and every
// padding/masked row untouched.
#include <fmt/format.h>

#include <future>
#include <string>
#include <vector>

#include "bench/suite.hpp"
#include "gpu/gemm_cases.hpp"
#include "runtime/sm90_bf16_gemm.hpp"
#include "testing/problem.hpp"
#include "gemm_cases.hpp"
#include "test_util.hpp"

using namespace jit;
using test::skewed_rows;
using testing::GpuProblem;
using testing::ProblemSpec;

namespace {

namespace bf16 = detail::sm90_bf16_gemm;
constexpr double kTolerance = 1e-5;

// One runtime over a private cache for the whole file: each kernel compiles once per run.
Runtime& rt() {
  static test::TempDir dir("sm90-bf16-gpu");
  static Runtime r(test::quiet_options(dir.path()));
  return r;
}

// The family needs sm_90a; elsewhere every case passes vacuously, saying so.
bool hopper() {
  testing::use_device();
  testing::Stream s;
  if (rt().device_of(s).arch == "sm_90a") return true;
  MESSAGE("not an sm_90a device: the sm90 bf16 family does not apply");
  return false;
}

GemmOptions sm90(const char* config = nullptr) { return GemmOptions{.family = Family::sm90, .config = config}; }

// Poison D, run the family, run the reference, compare; prints calc_diff and the config chosen.
void check_problem(const GpuProblem& p, CUstream s, const char* config = nullptr) {
  const GemmOptions o = sm90(config);
  p.poison(s);
  if (p.spec().layout == Layout::dense) rt().gemm(p.dense_args(), s, o);
  else rt().grouped_gemm(p.grouped_args(), s, o);
  p.run_reference(s, rt());
  const testing::CheckResult r = p.check(s);
  const std::string what = p.spec().describe() + (p.spec().with_c ? std::string(" +C ") + dtype_name(p.spec().c) : "") +
                           " -> " + rt().choice(bench::make_desc(p.spec()), rt().device_of(s), o);
  MESSAGE(what << ": calc_diff " << fmt::format("{:.3e}", r.diff));
  INFO(what << ": " << r.summary());
  REQUIRE(r.ok(kTolerance));
}

void check_spec(const ProblemSpec& spec, const char* config = nullptr) {
  if (!hopper()) return;
  testing::Stream s;
  GpuProblem p(spec, s);
  check_problem(p, s, config);
}

ProblemSpec spec_of(Layout layout, std::vector<int> rows, i64 n, i64 k, DType ab = DType::bf16, DType d = DType::bf16,
                    std::uint64_t seed = 7) {
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

void check_suite_shape(const char* suite, std::size_t index, const char* recipe = "bf16", Layout as = Layout::dense) {
  const bench::Suite s = bench::load_suite(suite);
  REQUIRE(index < s.shapes.size());
  ProblemSpec spec = bench::make_spec(s.shapes[index], bench::parse_recipe(recipe));
  if (as != Layout::dense) spec.layout = as;  // the same experts, described another way
  check_spec(spec);
}

// CUDA-graph replays of one grouped call while the device-side counts change.
void check_graph_replays(const ProblemSpec& spec, const std::vector<std::vector<int>>& counts,
                         const char* config = nullptr) {
  if (!hopper()) return;
  test::check_graph_replays(rt(), spec, counts, kTolerance, [config](const GpuProblem& p, CUstream s) {
    rt().grouped_gemm(p.grouped_args(), s, sm90(config));
  });
}

}  // namespace

TEST_SUITE("test_sm90_bf16") {

// One case per suite shape (tests/gpu/gemm_cases.hpp): PEERS.md dense and MoE, decode, odd.
JIT_ALL_SUITE_CASES("sm90 bf16", check_suite_shape)

// The large and the many-expert contiguous shapes again by cumulative offsets: experts then start
// on any row, and a tile's tail rows belong to the next expert (they must not be written).
GPU_CASE("sm90 bf16 moe-contiguous #0 by offsets") {
  check_suite_shape("moe-contiguous", 0, "bf16", Layout::contiguous_offsets);
}
GPU_CASE("sm90 bf16 moe-contiguous #5 by offsets") {
  check_suite_shape("moe-contiguous", 5, "bf16", Layout::contiguous_offsets);
}

GPU_CASE("sm90 bf16 fp16: PEERS shapes in every layout") {
  check_suite_shape("deepgemm-dense", 16, "fp16");
  check_suite_shape("moe-contiguous", 3, "fp16");
  check_suite_shape("moe-contiguous", 4, "fp16", Layout::contiguous_offsets);
  check_suite_shape("moe-masked", 1, "fp16");
}

GPU_CASE("sm90 bf16 M = 1") {
  check_spec(spec_of(Layout::dense, {1}, 7168, 16384));
  check_spec(spec_of(Layout::dense, {1}, 8, 8));
  check_spec(spec_of(Layout::masked, {1, 0, 1}, 520, 400, DType::fp16, DType::fp32));
}

GPU_CASE("sm90 bf16 N, K and M tails") {
  // K not a multiple of 64: the last stage is partial and zero-filled by TMA; N not a multiple of
  // the tile: the last tile's columns are clipped (TMA store) or skipped (masked and fp32 stores).
  for (i64 n : {8, 24, 136, 1000})
    for (i64 k : {8, 24, 72, 1032}) check_spec(spec_of(Layout::dense, {333}, n, k, DType::bf16, DType::bf16, n + k));
  for (int m : {15, 65, 129, 255, 257}) check_spec(spec_of(Layout::dense, {m}, 264, 88, DType::bf16, DType::fp32, m));
}

GPU_CASE("sm90 bf16 skewed contiguous_indices, 8 / 64 / 256 experts") {
  for (int g : {8, 64, 256}) check_spec(spec_of(Layout::contiguous_indices, skewed_rows(g, g), 392, 264));
}

GPU_CASE("sm90 bf16 skewed contiguous_offsets, 8 / 64 / 256 experts") {
  for (int g : {8, 64, 256}) {
    ProblemSpec s = spec_of(Layout::contiguous_offsets, skewed_rows(g, g + 1), 392, 264);
    s.extra_rows = 37;  // rows past the last expert: never written
    check_spec(s);
  }
}

GPU_CASE("sm90 bf16 skewed masked, 8 / 64 / 256 experts") {
  for (int g : {8, 64, 256}) {
    ProblemSpec s = spec_of(Layout::masked, skewed_rows(g, g + 2), 392, 264);
    s.max_m = 320;
    check_spec(s);
  }
}

GPU_CASE("sm90 bf16 empty experts and nothing to write") {
  const std::vector<int> rows = {0, 129, 0, 1, 300, 0, 64, 0};
  check_spec(spec_of(Layout::contiguous_indices, rows, 392, 528));
  check_spec(spec_of(Layout::contiguous_offsets, rows, 392, 528));
  ProblemSpec offsets = spec_of(Layout::contiguous_offsets, {0, 0, 0}, 256, 256);
  offsets.extra_rows = 77;  // every row past the last expert
  check_spec(offsets);
  check_spec(spec_of(Layout::masked, {0, 0, 0, 0}, 256, 256));
}

GPU_CASE("sm90 bf16 dtypes: bf16/fp16 in, bf16/fp16/fp32 out, with and without C, every layout") {
  const std::pair<Layout, std::vector<int>> layouts[] = {
      {Layout::dense, {333}},
      {Layout::contiguous_indices, {100, 0, 250, 1}},
      {Layout::contiguous_offsets, {100, 0, 250, 1}},
      {Layout::masked, {100, 0, 250, 1}},
  };
  int i = 0;
  for (const auto& [layout, rows] : layouts)
    for (const test::DtypeCombo& c : test::dtype_combos()) {
      ProblemSpec s = spec_of(layout, rows, 200, 336, c.ab, c.d, ++i);
      s.with_c = c.with_c;
      s.c = c.c;
      if (layout == Layout::masked) s.max_m = 264;
      check_spec(s);
    }
}

GPU_CASE("sm90 bf16 C with the big tiles: PEERS shapes with fp32 output and C") {
  ProblemSpec s = bench::make_spec(bench::load_suite("moe-contiguous").shapes[3], bench::parse_recipe("bf16"));
  s.d = DType::fp32;
  s.with_c = true;
  check_spec(s);
  s = bench::make_spec(bench::load_suite("deepgemm-dense").shapes[17], bench::parse_recipe("bf16"));
  s.with_c = true;
  s.c = DType::bf16;
  check_spec(s);
}

// Small, one per layout: the configs to run under compute-sanitizer (memcheck, racecheck,
// synccheck), e.g. --test-case='sm90 bf16 sanitizer*'. Two of them take C, two an fp32 D, so the
// masked-store, TMA-store and fp32 paths all run under the tools.
GPU_CASE("sm90 bf16 sanitizer small dense") { check_spec(spec_of(Layout::dense, {200}, 264, 400)); }
GPU_CASE("sm90 bf16 sanitizer small contiguous_indices") {
  ProblemSpec s = spec_of(Layout::contiguous_indices, {70, 0, 130}, 264, 400, DType::bf16, DType::fp32);
  s.with_c = true;
  check_spec(s);
}
GPU_CASE("sm90 bf16 sanitizer small contiguous_offsets") {
  ProblemSpec s = spec_of(Layout::contiguous_offsets, {70, 0, 130}, 264, 400, DType::fp16, DType::fp16);
  s.with_c = true;
  s.c = DType::fp16;
  check_spec(s);
}
GPU_CASE("sm90 bf16 sanitizer small masked") {
  ProblemSpec s = spec_of(Layout::masked, {70, 0, 130}, 264, 400, DType::bf16, DType::fp32);
  s.max_m = 160;
  check_spec(s);
}

GPU_CASE("sm90 bf16 every candidate config once, layouts in turn, on an odd shape") {
  if (!hopper()) return;
  testing::Stream s;
  const DeviceSpec& dev = rt().device_of(s);
  const std::pair<Layout, std::vector<int>> layouts[] = {
      {Layout::dense, {301}},
      {Layout::contiguous_indices, {37, 0, 130, 1, 200}},
      {Layout::contiguous_offsets, {37, 0, 130, 1, 200}},
      {Layout::masked, {37, 0, 130, 1, 200}},
  };
  // The configs and the problem each runs on: the next layout the config can run (256-row tiles
  // cannot do m_indices), C on every other one, an fp32 D on every third.
  std::vector<std::pair<ProblemSpec, std::string>> runs;
  int turn = 0;
  const auto candidates = bf16::candidate_configs(Layout::dense, DType::bf16, dev.smem_per_block_optin);
  for (const bf16::TileConfig& c : candidates) {
    for (int j = 0; j < 4; ++j) {
      const auto& [layout, rows] = layouts[(turn + j) % 4];
      ProblemSpec spec = spec_of(layout, rows, 392, 328, turn % 5 == 4 ? DType::fp16 : DType::bf16,
                                 turn % 3 == 2 ? DType::fp32 : DType::bf16, turn + 11);
      spec.with_c = turn % 2 == 1;
      if (layout == Layout::masked) spec.max_m = 232;
      // (The stages of a 16-bit D's candidate also fit an fp32 D, which has no staging tile.)
      if (!bf16::check_config(c, bench::make_desc(spec), dev).empty()) continue;
      runs.emplace_back(spec, bf16::to_string(c));
      break;
    }
    ++turn;
  }
  // Compile everything first, in parallel (NVRTC is the slow part), then run.
  std::vector<std::future<PrecompileResult>> jobs;
  for (const auto& [spec, config] : runs)
    jobs.push_back(std::async(std::launch::async, [&, cfg = config.c_str(), desc = bench::make_desc(spec)] {
      return rt().precompile(desc, dev, sm90(cfg));
    }));
  for (auto& f : jobs) {
    const PrecompileResult r = f.get();
    INFO(r.error);
    CHECK(r.status != PrecompileResult::Status::failed);
  }
  for (const auto& [spec, config] : runs) {
    GpuProblem p(spec, s);
    check_problem(p, s, config.c_str());
  }
  MESSAGE("candidate configs tested: " << runs.size());
  CHECK(runs.size() == candidates.size());  // every candidate found a layout it runs
}

// Split-K (rank 0 of a cluster sums the CTAs' partials, then adds C): every layout, the fp32 and
// 16-bit epilogues, C, K tails and splits that do not divide the K blocks; sanitizer-sized.
GPU_CASE("sm90 bf16 sanitizer split-K dense") {
  check_spec(spec_of(Layout::dense, {200}, 264, 1000), "BLOCK_M=64,BLOCK_N=64,SPLIT_K=4");
}
GPU_CASE("sm90 bf16 sanitizer split-K contiguous_indices") {
  ProblemSpec s = spec_of(Layout::contiguous_indices, {70, 0, 130}, 264, 400, DType::bf16, DType::fp32);
  s.with_c = true;
  check_spec(s, "BLOCK_M=128,BLOCK_N=128,SPLIT_K=2");
}
GPU_CASE("sm90 bf16 sanitizer split-K contiguous_offsets") {
  ProblemSpec s = spec_of(Layout::contiguous_offsets, {70, 0, 130}, 264, 400, DType::fp16, DType::fp16);
  s.with_c = true;
  s.c = DType::fp16;
  check_spec(s, "BLOCK_M=64,BLOCK_N=128,SPLIT_K=3");
}
GPU_CASE("sm90 bf16 sanitizer split-K masked") {
  ProblemSpec s = spec_of(Layout::masked, {70, 0, 130}, 264, 1000, DType::bf16, DType::bf16);
  s.max_m = 160;
  check_spec(s, "BLOCK_M=256,BLOCK_N=64,SPLIT_K=2");
}
GPU_CASE("sm90 bf16 split-K on the small-M PEERS shapes") {
  for (const char* config : {"BLOCK_M=64,BLOCK_N=64,SPLIT_K=4", "BLOCK_M=128,BLOCK_N=128,SPLIT_K=2"}) {
    check_spec(spec_of(Layout::dense, {64}, 2112, 7168), config);
    check_spec(spec_of(Layout::dense, {128}, 4096, 7168, DType::bf16, DType::bf16, 11), config);
  }
}
GPU_CASE("sm90 bf16 split-K CUDA graph: replay while masked_m changes") {
  ProblemSpec spec = spec_of(Layout::masked, {100, 20, 300, 0}, 392, 1040);
  spec.max_m = 320;
  check_graph_replays(spec, {{100, 20, 300, 0}, {320, 0, 1, 17}, {0, 0, 0, 0}, {-5, 1000, 7, 129}},
                      "BLOCK_M=64,BLOCK_N=64,SPLIT_K=2");
}

// Multicast pairs (CLUSTER=2: each CTA of a pair loads half of the A tile the pair shares): every
// layout; odd n-block counts (pairs across two m-blocks load A whole), padding and empty experts
// (null steps of one CTA), more tiles than CTAs (the ring's slots refilled from both CTAs), the
// one-warpgroup 64-row tile (32-row halves) and 256-row tiles; sanitizer-sized.
GPU_CASE("sm90 bf16 sanitizer multicast dense") {
  check_spec(spec_of(Layout::dense, {200}, 264, 400), "BLOCK_M=64,BLOCK_N=64,CLUSTER=2");
  check_spec(spec_of(Layout::dense, {1000}, 3000, 400, DType::bf16, DType::bf16, 5), "BLOCK_M=128,BLOCK_N=256,CLUSTER=2");
}
GPU_CASE("sm90 bf16 sanitizer multicast contiguous_indices") {
  ProblemSpec s = spec_of(Layout::contiguous_indices, {70, 0, 130, 1, 300}, 264, 400, DType::bf16, DType::fp32);
  s.with_c = true;
  check_spec(s, "BLOCK_M=128,BLOCK_N=64,CLUSTER=2");
}
GPU_CASE("sm90 bf16 sanitizer multicast contiguous_offsets") {
  ProblemSpec s = spec_of(Layout::contiguous_offsets, {70, 0, 130, 1, 300}, 264, 400, DType::fp16, DType::fp16);
  s.with_c = true;
  s.c = DType::fp16;
  check_spec(s, "BLOCK_M=64,BLOCK_N=128,CLUSTER=2");
}
GPU_CASE("sm90 bf16 sanitizer multicast masked") {
  ProblemSpec s = spec_of(Layout::masked, {70, 0, 130, 300}, 264, 1000, DType::bf16, DType::bf16);
  s.max_m = 320;
  check_spec(s, "BLOCK_M=256,BLOCK_N=64,CLUSTER=2");
}
// B pairs (SHARE_B=1: two m-blocks of one n-block share B): an odd m-block count (the last pairs
// with nothing), N and K tails, m_indices padding and experts whose pairs straddle two experts.
GPU_CASE("sm90 bf16 sanitizer multicast B dense") {
  check_spec(spec_of(Layout::dense, {777}, 264, 400), "BLOCK_M=64,BLOCK_N=64,CLUSTER=2,SHARE_B=1");
  check_spec(spec_of(Layout::dense, {200}, 3000, 1000, DType::fp16, DType::fp32, 3),
             "BLOCK_M=128,BLOCK_N=192,CLUSTER=2,SHARE_B=1");
}
GPU_CASE("sm90 bf16 sanitizer multicast B contiguous_indices") {
  ProblemSpec s = spec_of(Layout::contiguous_indices, {70, 0, 130, 1, 300}, 264, 400, DType::bf16, DType::bf16);
  s.with_c = true;
  check_spec(s, "BLOCK_M=64,BLOCK_N=128,CLUSTER=2,SHARE_B=1");
  check_spec(s, "BLOCK_M=128,BLOCK_N=64,CLUSTER=2,SHARE_B=1");
}
// B pairs in the per-expert layouts: two m-blocks of one expert (an expert's odd last block pairs
// with nothing; empty and 1-row experts).
GPU_CASE("sm90 bf16 sanitizer multicast B contiguous_offsets and masked") {
  check_spec(spec_of(Layout::contiguous_offsets, {70, 0, 130, 1, 300}, 264, 400, DType::bf16, DType::bf16),
             "BLOCK_M=64,BLOCK_N=128,CLUSTER=2,SHARE_B=1");
  ProblemSpec s = spec_of(Layout::masked, {70, 0, 130, 1, 300}, 264, 400, DType::fp16, DType::fp32);
  s.max_m = 320;
  check_spec(s, "BLOCK_M=128,BLOCK_N=64,CLUSTER=2,SHARE_B=1");
}
// L2 hints (A's loads evict last, B's first; the heuristics' choice on the small-M dense PEERS
// shapes): forced onto every layout, A and B pairs and split-K; sanitizer-sized.
GPU_CASE("sm90 bf16 sanitizer L2 hints") {
  check_spec(spec_of(Layout::dense, {1000}, 3000, 400, DType::bf16, DType::bf16, 5), "BLOCK_M=128,BLOCK_N=256,L2_HINTS=1");
  check_spec(spec_of(Layout::dense, {200}, 264, 1040), "BLOCK_M=128,BLOCK_N=64,SPLIT_K=2,L2_HINTS=1");
  check_spec(spec_of(Layout::dense, {777}, 264, 400), "BLOCK_M=64,BLOCK_N=64,CLUSTER=2,SHARE_B=1,L2_HINTS=1");
  ProblemSpec c = spec_of(Layout::contiguous_indices, {70, 0, 130, 1, 300}, 264, 400, DType::bf16, DType::fp32);
  c.with_c = true;
  check_spec(c, "BLOCK_M=128,BLOCK_N=64,CLUSTER=2,L2_HINTS=1");
  check_spec(spec_of(Layout::contiguous_offsets, {70, 0, 130, 1, 300}, 264, 400, DType::fp16, DType::fp16),
             "BLOCK_M=64,BLOCK_N=128,L2_HINTS=1");
  ProblemSpec s = spec_of(Layout::masked, {70, 0, 130, 300}, 264, 1000);
  s.max_m = 320;
  check_spec(s, "BLOCK_M=256,BLOCK_N=64,L2_HINTS=1");
}

GPU_CASE("sm90 bf16 multicast on PEERS shapes") {
  check_spec(spec_of(Layout::dense, {128}, 4096, 7168, DType::bf16, DType::bf16, 9),
             "BLOCK_M=64,BLOCK_N=64,CLUSTER=2,SHARE_B=1");
  check_spec(spec_of(Layout::dense, {4096}, 2112, 7168, DType::bf16, DType::bf16, 13),
             "BLOCK_M=128,BLOCK_N=176,CLUSTER=2,SHARE_B=1");
  check_spec(spec_of(Layout::dense, {128}, 4096, 7168), "BLOCK_M=64,BLOCK_N=64,CLUSTER=2");
  check_spec(spec_of(Layout::dense, {64}, 2112, 7168, DType::bf16, DType::bf16, 7), "BLOCK_M=64,BLOCK_N=32,CLUSTER=2");
  ProblemSpec s = bench::make_spec(bench::load_suite("moe-contiguous").shapes[1], bench::parse_recipe("bf16"));
  check_spec(s, "BLOCK_M=128,BLOCK_N=256,CLUSTER=2");
  s = bench::make_spec(bench::load_suite("moe-masked").shapes[5], bench::parse_recipe("bf16"));
  check_spec(s, "BLOCK_M=128,BLOCK_N=192,CLUSTER=2");
}
GPU_CASE("sm90 bf16 multicast CUDA graph: replay while masked_m changes") {
  ProblemSpec spec = spec_of(Layout::masked, {100, 20, 300, 0}, 392, 1040);
  spec.max_m = 320;
  check_graph_replays(spec, {{100, 20, 300, 0}, {320, 0, 1, 17}, {0, 0, 0, 0}, {-5, 1000, 7, 129}},
                      "BLOCK_M=128,BLOCK_N=128,CLUSTER=2");
}

GPU_CASE("sm90 bf16 CUDA graph: replay while masked_m changes") {
  ProblemSpec spec = spec_of(Layout::masked, {100, 20, 300, 0}, 392, 1040);
  spec.max_m = 320;
  check_graph_replays(spec, {{100, 20, 300, 0}, {320, 0, 1, 17}, {0, 0, 0, 0}, {1, 319, 320, 64}, {-5, 1000, 7, 129}});
}

GPU_CASE("sm90 bf16 CUDA graph: replay while group offsets change") {
  ProblemSpec spec = spec_of(Layout::contiguous_offsets, {100, 20, 300, 0, 77}, 392, 400, DType::bf16, DType::fp32);
  spec.extra_rows = 50;  // totals below the 547 rows leave trailing rows that must stay untouched
  check_graph_replays(spec, {{100, 20, 300, 0, 77}, {0, 0, 0, 0, 547}, {1, 1, 1, 1, 1}, {547, 0, 0, 0, 0},
                             {129, 128, 127, 0, 130}});
}

}  // TEST_SUITE
