// The sm80 family without a GPU: NVRTC compiles every tile config the heuristics can choose (each
// candidate in all four layouts, and the choice for every shape of every suite) for sm_80, sm_86,
// sm_89 and sm_90a with zero local-memory spills; forced configs and unsupported dtypes fail clearly.
// The Hopper choices are held to the H200 tile sweep the model is fitted to.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "bench/suite.hpp"
#include "jit/errors.hpp"
#include "runtime/family.hpp"
#include "runtime/l2_hints.hpp"
#include "runtime/sm80_gemm.hpp"
#include "test_util.hpp"

namespace jit::test {

namespace {

using detail::sm80_gemm::TileConfig;

const char* const kArchs[] = {"sm_80", "sm_86", "sm_89", "sm_90a"};

ProblemDesc problem(Layout l, DType ab, DType d, bool has_c, DType c, std::int64_t m = 4096,
                    std::int64_t n = 4096, std::int64_t k = 4096, int groups = 1) {
  ProblemDesc p;
  p.layout = l;
  p.num_groups = l == Layout::dense ? 1 : groups;
  p.m = m;
  p.n = n;
  p.k = k;
  p.expected_m = l == Layout::masked ? m / 2 : 0;
  p.a = p.b = ab;
  p.d = d;
  p.has_c = has_c;
  p.c = c;
  return p;
}

const detail::KernelFamily& sm80() {
  for (const detail::KernelFamily* f : detail::kernel_families())
    if (f->family() == Family::sm80) return *f;
  FAIL("the sm80 family is not registered");
  throw 0;
}

// Registers allowed by the config's launch bounds.
int register_limit(const TileConfig& c) {
  return std::min(255, 65536 / (c.warps_m * c.warps_n * 32 * c.ctas_per_sm));
}

void check_compiled(const PrecompileResult& r, const std::string& what, int limit) {
  INFO(what);
  INFO(r.error);
  REQUIRE(r.status != PrecompileResult::Status::failed);
  CHECK(r.family == "sm80");
  CHECK(r.registers > 0);  // read from the ptxas report
  CHECK(r.registers <= limit);
  CHECK(r.spill_bytes == 0);
}

}  // namespace

TEST_SUITE("test_sm80_compile") {

TEST_CASE("every candidate config compiles in every layout without spills") {
  TempDir dir("sm80-compile");
  Runtime rt(quiet_options(dir.path()));
  struct Variant {
    Layout layout;
    DType ab, d;
    bool has_c;
    DType c;
  };
  // Every layout, both input types, all output types, C in fp32 and in D's type.
  const Variant variants[] = {
      {Layout::dense, DType::bf16, DType::bf16, false, DType::fp32},
      {Layout::contiguous_indices, DType::bf16, DType::fp32, true, DType::fp32},
      {Layout::contiguous_offsets, DType::fp16, DType::fp16, true, DType::fp16},
      {Layout::masked, DType::fp16, DType::bf16, false, DType::fp32},
  };
  std::string table;
  int compiled = 0;
  for (const char* arch : kArchs) {
    const DeviceSpec dev = flagship_device(arch);
    for (const TileConfig& cfg : detail::sm80_gemm::candidate_configs()) {
      const std::string forced = detail::sm80_gemm::to_string(cfg);
      std::string regs;
      int spills = 0;
      for (const Variant& v : variants) {
        const ProblemDesc p = problem(v.layout, v.ab, v.d, v.has_c, v.c, 4096, 4096, 4096, 8);
        if (std::string why = detail::sm80_gemm::check_config(cfg, p, dev); !why.empty()) {
          regs += " -";
          continue;  // does not fit this device or layout: never chosen there
        }
        GemmOptions o{.family = Family::sm80, .config = forced.c_str()};
        const PrecompileResult r = rt.precompile(p, dev, o);
        check_compiled(r, fmt::format("{} {} {}", arch, forced, layout_name(v.layout)), register_limit(cfg));
        regs += " " + std::to_string(r.registers);
        spills += std::max(0, r.spill_bytes);
        ++compiled;
      }
      table += fmt::format("  {:<7} {:<105} occ {} regs{} spills {}\n", arch, forced,
                           detail::sm80_gemm::occupancy(cfg, dev), regs, spills);
    }
  }
  std::printf("[test_sm80_compile] %d kernels compiled; registers per layout "
              "(dense, indices, offsets, masked):\n%s", compiled, table.c_str());
  CHECK(compiled > 100);
}

TEST_CASE("the heuristics' choice for every suite shape compiles without spills") {
  TempDir dir("sm80-suites");
  Runtime rt(quiet_options(dir.path()));
  std::set<std::string> seen;
  std::string table;
  for (const char* arch : kArchs) {
    const DeviceSpec dev = flagship_device(arch);
    for (const std::string& suite_name : bench::suite_names()) {
      const bench::Suite suite = bench::load_suite(suite_name);
      for (const char* recipe_name : {"bf16", "fp16"}) {
        const bench::Recipe recipe = bench::parse_recipe(recipe_name);
        for (const bench::SuiteShape& shape : suite.shapes) {
          const ProblemDesc p = bench::make_desc(bench::make_spec(shape, recipe));
          const TileConfig chosen = detail::sm80_gemm::choose_tile(p, dev);
          CHECK(chosen.l2_hints == int(detail::l2_hints_for(p, dev, chosen.block_m)));
          bool candidate = false;  // a candidate, with the rule's L2 hints
          for (TileConfig c : detail::sm80_gemm::candidate_configs())
            c.l2_hints = chosen.l2_hints, candidate |= c == chosen;
          CHECK(candidate);
          CHECK(detail::sm80_gemm::check_config(chosen, p, dev).empty());
          const PrecompileResult r = rt.precompile(p, dev, GemmOptions{.family = Family::sm80});
          check_compiled(r, fmt::format("{} {} {} {}", arch, recipe_name, suite_name, bench::shape_label(shape)),
                         register_limit(chosen));
          if (std::string(recipe_name) == "bf16")
            table += fmt::format("  {:<7} {:<15} {:<24} {:<92} {} regs\n", arch, suite_name,
                                 bench::shape_label(shape), detail::sm80_gemm::to_string(chosen), r.registers);
        }
      }
    }
  }
  std::printf("[test_sm80_compile] heuristic choices (bf16):\n%s", table.c_str());
}

TEST_CASE("heuristics: large shapes get big tiles, decode shapes small ones") {
  const DeviceSpec h100 = flagship_device("sm_90a");
  const TileConfig big = detail::sm80_gemm::choose_tile(
      problem(Layout::dense, DType::bf16, DType::bf16, false, DType::fp32, 4096, 7168, 16384), h100);
  CHECK(big.block_m * big.block_n >= 128 * 128);
  CHECK(big.block_m / big.warps_m * (big.block_n / big.warps_n) == 64 * 64);
  ProblemDesc decode = problem(Layout::masked, DType::bf16, DType::bf16, false, DType::fp32, 32, 4096, 7168, 64);
  decode.expected_m = 4;
  CHECK(detail::sm80_gemm::choose_tile(decode, h100).block_m <= 64);
  // m_indices experts start on multiples of 128: no 256-row tiles there.
  for (const char* arch : kArchs)
    CHECK(detail::sm80_gemm::choose_tile(problem(Layout::contiguous_indices, DType::bf16, DType::bf16,
                                                 false, DType::fp32, 65536, 4096, 7168, 8),
                                         flagship_device(arch))
              .block_m <= 128);
}

// The heuristics against the H200 sweeps (bench/sweeps_sm80_h200.txt, session 5: 17 tiles x every
// shape of the deepgemm-dense, moe-decode, moe-contiguous and moe-masked suites, "<suite> <BMxBN,
// FIELD=v,...> [i/n] <shape> sm80 <us> us <TFLOP/s> TFLOP/s ok"; tools/fit-sm80-model fits the Hopper
// Machine constants to it): every shape's chosen config must have been measured, and within 15% of
// the fastest measured (single runs vary by up to ~13% on some shapes, bench/NOTES.md v0.7; the
// worst when fitted: decode 64x4 4096x7168 offsets, 16x128 at 0.853 of 16x64); the geomean of
// chosen over fastest was 0.976.
TEST_CASE("heuristics: the Hopper choices are the fast ones of the H200 sweep") {
  const std::regex re(R"(^(\S+) (\d+)x(\d+),(\S+) \[(\d+)/\d+\] .*\ssm80\s+([\d.]+) us\s+[\d.]+ TFLOP/s ok)");
  std::map<std::pair<std::string, int>, std::map<std::string, double>> us;  // (suite, index) -> config -> us
  int lines = 0;
  // The split-K sweeps of the dense suite re-measured some tiles; their runs replace the older
  // ones: session 6 (3 tiles x uniform splits 1-4), session 8 (the same and the large tiles, with
  // only the last partial wave split: what SPLIT_K means since).
  for (const char* file : {"/bench/sweeps_sm80_h200.txt", "/bench/sweeps_sm80_split_h200.txt",
                           "/bench/sweeps_sm80_split_v0.10_h200.txt"}) {
    std::ifstream in(std::string(JITGEMM_SOURCE_DIR) + file);
    REQUIRE(in.good());
    for (std::string l; std::getline(in, l);) {
      std::smatch m;
      if (!std::regex_search(l, m, re)) continue;
      std::string config = fmt::format("BLOCK_M={},BLOCK_N={},{}", m[2].str(), m[3].str(), m[4].str());
      if (config.find("SPLIT_K=") == std::string::npos) config += ",SPLIT_K=1";  // swept before split-K
      us[{m[1], std::stoi(m[5])}][config] = std::stod(m[6]);
      ++lines;
    }
  }
  REQUIRE(lines >= 780);
  const DeviceSpec h200 = flagship_device("sm_90a");
  const bench::Recipe recipe = bench::parse_recipe("bf16");
  double log_sum = 0;
  int shapes = 0;
  for (const char* suite : {"deepgemm-dense", "moe-decode", "moe-contiguous", "moe-masked"}) {
    int i = 0;
    for (const bench::SuiteShape& shape : bench::load_suite(suite).shapes) {
      const auto it = us.find({suite, ++i});
      INFO(suite << " " << bench::shape_label(shape));
      REQUIRE(it != us.end());
      const ProblemDesc p = bench::make_desc(bench::make_spec(shape, recipe));
      TileConfig tile = detail::sm80_gemm::choose_tile(p, h200);
      tile.l2_hints = 0;  // swept before L2 hints: the tile is what is held to the sweep
      const std::string chosen = detail::sm80_gemm::to_string(tile);
      double best = 1e30;
      for (const auto& [config, t] : it->second) best = std::min(best, t);
      const auto got = it->second.find(chosen);
      INFO("chose " << chosen);
      REQUIRE(got != it->second.end());
      CHECK(best / got->second >= 0.85);
      log_sum += std::log(best / got->second);
      ++shapes;
    }
  }
  CHECK(shapes == 37);
  CHECK(std::exp(log_sum / shapes) >= 0.96);
}

TEST_CASE("forced configs: applied, validated, and bad ones rejected with InvalidArgument") {
  const detail::KernelFamily& f = sm80();
  const DeviceSpec h100 = flagship_device("sm_90a"), a10 = flagship_device("sm_86");
  const ProblemDesc dense = problem(Layout::dense, DType::bf16, DType::bf16, false, DType::fp32);
  const GemmOptions o{.family = Family::sm80};

  const detail::KernelConfig c = f.choose(
      dense, h100, "BLOCK_M=128,BLOCK_N=256,BLOCK_K=32,WARPS_M=2,WARPS_N=4,STAGES=3,OVERLAP=0", o);
  CHECK(f.describe(c).find("BLOCK_M=128,BLOCK_N=256,BLOCK_K=32,WARPS_M=2,WARPS_N=4,STAGES=3") !=
        std::string::npos);
  CHECK(f.dynamic_smem(c) == 3u * (128 + 256) * 32 * 2);
  const detail::KernelConfig c1 = f.choose(
      dense, h100, "BLOCK_M=128,BLOCK_N=256,BLOCK_K=32,WARPS_M=2,WARPS_N=4,STAGES=3,OVERLAP=1", o);
  CHECK(f.dynamic_smem(c1) == 3u * (128 + 256) * 32 * 2 + 2 * 16 * (256 + 8) * 4);
  CHECK(f.describe(f.choose(dense, h100, "STAGES=2", o)).find("STAGES=2") != std::string::npos);

  for (const char* bad : {"BLOCK_M", "BLOCK_M=abc", "BLOCK_M=12x", "BLOCK_Q=64", "STAGES=0",
                          "BLOCK_K=48", "BLOCK_K=16", "BLOCK_M=80,WARPS_M=2", "WARPS_M=4,WARPS_N=4",
                          "BLOCK_M=128,BLOCK_N=256,WARPS_M=2,WARPS_N=4,CTAS_PER_SM=2", "STAGES=13",
                          "BLOCK_M=512", "SWIZZLE_N=32", "OVERLAP=2", "L2_HINTS=2", "L2_HINTS=-1",
                          "BLOCK_M=16,BLOCK_N=16,BLOCK_K=64,WARPS_M=1,WARPS_N=1", "SPLIT_K=0", "SPLIT_K=9", "BLOCK_K=64,SPLIT_K=65"}) {
    INFO(std::string(bad));
    CHECK_THROWS_AS(f.choose(dense, h100, bad, o), InvalidArgument);
  }
  // Shared memory beyond the device's opt-in (99 KB on sm_86).
  CHECK_THROWS_AS(f.choose(dense, a10, "BLOCK_M=128,BLOCK_N=256,BLOCK_K=64,WARPS_M=2,WARPS_N=4,STAGES=3", o),
                  InvalidArgument);
  // m_indices experts are 128-aligned: a 256-row tile could straddle two of them.
  CHECK_THROWS_AS(f.choose(problem(Layout::contiguous_indices, DType::bf16, DType::bf16, false, DType::fp32),
                           h100, "BLOCK_M=256,BLOCK_N=128,WARPS_M=4,WARPS_N=2", o),
                  InvalidArgument);
  // Split-K: dense only, at most one share per K block, and only where a workspace can be had.
  const char* split2 = "BLOCK_M=64,BLOCK_N=64,BLOCK_K=64,WARPS_M=2,WARPS_N=2,STAGES=8,CTAS_PER_SM=2,SPLIT_K=2";
  CHECK_THROWS_AS(f.choose(problem(Layout::masked, DType::bf16, DType::bf16, false, DType::fp32), h100, split2, o),
                  InvalidArgument);
  CHECK_THROWS_AS(f.choose(problem(Layout::dense, DType::bf16, DType::bf16, false, DType::fp32, 64, 2112, 64), h100,
                           split2, o),
                  InvalidArgument);
  CHECK_THROWS_AS(f.choose(dense, h100, split2, GemmOptions{.family = Family::sm80, .no_split_k = true}),
                  InvalidArgument);
  // Only the last partial wave's tiles are split (64x64 x 8 stages: one CTA per SM, 132 CTAs):
  // 4096 tiles leave 4 for the last wave, 2 parts each (SPLIT_K caps the 33 the idle CTAs could
  // take); 63 x 64 = 4032 tiles leave 72, too many to split in 2: nothing is, no workspace.
  const detail::KernelConfig split = f.choose(dense, h100, split2, o);
  CHECK(f.workspace_bytes(split, dense, h100) == 64 * 1024 + 4 * 2 * 64 * 64 * 4);
  const ProblemDesc no_tail = problem(Layout::dense, DType::bf16, DType::bf16, false, DType::fp32, 4096, 63 * 64, 4096);
  CHECK(f.workspace_bytes(f.choose(no_tail, h100, split2, o), no_tail, h100) == 0);
  CHECK(f.workspace_bytes(c, dense, h100) == 0);
  // Through the runtime: GemmOptions::config and Options::force_config.
  TempDir dir("sm80-forced");
  Runtime rt(quiet_options(dir.path()));
  CHECK_THROWS_AS(rt.choice(dense, h100, GemmOptions{.family = Family::sm80, .config = "BLOCK_K=48"}),
                  InvalidArgument);
  CHECK(rt.choice(dense, h100, GemmOptions{.family = Family::sm80, .config = "STAGES=2"}).find("STAGES=2") !=
        std::string::npos);
  Options forced_env = quiet_options(dir.path());
  forced_env.force_family = Family::sm80;
  forced_env.force_config = "WARPS_M=3";
  Runtime rt2(forced_env);
  CHECK_THROWS_AS(rt2.choice(dense, h100, GemmOptions{}), InvalidArgument);
  const PrecompileResult r = rt.precompile(dense, h100, GemmOptions{.family = Family::sm80, .config = "BLOCK_K=48"});
  CHECK(r.status == PrecompileResult::Status::failed);
  CHECK(r.error.find("invalid argument 'config'") != std::string::npos);
}

// L2 hints (the rule: test_sm90_compile.cpp). sm80 has them as a launch property, an access policy
// window that makes B's lines evict first: the heuristics give them to the small-M dense shapes,
// a forced config gets the rule's choice unless it names L2_HINTS, and the window covers the B
// bytes the call reads (every expert's), capped at the device's largest window.
TEST_CASE("L2 hints: heuristics, forced configs and the launch's streaming window") {
  const detail::KernelFamily& f = sm80();
  const GemmOptions o{.family = Family::sm80};
  const auto dense = [](std::int64_t m, std::int64_t n, std::int64_t k) {
    return problem(Layout::dense, DType::bf16, DType::bf16, false, DType::fp32, m, n, k);
  };
  for (const char* arch : kArchs) {
    const DeviceSpec dev = flagship_device(arch);
    INFO(arch);
    CHECK(dev.max_access_window == 134213632);
    CHECK(detail::sm80_gemm::choose_tile(dense(128, 7168, 2048), dev).l2_hints == 1);
    CHECK(detail::sm80_gemm::choose_tile(dense(64, 2112, 7168), dev).l2_hints == 1);
    CHECK(detail::sm80_gemm::choose_tile(dense(4096, 7168, 2048), dev).l2_hints == 0);
    CHECK(detail::sm80_gemm::choose_tile(problem(Layout::masked, DType::bf16, DType::bf16, false, DType::fp32, 128,
                                                 4096, 7168, 4),
                                         dev)
              .l2_hints == 0);
  }
  const DeviceSpec h200 = flagship_device("sm_90a");
  const auto described = [&](const ProblemDesc& p, const char* cfg) { return f.describe(f.choose(p, h200, cfg, o)); };
  CHECK(described(dense(128, 4096, 7168), "STAGES=4").find("L2_HINTS=1") != std::string::npos);
  CHECK(described(dense(128, 4096, 7168), "L2_HINTS=0").find("L2_HINTS") == std::string::npos);
  CHECK(described(dense(4096, 4096, 7168), "STAGES=3").find("L2_HINTS") == std::string::npos);
  CHECK(described(dense(4096, 4096, 7168), "L2_HINTS=1").find("L2_HINTS=1") != std::string::npos);

  using detail::sm80_gemm::stream_window;
  TileConfig t = detail::sm80_gemm::choose_tile(dense(128, 4096, 7168), h200);
  GroupedGemmArgs g;
  g.layout = Layout::dense;
  g.num_groups = 1;
  g.m = 128, g.n = 4096, g.k = 7000;
  g.b.data = reinterpret_cast<const void*>(std::uintptr_t{1} << 40);
  g.b.ld = 7168;
  detail::LaunchDims d;
  stream_window(t, g, h200, d);
  CHECK(d.stream_base == g.b.data);
  CHECK(d.stream_bytes == std::size_t(4095 * 7168 + 7000) * 2);
  g.n = 7168, g.k = 16384, g.b.ld = 16384;  // 235 MB of B: the largest window
  stream_window(t, g, h200, d);
  CHECK(d.stream_bytes == 134213632);
  g.layout = Layout::masked, g.num_groups = 3, g.n = 256, g.k = 512, g.b.ld = 512, g.b.batch_stride = 256 * 512;
  stream_window(t, g, h200, d);
  CHECK(d.stream_bytes == std::size_t(2 * 256 * 512 + 255 * 512 + 512) * 2);
  DeviceSpec no_windows = h200;
  no_windows.max_access_window = 0;
  stream_window(t, g, no_windows, d);
  CHECK(d.stream_bytes == 0);
  t.l2_hints = 0;
  stream_window(t, g, h200, d);
  CHECK(d.stream_bytes == 0);
  CHECK(d.stream_base == nullptr);
}

// Host and kernel derive the split from the same numbers (kernel_src/jit/sm80/params.cuh).
TEST_CASE("split plans: the last partial wave is split, the full waves are not") {
  using sm80::split_plan_for;
  const auto same = [](sm80::SplitPlan a, int whole, int parts, int units) {
    return a.whole == whole && a.parts == parts && a.units == units;
  };
  CHECK(same(split_plan_for(8, 272, 132, 112), 264, 8, 264 + 8 * 8));  // 4096x2112 of 256x128
  CHECK(same(split_plan_for(8, 3072, 132, 24), 3036, 3, 3036 + 36 * 3));  // 36 left: 132 / 36 = 3 parts
  CHECK(same(split_plan_for(8, 4096, 132, 8), 4092, 8, 4092 + 4 * 8));
  CHECK(same(split_plan_for(8, 512, 132, 112), 512, 1, 512));  // 116 left: no second CTA for each
  CHECK(same(split_plan_for(8, 264, 132, 112), 264, 1, 264));  // whole waves
  CHECK(same(split_plan_for(4, 33, 132, 112), 0, 4, 132));     // fewer tiles than CTAs: all split
  CHECK(same(split_plan_for(8, 1, 3, 3), 0, 3, 3));             // never more parts than K blocks
  CHECK(same(split_plan_for(8, 5, 5, 100), 5, 1, 5));
  // The host's grid is what the kernel sees: never more CTAs than units.
  const DeviceSpec h100 = flagship_device("sm_90a");
  detail::sm80_gemm::TileConfig t{64, 64, 64, 2, 2, 8, 2, 8, 0, 4};
  const ProblemDesc small = problem(Layout::dense, DType::bf16, DType::bf16, false, DType::fp32, 64, 2112, 7168);
  const detail::sm80_gemm::GridPlan g = detail::sm80_gemm::grid_plan(t, small, h100);
  CHECK(g.grid == 33 * 4);
  CHECK(same(g.split, 0, 4, 132));
  const ProblemDesc k64 = problem(Layout::dense, DType::bf16, DType::bf16, false, DType::fp32, 64, 2112, 128);
  CHECK(detail::sm80_gemm::grid_plan(t, k64, h100).grid == 33 * 2);
}

TEST_CASE("tile counts that overflow the scheduler's int are Unsupported") {
  const detail::KernelFamily& f = sm80();
  const DeviceSpec h100 = flagship_device("sm_90a");
  ProblemDesc p = problem(Layout::masked, DType::bf16, DType::bf16, false, DType::fp32, 2147483647,
                          2147483640, 64, 65535);
  p.expected_m = 1;
  CHECK_THROWS_AS(f.choose(p, h100, nullptr, GemmOptions{}), Unsupported);
}

TEST_CASE("dtypes and scales other than bf16/fp16 are Unsupported when sm80 is forced") {
  const detail::KernelFamily& f = sm80();
  TempDir dir("sm80-unsupported");
  Runtime rt(quiet_options(dir.path()));
  const DeviceSpec h100 = flagship_device("sm_90a");
  struct Case {
    DType ab;
    ScaleKind sa, sb;
  };
  for (const Case& k : {Case{DType::e4m3, ScaleKind::block_1x128, ScaleKind::block_128x128},
                        Case{DType::e4m3, ScaleKind::none, ScaleKind::none},
                        Case{DType::s8, ScaleKind::per_row, ScaleKind::per_col},
                        Case{DType::fp32, ScaleKind::none, ScaleKind::none},
                        Case{DType::bf16, ScaleKind::per_row, ScaleKind::per_col}}) {
    ProblemDesc p = problem(Layout::dense, k.ab, DType::bf16, false, DType::fp32);
    p.a_scale = k.sa;
    p.b_scale = k.sb;
    const std::string what = std::string(dtype_name(k.ab)) + " " + scale_kind_name(k.sa);
    INFO(what);
    REQUIRE(f.unsupported(p, h100) != nullptr);
    CHECK_THROWS_AS(rt.choice(p, h100, GemmOptions{.family = Family::sm80}), Unsupported);
    const PrecompileResult r = rt.precompile(p, h100, GemmOptions{.family = Family::sm80});
    CHECK(r.status == PrecompileResult::Status::unsupported);
    CHECK(r.error.find("family sm80 cannot run") != std::string::npos);
    CHECK(r.error.find(f.unsupported(p, h100)) != std::string::npos);
  }
  // And a pre-Ampere device.
  DeviceSpec volta = h100;
  volta.cc_major = 7;
  CHECK(f.unsupported(problem(Layout::dense, DType::bf16, DType::bf16, false, DType::fp32), volta) != nullptr);
}

}  // TEST_SUITE

}  // namespace jit::test
