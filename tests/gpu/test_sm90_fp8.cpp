// The sm90 FP8 family on a Hopper GPU (skipped elsewhere): every PEERS.md shape (deepgemm-dense,
// moe-contiguous, moe-masked with the fp8 recipe), the same MoE shapes by group offsets, decode
// and odd shapes (N and K tails, M = 1, empty experts), every candidate config, CUDA-graph replay
// with changing masked_m / offsets, the promotion test, and the A-scale transpose helper. Each
// case: random e4m3 inputs with random scales, poisoned output, then calc_diff < 2e-5 against the
// reference family (the exact product of the dequantized inputs, with the same 128-wide K
// blocking), no NaN, every valid element written, every padding/masked row untouched.
#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <numeric>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/suite.hpp"
#include "runtime/launcher.hpp"
#include "runtime/sm90_fp8_gemm.hpp"
#include "testing/problem.hpp"
#include "gemm_cases.hpp"
#include "test_util.hpp"

using namespace jit;
using testing::GpuProblem;
using testing::ProblemSpec;

namespace {

namespace fp8 = detail::sm90_fp8_gemm;
constexpr double kTolerance = 2e-5;

// One runtime over a private cache for the whole file: each kernel compiles once per run.
Runtime& rt() {
  static test::TempDir dir("sm90-fp8-gpu");
  static Runtime r(test::quiet_options(dir.path()));
  return r;
}

bool on_hopper() {
  testing::use_device();
  testing::Stream s;
  return rt().device_of(s).arch == "sm_90a";
}

#define REQUIRE_HOPPER()                                       \
  if (!on_hopper()) {                                          \
    MESSAGE("not an sm_90a device: the sm90 FP8 family does not apply"); \
    return;                                                    \
  }

GemmOptions fp8_options(const char* config = nullptr, bool no_promotion = false) {
  return GemmOptions{.family = Family::sm90, .config = config, .fp8_no_promotion = no_promotion};
}

void run_fp8(const GpuProblem& p, CUstream s, const GemmOptions& o) {
  if (p.spec().layout == Layout::dense) rt().gemm(p.dense_args(), s, o);
  else rt().grouped_gemm(p.grouped_args(), s, o);
}

// Poison, run sm90 fp8, run the reference, compare.
testing::CheckResult run_and_check(const GpuProblem& p, CUstream s, const GemmOptions& o) {
  p.poison(s);
  run_fp8(p, s, o);
  p.run_reference(s, rt());
  return p.check(s);
}

ProblemSpec fp8_spec(Layout layout, std::vector<int> rows, i64 n, i64 k, std::uint64_t seed = 7) {
  ProblemSpec s;
  s.layout = layout;
  s.rows = std::move(rows);
  s.n = n;
  s.k = k;
  s.ab = DType::e4m3;
  s.d = DType::bf16;
  s.sa = ScaleKind::block_1x128;
  s.sb = ScaleKind::block_128x128;
  s.seed = seed;
  return s;
}

void check_spec(const ProblemSpec& spec, const char* config = nullptr) {
  REQUIRE_HOPPER();
  testing::Stream s;
  GpuProblem p(spec, s);
  const GemmOptions o = fp8_options(config);
  const testing::CheckResult r = run_and_check(p, s, o);
  const std::string chose = rt().choice(bench::make_desc(p.spec()), rt().device_of(s), o);
  MESSAGE(spec.describe() << " -> " << chose << ": calc_diff " << fmt::format("{:.3e}", r.diff));
  INFO(spec.describe() << ": " << r.summary() << "\n  chose: " << chose);
  REQUIRE(r.ok(kTolerance));
}

void check_suite_shape(const char* suite, std::size_t index, Layout as = Layout::dense) {
  const bench::Suite s = bench::load_suite(suite);
  REQUIRE(index < s.shapes.size());
  ProblemSpec spec = bench::make_spec(s.shapes[index], bench::parse_recipe("fp8"));
  if (as != Layout::dense) spec.layout = as;  // the same experts, described another way
  check_spec(spec);
}

// A masked problem (4 experts, max_m 320) captured in a CUDA graph under a forced config, replayed
// while masked_m changes: empty, full, clamped (negative, > max_m) experts.
void check_masked_replays(i64 k, const char* config) {
  REQUIRE_HOPPER();
  ProblemSpec spec = fp8_spec(Layout::masked, {100, 20, 300, 0}, 392, k);
  spec.max_m = 320;
  test::check_graph_replays(rt(), spec, {{100, 20, 300, 0}, {320, 0, 1, 17}, {0, 0, 0, 0}, {-5, 1000, 7, 129}},
                            kTolerance,
                            [config](const GpuProblem& p, CUstream st) { run_fp8(p, st, fp8_options(config)); });
}

}  // namespace

TEST_SUITE("test_sm90_fp8") {

// One case per suite shape (tests/gpu/gemm_cases.hpp): PEERS.md dense and MoE, decode, odd.
JIT_ALL_SUITE_CASES("sm90 fp8", check_suite_shape)

// The moe-contiguous experts without padding, by cumulative offsets (experts then start at any
// row, and a tile's tail rows belong to the next expert: they must not be written).
#define OFFSETS_CASE(i) \
  GPU_CASE("sm90 fp8 moe-contiguous #" #i " by offsets") { check_suite_shape("moe-contiguous", i, Layout::contiguous_offsets); }
OFFSETS_CASE(0)
OFFSETS_CASE(1)
OFFSETS_CASE(2)
OFFSETS_CASE(3)
OFFSETS_CASE(4)
OFFSETS_CASE(5)
#undef OFFSETS_CASE

GPU_CASE("sm90 fp8 M = 1") {
  check_spec(fp8_spec(Layout::dense, {1}, 7168, 16384));
  check_spec(fp8_spec(Layout::dense, {1}, 8, 16));
  check_spec(fp8_spec(Layout::masked, {1, 0, 1}, 520, 400));
}

GPU_CASE("sm90 fp8 N and K tails") {
  // N not a multiple of 128 (nor of a tile), K not a multiple of 128: the last K block is partial
  // and zero-filled by TMA, the last tile's columns past N are clipped.
  for (i64 n : {8, 24, 136, 200, 1000, 2104})
    for (i64 k : {16, 112, 144, 1040, 2064}) check_spec(fp8_spec(Layout::dense, {333}, n, k, n + k));
}

GPU_CASE("sm90 fp8 empty experts in every grouped layout") {
  const std::vector<int> rows = {0, 129, 0, 1, 300, 0, 64, 0};
  check_spec(fp8_spec(Layout::contiguous_indices, rows, 392, 528));
  check_spec(fp8_spec(Layout::contiguous_offsets, rows, 392, 528));
  ProblemSpec masked = fp8_spec(Layout::masked, rows, 392, 528);
  masked.max_m = 320;
  check_spec(masked);
  ProblemSpec offsets = fp8_spec(Layout::contiguous_offsets, {0, 0, 0}, 256, 256);
  offsets.extra_rows = 77;  // every row past the last expert: nothing may be written
  check_spec(offsets);
  check_spec(fp8_spec(Layout::masked, {0, 0, 0, 0}, 256, 256));
}

// Small, one per layout: the configs to run under compute-sanitizer (memcheck, racecheck,
// synccheck), e.g. --test-case='sm90 fp8 small*'.
GPU_CASE("sm90 fp8 sanitizer small dense") { check_spec(fp8_spec(Layout::dense, {200}, 264, 400)); }
GPU_CASE("sm90 fp8 sanitizer small contiguous_indices") { check_spec(fp8_spec(Layout::contiguous_indices, {70, 0, 130}, 264, 400)); }
GPU_CASE("sm90 fp8 sanitizer small contiguous_offsets") { check_spec(fp8_spec(Layout::contiguous_offsets, {70, 0, 130}, 264, 400)); }
GPU_CASE("sm90 fp8 sanitizer small masked") {
  ProblemSpec s = fp8_spec(Layout::masked, {70, 0, 130}, 264, 400);
  s.max_m = 160;
  check_spec(s);
}
// More tiles than CTAs (the persistent grid holds at most one CTA per SM), so that every pipeline
// slot is refilled after the consumers read it -- the one-tile cases above fill each slot once and
// cannot show a hazard between a slot's readers and its next fill. Both K loops (overlapped and
// plain, 1 and 2 warpgroups, a straddling BLOCK_N); still small enough for the sanitizers.
GPU_CASE("sm90 fp8 sanitizer multi-tile dense") {
  check_spec(fp8_spec(Layout::dense, {1000}, 3000, 400), "BLOCK_M=128,BLOCK_N=128");
}
// 64x32: ~11 tiles per CTA, so the 4-slot TileInfo ring wraps too.
GPU_CASE("sm90 fp8 sanitizer multi-tile dense ring") {
  check_spec(fp8_spec(Layout::dense, {1000}, 3000, 400), "BLOCK_M=64,BLOCK_N=32");
}
GPU_CASE("sm90 fp8 sanitizer multi-tile contiguous_indices") {
  check_spec(fp8_spec(Layout::contiguous_indices, {300, 0, 470, 130}, 3000, 400), "BLOCK_M=128,BLOCK_N=160");
}
GPU_CASE("sm90 fp8 sanitizer multi-tile contiguous_offsets") {
  check_spec(fp8_spec(Layout::contiguous_offsets, {300, 0, 470, 130}, 3000, 400), "BLOCK_M=64,BLOCK_N=112");
}
GPU_CASE("sm90 fp8 sanitizer multi-tile masked") {
  ProblemSpec s = fp8_spec(Layout::masked, {300, 0, 470, 130}, 3000, 400);
  s.max_m = 512;
  check_spec(s, "BLOCK_M=256,BLOCK_N=64");
}
// Split-K (the CTAs of a cluster share a tile's K blocks; rank 0 sums the partials from
// distributed shared memory): every layout, K tails (400, 1040), 3- and 4-way splits that do not
// divide the K blocks, the 1- and 2-warpgroup consumers; small enough for the sanitizers.
GPU_CASE("sm90 fp8 sanitizer split-K dense") {
  check_spec(fp8_spec(Layout::dense, {200}, 264, 1040), "BLOCK_M=64,BLOCK_N=64,SPLIT_K=4");
}
GPU_CASE("sm90 fp8 sanitizer split-K contiguous_indices") {
  check_spec(fp8_spec(Layout::contiguous_indices, {70, 0, 130}, 264, 400), "BLOCK_M=128,BLOCK_N=96,SPLIT_K=2");
}
GPU_CASE("sm90 fp8 sanitizer split-K contiguous_offsets") {
  check_spec(fp8_spec(Layout::contiguous_offsets, {70, 0, 130}, 264, 400), "BLOCK_M=64,BLOCK_N=32,SPLIT_K=3");
}
GPU_CASE("sm90 fp8 sanitizer split-K masked") {
  ProblemSpec s = fp8_spec(Layout::masked, {70, 0, 130}, 264, 1040);
  s.max_m = 160;
  check_spec(s, "BLOCK_M=128,BLOCK_N=64,SPLIT_K=4");
}
GPU_CASE("sm90 fp8 split-K on the small-M PEERS shapes") {
  for (const char* config : {"BLOCK_M=64,BLOCK_N=64,SPLIT_K=4", "BLOCK_M=128,BLOCK_N=64,SPLIT_K=2",
                             "BLOCK_M=64,BLOCK_N=128,SPLIT_K=2,OVERLAP=0"}) {
    check_spec(fp8_spec(Layout::dense, {64}, 2112, 7168), config);
    check_spec(fp8_spec(Layout::dense, {128}, 4096, 7168, 11), config);
  }
}
GPU_CASE("sm90 fp8 split-K CUDA graph: replay while masked_m changes") {
  check_masked_replays(1040, "BLOCK_M=64,BLOCK_N=64,SPLIT_K=2");
}

// L2 hints (A's loads evict last, B's first; the heuristics' choice on the small-M dense PEERS
// shapes above): forced onto every layout, a multicast pair and split-K. Cache policies must not
// change a bit of the result; sanitizer-sized.
GPU_CASE("sm90 fp8 sanitizer L2 hints") {
  check_spec(fp8_spec(Layout::dense, {1000}, 3000, 400), "BLOCK_M=128,BLOCK_N=128,L2_HINTS=1");
  check_spec(fp8_spec(Layout::dense, {200}, 264, 1040), "BLOCK_M=64,BLOCK_N=64,SPLIT_K=4,L2_HINTS=1");
  check_spec(fp8_spec(Layout::contiguous_indices, {300, 0, 470, 130}, 3000, 400),
             "BLOCK_M=128,BLOCK_N=64,CLUSTER=2,L2_HINTS=1");
  check_spec(fp8_spec(Layout::contiguous_offsets, {70, 0, 130}, 264, 400), "BLOCK_M=64,BLOCK_N=32,L2_HINTS=1");
  ProblemSpec s = fp8_spec(Layout::masked, {70, 0, 130}, 264, 1040);
  s.max_m = 160;
  check_spec(s, "BLOCK_M=128,BLOCK_N=64,L2_HINTS=1");
}

// The plain K loop takes every tile from slot 0 and completes its last round of STAGES slots
// empty (sm90/fp8_gemm.cuh, fp8_consume): K blocks below, at and past a round, each remainder, on
// enough tiles per CTA that the rounds run on across tiles; 256-row tiles whose last m-block has
// two, one or no active 64-row wave per warpgroup (333 and 77 rows); multicast pairs with null
// steps and split-K shares of the plain loop.
GPU_CASE("sm90 fp8 plain loop: every remainder of the stage rounds") {
  for (i64 k : {128, 256, 384, 400, 512, 896, 1040})
    check_spec(fp8_spec(Layout::dense, {333}, 2000, k, 3 + k), "BLOCK_M=256,BLOCK_N=128,STAGES=3");
  check_spec(fp8_spec(Layout::dense, {77}, 3000, 1040), "BLOCK_M=256,BLOCK_N=64,STAGES=4");
  check_spec(fp8_spec(Layout::contiguous_offsets, {300, 0, 470, 130}, 3000, 1040), "BLOCK_M=128,BLOCK_N=192,STAGES=3");
  check_spec(fp8_spec(Layout::contiguous_indices, {300, 0, 470, 130}, 3000, 640), "BLOCK_M=128,BLOCK_N=160,CLUSTER=2,STAGES=4");
  ProblemSpec s = fp8_spec(Layout::masked, {300, 0, 470, 130}, 3000, 1040);
  s.max_m = 512;
  check_spec(s, "BLOCK_M=256,BLOCK_N=96,CLUSTER=2,STAGES=3");
  check_spec(fp8_spec(Layout::dense, {200}, 2000, 1040), "BLOCK_M=128,BLOCK_N=64,SPLIT_K=3,OVERLAP=0,STAGES=4");
}

GPU_CASE("sm90 fp8 small multicast") { check_spec(fp8_spec(Layout::dense, {777}, 1000, 400), "BLOCK_M=128,BLOCK_N=64,CLUSTER=2"); }

// B pairs (SHARE_B=1: two m-blocks of one n-block and expert share B), every layout: odd m-block
// counts (an expert's last block pairs with nothing: a null step), N and K tails, empty experts,
// m_indices padding and pairs whose halves belong to two experts; the overlapped loop (128x64,
// 64x48: 24-row halves of B), the plain loop (128x160, 64x160, 256x96).
GPU_CASE("sm90 fp8 sanitizer multicast B dense") {
  check_spec(fp8_spec(Layout::dense, {777}, 1000, 400), "BLOCK_M=128,BLOCK_N=64,CLUSTER=2,SHARE_B=1");
  check_spec(fp8_spec(Layout::dense, {333}, 264, 1040), "BLOCK_M=64,BLOCK_N=48,CLUSTER=2,SHARE_B=1");
}
GPU_CASE("sm90 fp8 sanitizer multicast B contiguous_indices") {
  const ProblemSpec s = fp8_spec(Layout::contiguous_indices, {300, 0, 470, 1, 130}, 1000, 400);
  check_spec(s, "BLOCK_M=128,BLOCK_N=160,CLUSTER=2,SHARE_B=1,STAGES=3");
  check_spec(s, "BLOCK_M=64,BLOCK_N=64,CLUSTER=2,SHARE_B=1");
}
GPU_CASE("sm90 fp8 sanitizer multicast B contiguous_offsets") {
  const ProblemSpec s = fp8_spec(Layout::contiguous_offsets, {300, 0, 470, 1, 130}, 1000, 400);
  check_spec(s, "BLOCK_M=128,BLOCK_N=64,CLUSTER=2,SHARE_B=1");
  check_spec(s, "BLOCK_M=64,BLOCK_N=160,CLUSTER=2,SHARE_B=1,STAGES=4");
}
GPU_CASE("sm90 fp8 sanitizer multicast B masked") {
  ProblemSpec s = fp8_spec(Layout::masked, {300, 0, 470, 1, 130}, 1000, 400);
  s.max_m = 512;
  check_spec(s, "BLOCK_M=128,BLOCK_N=160,CLUSTER=2,SHARE_B=1,STAGES=3");
  check_spec(s, "BLOCK_M=64,BLOCK_N=48,CLUSTER=2,SHARE_B=1");
  check_spec(s, "BLOCK_M=256,BLOCK_N=96,CLUSTER=2,SHARE_B=1,STAGES=3");
}
GPU_CASE("sm90 fp8 multicast B on PEERS shapes") {
  const auto shape = [](const char* suite, std::size_t i) {
    return bench::make_spec(bench::load_suite(suite).shapes.at(i), bench::parse_recipe("fp8"));
  };
  check_spec(shape("moe-contiguous", 0), "BLOCK_M=128,BLOCK_N=160,CLUSTER=2,SHARE_B=1");  // 4x8192 4096x7168
  check_spec(shape("moe-masked", 2), "BLOCK_M=128,BLOCK_N=160,CLUSTER=2,SHARE_B=1");      // 2x512 4096x7168
  check_spec(fp8_spec(Layout::dense, {4096}, 7168, 2048), "BLOCK_M=128,BLOCK_N=128,CLUSTER=2,SHARE_B=1");
}
GPU_CASE("sm90 fp8 multicast B CUDA graph: replay while masked_m changes") {
  check_masked_replays(400, "BLOCK_M=64,BLOCK_N=64,CLUSTER=2,SHARE_B=1");
}

GPU_CASE("sm90 fp8 every candidate config, every layout, on a mid-size shape") {
  REQUIRE_HOPPER();
  testing::Stream s;
  const DeviceSpec& dev = rt().device_of(s);
  struct Case {
    Layout layout;
    std::vector<int> rows;
  };
  const Case cases[] = {
      {Layout::dense, {777}},
      {Layout::contiguous_indices, {300, 0, 257, 1, 130}},
      {Layout::contiguous_offsets, {300, 0, 257, 1, 130}},
      {Layout::masked, {300, 0, 257, 1, 130}},
  };
  // Compile everything first, in parallel (NVRTC is the slow part).
  std::vector<std::pair<ProblemSpec, std::string>> runs;
  for (const Case& c : cases) {
    ProblemSpec spec = fp8_spec(c.layout, c.rows, 1000, 1040, runs.size() + 3);
    if (c.layout == Layout::masked) spec.max_m = 320;
    for (const fp8::TileConfig& t : fp8::candidate_configs(c.layout, dev.smem_per_block_optin))
      runs.emplace_back(spec, fp8::to_string(t));
  }
  {
    std::vector<std::future<PrecompileResult>> jobs;
    const unsigned workers = std::max(2u, std::min(16u, std::thread::hardware_concurrency()));
    for (std::size_t i = 0; i < runs.size(); i += workers) {
      for (std::size_t j = i; j < std::min(runs.size(), i + workers); ++j)
        jobs.push_back(std::async(std::launch::async, [&, j] {
          return rt().precompile(bench::make_desc(runs[j].first), dev, fp8_options(runs[j].second.c_str()));
        }));
      for (auto& f : jobs) {
        const PrecompileResult r = f.get();
        INFO(r.error);
        CHECK(r.status != PrecompileResult::Status::failed);
      }
      jobs.clear();
    }
  }
  for (const auto& [spec, config] : runs) check_spec(spec, config.c_str());
  MESSAGE("configs x layouts tested: " << runs.size());
  CHECK(runs.size() >= 100);
}

GPU_CASE("sm90 fp8 CUDA graph: replay while masked_m changes") {
  REQUIRE_HOPPER();
  ProblemSpec spec = fp8_spec(Layout::masked, {100, 20, 300, 0}, 392, 1040);
  spec.max_m = 320;
  test::check_graph_replays(rt(), spec,
                            {{100, 20, 300, 0}, {320, 0, 1, 17}, {0, 0, 0, 0}, {1, 319, 320, 64}, {-5, 1000, 7, 129}},
                            kTolerance, [](const GpuProblem& p, CUstream st) { run_fp8(p, st, fp8_options()); });
}

GPU_CASE("sm90 fp8 CUDA graph: replay while group offsets change") {
  REQUIRE_HOPPER();
  ProblemSpec spec = fp8_spec(Layout::contiguous_offsets, {100, 20, 300, 0, 77}, 392, 400);
  spec.extra_rows = 50;
  test::check_graph_replays(
      rt(), spec,
      {{100, 20, 300, 0, 77}, {0, 0, 0, 0, 547}, {1, 1, 1, 1, 1}, {547, 0, 0, 0, 0}, {129, 128, 127, 0, 130}}, kTolerance,
      [](const GpuProblem& p, CUstream st) { run_fp8(p, st, fp8_options()); });
}

// The B scales may start at any 4-byte boundary, with rows that are not 16-byte aligned (the kernel
// reads them through a flat tensor map from the 16-byte boundary below them): the same problem with
// its B scales copied 1, 2 and 3 floats past such a boundary gives the same output. K = 1040: 9
// scales a row; BLOCK_N = 112: tiles that straddle two scale rows.
GPU_CASE("sm90 fp8 B scales at any 4-byte offset") {
  REQUIRE_HOPPER();
  testing::Stream s;
  for (Layout l : {Layout::dense, Layout::masked}) {
    ProblemSpec spec = fp8_spec(l, l == Layout::dense ? std::vector<int>{300} : std::vector<int>{300, 0, 170}, 1000, 1040);
    if (l == Layout::masked) spec.max_m = 320;
    GpuProblem p(spec, s);
    p.run_reference(s, rt());
    const std::size_t bytes = p.sfb().size();
    testing::DeviceBuffer moved(bytes + 16);
    for (int shift : {1, 2, 3}) {
      const auto dst = reinterpret_cast<CUdeviceptr>(moved.get()) + 4 * shift;
      TEST_CU(cuMemcpyDtoDAsync(dst, reinterpret_cast<CUdeviceptr>(p.sfb().get()), bytes, s));
      const float* sfb = moved.as<const float>() + shift;
      const GemmOptions o = fp8_options("BLOCK_M=128,BLOCK_N=112");
      p.poison(s);
      if (l == Layout::dense) {
        GemmArgs a = p.dense_args();
        a.b_scales.data = sfb;
        rt().gemm(a, s, o);
      } else {
        GroupedGemmArgs g = p.grouped_args();
        g.b_scales.data = sfb;
        rt().grouped_gemm(g, s, o);
      }
      const testing::CheckResult r = p.check(s);
      INFO(layout_name(l) << " B scales " << shift << " floats past a 16-byte boundary: " << r.summary());
      REQUIRE(r.ok(kTolerance));
    }
  }
}

// Without the per-128-K promotion (GemmOptions::fp8_no_promotion: all of K accumulates inside the
// tensor cores, scaled once by the first K block's scales), the error grows with K. The scales are
// made constant so that both variants compute the same mathematical result.
GPU_CASE("sm90 fp8 promotion: without it, K = 16384 is measurably less accurate") {
  REQUIRE_HOPPER();
  testing::Stream s;
  for (Layout l : {Layout::dense, Layout::masked}) {
    ProblemSpec spec = fp8_spec(l, l == Layout::dense ? std::vector<int>{512} : std::vector<int>{300, 200}, 1024, 16384);
    GpuProblem p(spec, s);
    testing::fill_random(s, p.sfa().get(), DType::fp32, static_cast<i64>(p.sfa().size() / 4), 1, 1.f, 1.f);
    testing::fill_random(s, p.sfb().get(), DType::fp32, static_cast<i64>(p.sfb().size() / 4), 2, 1.f, 1.f);
    const testing::CheckResult with = run_and_check(p, s, fp8_options());
    const testing::CheckResult without = run_and_check(p, s, fp8_options(nullptr, true));
    MESSAGE(layout_name(l) << " K=16384: calc_diff with promotion " << fmt::format("{:.3e}", with.diff)
                           << ", without " << fmt::format("{:.3e}", without.diff));
    INFO(with.summary() << "\n" << without.summary());
    CHECK(with.ok(kTolerance));
    CHECK(without.nan_out == 0);
    CHECK(without.written_padding == 0);
    CHECK(without.diff > 4 * with.diff);
  }
}

GPU_CASE("transpose_a_scales: row-major to M-major, padded, on the GPU") {
  REQUIRE_HOPPER();
  testing::Stream s;
  const std::vector<std::tuple<i64, i64, int>> shapes = {{1, 16, 1}, {77, 1040, 1}, {300, 7168, 3}, {4096, 256, 2}};
  for (const auto& [rows, k, groups] : shapes) {
    const i64 kb = (k + 127) / 128, ld = a_scales_ld(rows);
    std::vector<float> host(groups * rows * kb);
    for (std::size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>(i % 1000) * 0.25f + 1.f;
    testing::DeviceBuffer in(host.size() * 4), out(groups * kb * ld * 4);
    in.upload(host.data(), host.size() * 4);
    testing::fill_bytes(s, out.get(), 0xCD, out.size());
    transpose_a_scales(in.as<const float>(), out.as<float>(), rows, k, s, 0, 0, groups);
    s.sync();
    std::vector<float> got(groups * kb * ld);
    out.download(got.data(), got.size() * 4);
    i64 bad = 0;
    for (int g = 0; g < groups; ++g)
      for (i64 c = 0; c < kb; ++c)
        for (i64 r = 0; r < ld; ++r) {
          const float want = r < rows ? host[(g * rows + r) * kb + c] : 0.f;
          bad += got[(g * kb + c) * ld + r] != want;
        }
    INFO(rows << " x " << k << " x " << groups);
    CHECK(bad == 0);
  }
}

}  // TEST_SUITE

TEST_SUITE("test_sm90_clusters") {

// How many clusters of 1, 2 and 4 CTAs with a GEMM's shared memory the device holds at once (what
// the split-K grids are capped at, cap_grid_to_resident_clusters): a whole GPC holds whole
// clusters only, so 132 SMs need not hold 66 pairs or 33 quads.
GPU_CASE("sm90 co-resident clusters for split-K grids") {
  REQUIRE_HOPPER();
  testing::Stream s;
  for (unsigned smem : {100u << 10, 200u << 10, 227u << 10}) {
    // One kernel per size: a loaded function keeps the dynamic shared memory it was loaded with.
    const std::string name = fmt::format("cluster_probe_{}", smem >> 10);
    const CUfunction fn = rt().load_kernel(
        s, fmt::format("__global__ void {}(int* p) {{ if (p) p[threadIdx.x] = 1; }}\n", name), name, smem);
    for (unsigned cs : {1u, 2u, 4u}) {
      detail::LaunchDims d;
      d.grid[0] = 132 / cs * cs;
      d.block[0] = 384;
      d.cluster[0] = cs;
      d.smem = smem;
      const int resident = detail::cap_grid_to_resident_clusters(fn, d);
      MESSAGE("smem " << (smem >> 10) << " KB, clusters of " << cs << ": driver says " << resident
                      << " co-resident, grid " << d.grid[0] << " CTAs");
      CHECK(d.grid[0] >= cs);
      CHECK(d.grid[0] % cs == 0);
    }
  }
}

}  // TEST_SUITE
