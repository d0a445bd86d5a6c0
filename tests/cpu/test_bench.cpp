// `jitgemm bench` without a GPU: argument parsing, suites and layouts, peer plans and the scale
// repacks into cuBLASLt's layouts, statistics, report tables and the JSON schema, the no-GPU run.
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/bench_ceilings.hpp"
#include "bench/bench_config.hpp"
#include "bench/bench_env.hpp"
#include "bench/bench_peers.hpp"
#include "bench/bench_report.hpp"
#include "runtime/log.hpp"
#include "runtime/nvrtc_compiler.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace jit;
using namespace jit::bench;

namespace {

struct Run {
  int code;
  std::string out;
};

Run shell(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

Run bench_cli(const std::string& args) { return shell("JITGEMM_LOG=error '" JITGEMM_CLI "' bench " + args); }

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

testing::ProblemSpec spec_of(Layout l, std::vector<int> rows, i64 n, i64 k, i64 max_m = 0) {
  testing::ProblemSpec s;
  s.layout = l;
  s.rows = std::move(rows);
  s.n = n;
  s.k = k;
  s.max_m = max_m;
  return s;
}

Measurement timed(int id, const std::string& impl, bool ours, double us, Status st = Status::ok) {
  Measurement m;
  m.case_id = id;
  m.suite = "s";
  m.shape = "64x2112x7168";
  m.recipe = "fp8";
  m.impl = impl;
  m.ours = ours;
  m.flops = 2.0 * 64 * 2112 * 7168;
  m.bytes = 64.0 * 7168 + 2112.0 * 7168 + 2.0 * 64 * 2112;
  m.ab = DType::e4m3;
  m.status = st;
  m.timing.gpu_us.assign(20, us);
  m.timing.gpu = summarize(m.timing.gpu_us);
  m.timing.host = summarize(std::vector<double>(20, 5.0));
  m.checked = true;
  m.calc_diff = 1e-6;
  return m;
}

}  // namespace

TEST_SUITE("test_bench") {

TEST_CASE("layout choices and apply_layout") {
  CHECK(parse_layout_choice("as-suite") == LayoutChoice::as_suite);
  CHECK(parse_layout_choice("contiguous") == LayoutChoice::contiguous);
  CHECK(parse_layout_choice("contiguous_offsets") == LayoutChoice::contiguous_offsets);
  CHECK(parse_layout_choice("masked") == LayoutChoice::masked);
  CHECK_THROWS_AS(parse_layout_choice("diagonal"), InvalidArgument);

  const Suite moe = load_suite("moe-contiguous");
  const SuiteShape s = moe.shapes.at(0);  // contiguous 4 x 8192
  SuiteShape m = apply_layout(s, LayoutChoice::masked);
  CHECK(m.layout == Layout::masked);
  CHECK(m.max_m % 128 == 0);
  CHECK(m.max_m >= 8192 * 13 / 10 + 1);
  // Every group's draw fits max_m, so masked and contiguous runs have the same valid rows.
  const Recipe r = parse_recipe("bf16");
  const auto rows_c = make_spec(s, r).rows, rows_m = make_spec(m, r).rows;
  CHECK(rows_c == rows_m);
  // Decode-sized shapes: [0, 2] x m.
  SuiteShape small = s;
  small.m = 16;
  CHECK(apply_layout(small, LayoutChoice::masked).max_m == 32);
  // Dense shapes stay dense; back from masked drops max_m.
  const SuiteShape dense = load_suite("deepgemm-dense").shapes.at(0);
  CHECK(apply_layout(dense, LayoutChoice::masked).layout == Layout::dense);
  const SuiteShape masked = load_suite("moe-masked").shapes.at(0);
  CHECK(apply_layout(masked, LayoutChoice::contiguous_offsets).max_m == 0);
  CHECK(apply_layout(masked, LayoutChoice::as_suite).max_m == 4096);
}

TEST_CASE("families and peers parse") {
  auto f = parse_families("auto,reference, reference");
  REQUIRE(f.size() == 2);
  CHECK(f[0].family == Family::automatic);
  CHECK(f[0].name == "auto");
  CHECK(f[1].family == Family::reference);
  CHECK_THROWS_AS(parse_families("sm70"), InvalidArgument);
  CHECK_THROWS_AS(parse_families(""), InvalidArgument);

  const Recipe fp8 = parse_recipe("fp8"), bf16 = parse_recipe("bf16"), i8 = parse_recipe("int8");
  auto p = parse_peers("all", fp8, false);
  CHECK(p == std::vector<PeerId>{PeerId::fp8_blk, PeerId::fp8_row, PeerId::cublas});
  p = parse_peers("all", fp8, true);
  CHECK(p.size() == 5);
  CHECK(parse_peers("all", bf16, false) == std::vector<PeerId>{PeerId::cublas, PeerId::cublaslt});
  CHECK(parse_peers("all", i8, false) == std::vector<PeerId>{PeerId::cublas});
  CHECK(parse_peers("none", fp8, true).empty());
  CHECK(parse_peers("cublas-grouped,cublaslt-fp8-blk,cublas-grouped", bf16, false) ==
        std::vector<PeerId>{PeerId::cublas_grouped, PeerId::fp8_blk});
  CHECK_THROWS_AS(parse_peers("cublas,torch", bf16, false), InvalidArgument);
  for (const PeerInfo& i : peer_catalog()) CHECK(std::string(peer_name(i.id)) == i.name);
}

TEST_CASE("validate") {
  BenchConfig c;
  CHECK_THROWS_AS(validate(c), InvalidArgument);  // no suite, no ceilings
  c.ceilings = true;
  CHECK_NOTHROW(validate(c));
  c.suite = "odd";
  c.iters = 0;
  CHECK_THROWS_AS(validate(c), InvalidArgument);
  c.iters = 20;
  c.dtype = "fp4";
  CHECK_THROWS_AS(validate(c), InvalidArgument);
  c.dtype = "int8";
  c.peers = "nope";
  CHECK_THROWS_AS(validate(c), InvalidArgument);
}

TEST_CASE("order statistics") {
  Stats s = summarize({5, 1, 3, 2, 4});
  CHECK(s.n == 5);
  CHECK(s.median == doctest::Approx(3));
  CHECK(s.min == 1);
  CHECK(s.max == 5);
  CHECK(s.p10 == doctest::Approx(1.4));
  CHECK(s.p90 == doctest::Approx(4.6));
  s = summarize({4, 1, 3, 2});
  CHECK(s.median == doctest::Approx(2.5));
  CHECK(summarize({}).n == 0);
}

TEST_CASE("slow implementations get fewer timed calls, never none") {
  using P = std::pair<int, int>;
  CHECK(plan_calls(3, 20, 5.0, 10.0) == P{3, 20});      // 20 x 10 ms fits
  CHECK(plan_calls(3, 20, 5.0, 250.0) == P{3, 20});     // exactly the budget
  CHECK(plan_calls(3, 20, 5.0, 400.0) == P{3, 12});
  CHECK(plan_calls(3, 20, 5.0, 1000.0) == P{0, 5});     // a tenth of the budget: no warm-up
  CHECK(plan_calls(3, 20, 5.0, 12000.0) == P{0, 1});
  CHECK(plan_calls(3, 20, 0.0, 12000.0) == P{3, 20});   // no cap
}

TEST_CASE("group slices and the dense equivalent of every layout") {
  // contiguous_indices: segments padded to 128 rows; empty experts take no rows.
  auto s = spec_of(Layout::contiguous_indices, {0, 5, 130, 7}, 256, 256);
  auto g = group_slices(s);
  REQUIRE(g.size() == 3);
  CHECK((g[0].group == 1 && g[0].row0 == 0 && g[0].rows == 5));
  CHECK((g[1].group == 2 && g[1].row0 == 128 && g[1].rows == 130));
  CHECK((g[2].group == 3 && g[2].row0 == 384 && g[2].rows == 7));
  DenseEquivalent d = dense_equivalent(s);
  CHECK((d.group == 1 && d.a_row0 == 0 && d.rows == 142 && d.check_rows == 5));

  s = spec_of(Layout::contiguous_offsets, {3, 0, 4}, 64, 128);
  g = group_slices(s);
  REQUIRE(g.size() == 2);
  CHECK((g[1].group == 2 && g[1].row0 == 3 && g[1].rows == 4));

  // masked: group g at g * max_m, rows clamped to max_m; the dense-equivalent stays inside A.
  s = spec_of(Layout::masked, {0, 40, 9}, 64, 128, 32);
  g = group_slices(s);
  REQUIRE(g.size() == 2);
  CHECK((g[0].group == 1 && g[0].row0 == 32 && g[0].rows == 32));
  CHECK((g[1].group == 2 && g[1].row0 == 64 && g[1].rows == 9));
  d = dense_equivalent(s);
  CHECK((d.group == 1 && d.a_row0 == 32 && d.rows == 41 && d.check_rows == 32));
  CHECK(d.a_row0 + d.rows <= 3 * 32);

  s = spec_of(Layout::dense, {77}, 136, 208);
  d = dense_equivalent(s);
  CHECK((d.group == 0 && d.a_row0 == 0 && d.rows == 77));
  CHECK(dense_equivalent(spec_of(Layout::masked, {0, 0}, 64, 128, 32)).rows == 0);
}

TEST_CASE("peer plans: what runs where, and why not") {
  const Recipe fp8 = parse_recipe("fp8");
  const auto dense = spec_of(Layout::dense, {128}, 2112, 7168);
  const auto moe = spec_of(Layout::contiguous_indices, {100, 200}, 4096, 7168);

  PeerPlan p = plan_peer(PeerId::fp8_blk, fp8, dense, 9, 0);
  CHECK(p.recipe.name == "fp8");
  CHECK(p.same_math);
  CHECK(!p.dense_eq);
  CHECK(p.scope == CheckScope::full);
  CHECK(contains(p.computes, "VEC128_32F"));
  CHECK(contains(p.computes, "BLK128x128_32F"));

  p = plan_peer(PeerId::cublas, fp8, dense, 9, 0);
  CHECK(p.recipe.name == "bf16");
  CHECK(!p.same_math);
  CHECK(contains(p.computes, "speed reference"));

  p = plan_peer(PeerId::fp8_row, fp8, moe, 9, 0);
  CHECK(p.dense_eq);
  CHECK(p.scope == CheckScope::group_rows);
  CHECK(contains(p.computes, "V=300"));

  p = plan_peer(PeerId::cublas_grouped, parse_recipe("bf16"), moe, 9, 0);
  CHECK(p.same_math);
  CHECK(p.scope == CheckScope::full);

  if (have_cublas()) {
    CHECK(plan_peer(PeerId::fp8_blk, fp8, dense, 9, 0).unsupported.empty());
    CHECK(contains(plan_peer(PeerId::fp8_blk, fp8, dense, 8, 9).unsupported, "Hopper"));
    CHECK(contains(plan_peer(PeerId::cublas_grouped, fp8, dense, 9, 0).unsupported, "dense shape"));
    CHECK(contains(plan_peer(PeerId::cublaslt_grouped, fp8, moe, 9, 0).unsupported, "no grouped cublasLtMatmul"));
    CHECK(plan_peer(PeerId::cublas, fp8, dense, 8, 0).unsupported.empty());
    CHECK(contains(plan_peer(PeerId::cublas, fp8, spec_of(Layout::masked, {0}, 64, 128, 8), 9, 0).unsupported,
                   "no valid rows"));
  } else {
    CHECK(contains(plan_peer(PeerId::cublas, fp8, dense, 9, 0).unsupported, "without cuBLAS"));
  }
}

TEST_CASE("scale repacks into cuBLASLt layouts") {
  // A (our 1x128, M-major, ld = rows rounded to 4): M = 6 rows, K = 256 (2 blocks), ld 8.
  auto dense = spec_of(Layout::dense, {6}, 64, 256);
  std::vector<float> sfa(2 * 8);
  for (int kb = 0; kb < 2; ++kb)
    for (int m = 0; m < 8; ++m) sfa[kb * 8 + m] = 100.f * kb + m;
  std::vector<float> v = vec128_for_cublas(sfa, dense, 8, 0, 0, 6);
  REQUIRE(v.size() == 12);  // ld = rows = 6, rows fastest
  CHECK(v[0] == 0.f);
  CHECK(v[5] == 5.f);
  CHECK(v[6] == 100.f);
  CHECK(v[11] == 105.f);

  v = vec128_for_cublas(sfa, dense, 8, 0, 0, 6, 8);  // the padded variant: ld 8, padding scales 1
  REQUIRE(v.size() == 16);
  CHECK(v[5] == 5.f);
  CHECK(v[6] == 1.f);
  CHECK(v[8] == 100.f);

  // masked: rows of A past one group read the next group's batch.
  auto masked = spec_of(Layout::masked, {3, 3}, 64, 256, 3);
  const i64 ld = 4, batch = 2 * ld;
  std::vector<float> sm(2 * batch);
  for (int g = 0; g < 2; ++g)
    for (int kb = 0; kb < 2; ++kb)
      for (int m = 0; m < 4; ++m) sm[g * batch + kb * ld + m] = 1000.f * g + 100.f * kb + m;
  v = vec128_for_cublas(sm, masked, ld, batch, 1, 4);  // A rows 1..4 = g0 m1, g0 m2, g1 m0, g1 m1
  REQUIRE(v.size() == 8);
  CHECK(v[0] == 1.f);
  CHECK(v[2] == 1000.f);
  CHECK(v[3] == 1001.f);
  CHECK(v[4 + 1] == 102.f);
  CHECK(v[4 + 3] == 1101.f);
  CHECK_THROWS(vec128_for_cublas(sm, masked, ld, batch, 4, 4));  // past the last group

  // B (128x128 blocks, [N/128][K/128]): K blocks padded to a multiple of 4.
  std::vector<float> sfb = {1, 2, 3, 4, 5, 6};  // N = 256 (2 blocks), K = 384 (3 blocks), ld 3
  std::vector<float> b = blk128_for_cublas(sfb, 256, 384, 3);
  CHECK(b == std::vector<float>{1, 2, 3, 1, 4, 5, 6, 1});
  CHECK(blk128_for_cublas(sfb, 256, 384, 3, false) == sfb);  // the unpadded variant
  sfb.assign(8, 0.f);
  for (int i = 0; i < 8; ++i) sfb[i] = static_cast<float>(i);
  CHECK(blk128_for_cublas(sfb, 200, 512, 4) == sfb);  // already padded: unchanged
  CHECK_THROWS(blk128_for_cublas(sfb, 300, 512, 4));  // 3 N blocks do not fit

  // Per-row (OUTER_VEC): masked rows map through their group's batch.
  std::vector<float> rows = {10, 11, 12, 20, 21, 22};
  CHECK(rows_for_cublas(rows, masked, 3, 2, 3) == std::vector<float>{12, 20, 21});
  CHECK(rows_for_cublas(rows, dense, 0, 0, 6) == rows);
}

TEST_CASE("cuBLASLt FP8 scales: each vector goes to the operand cuBLAS pairs it with, at the size it reads") {
  // M != N everywhere, so a swapped or mis-sized vector cannot pass. OUTER_VEC (cublasLt.h): cuBLAS's
  // A scale has cuBLAS's M elements = our N (per-column B scales), its B scale our rows (per-row A).
  const Recipe row = parse_recipe("fp8-row");
  auto dense = spec_of(Layout::dense, {6}, 40, 256);
  dense.ab = DType::e4m3;
  dense.sa = ScaleKind::per_row;
  dense.sb = ScaleKind::per_col;
  HostScales h;
  for (int m = 0; m < 6; ++m) h.sfa.push_back(100.f + m);
  for (int n = 0; n < 40; ++n) h.sfb.push_back(1000.f + n);
  h.sfb_batch = 40;
  PeerPlan p = plan_peer(PeerId::fp8_row, row, dense, 9, 0);
  REQUIRE(p.unsupported.empty() == have_cublas());
  LtScales ls = lt_scales(p, dense, h);
  CHECK(ls.a_reads == 40);
  CHECK(ls.b_reads == 6);
  CHECK(ls.a == h.sfb);
  CHECK(ls.b == h.sfa);
  const DenseCall call = dense_call(p, dense);
  CHECK((call.rows == 6 && call.n == 40 && call.group == 0 && call.a_row0 == 0));

  // Masked dense-equivalent: expert 1 first (expert 0 empty): its column scales, rows across groups.
  auto masked = spec_of(Layout::masked, {0, 3, 2}, 40, 256, 4);
  masked.ab = DType::e4m3;
  masked.sa = ScaleKind::per_row;
  masked.sb = ScaleKind::per_col;
  HostScales hm;
  for (int g = 0; g < 3; ++g)
    for (int m = 0; m < 4; ++m) hm.sfa.push_back(100.f * g + m);
  for (int g = 0; g < 3; ++g)
    for (int n = 0; n < 40; ++n) hm.sfb.push_back(1000.f * g + n);
  hm.sfa_batch = 4;
  hm.sfb_batch = 40;
  p = plan_peer(PeerId::fp8_row, row, masked, 9, 0);
  REQUIRE(p.dense_eq);
  ls = lt_scales(p, masked, hm);
  REQUIRE(ls.a.size() == 40);
  CHECK(ls.a.front() == 1000.f);
  CHECK(ls.a.back() == 1039.f);
  CHECK(ls.b == std::vector<float>{100, 101, 102, 103, 200});  // V = 5 rows from A row 4
  CHECK(ls.b_reads == 5);
  hm.sfb.resize(80);  // expert 1's vector ends at 80; one float short must throw, never read past
  CHECK_NOTHROW(lt_scales(p, masked, hm));
  hm.sfb.resize(79);
  CHECK_THROWS(lt_scales(p, masked, hm));
  CHECK_THROWS(lt_scales(plan_peer(PeerId::fp8_blk, parse_recipe("fp8"), masked, 9, 0), masked, hm));  // wrong recipe

  // Block scales: BLK128x128 for cuBLAS's A = our B (N blocks x K blocks padded to 4), VEC128 for its B.
  auto blk = spec_of(Layout::dense, {6}, 256, 384);  // 2 N blocks, 3 K blocks
  blk.ab = DType::e4m3;
  blk.sa = ScaleKind::block_1x128;
  blk.sb = ScaleKind::block_128x128;
  HostScales hb;
  hb.sfa.assign(3 * 8, 2.f);
  hb.sfa_ld = 8;
  hb.sfb = {1, 2, 3, 4, 5, 6};
  hb.sfb_ld = 3;
  hb.sfb_batch = 6;
  p = plan_peer(PeerId::fp8_blk, parse_recipe("fp8"), blk, 9, 0);
  ls = lt_scales(p, blk, hb);
  CHECK(ls.a == std::vector<float>{1, 2, 3, 1, 4, 5, 6, 1});
  CHECK(ls.a_reads == 8);
  CHECK(ls.b.size() == 3 * 6);
  CHECK(ls.b_reads == 3 * 6);
  CHECK(static_cast<i64>(ls.a.size()) >= ls.a_reads);
  CHECK_THROWS(lt_scales(plan_peer(PeerId::cublas, parse_recipe("bf16"), dense, 9, 0), dense, h));
}

TEST_CASE("MoE bytes, and the dense-equivalent skipped where the case is memory-bound") {
  const Recipe bf16 = parse_recipe("bf16"), fp8 = parse_recipe("fp8");
  // Decode: 4 experts with rows (one empty) of a masked [5, 8, K] problem: every expert's B is read.
  auto decode = spec_of(Layout::masked, {3, 0, 5, 8, 2}, 4096, 7168, 8);
  const double nk = 4096.0 * 7168, v = 18;
  CHECK(grouped_bytes(decode, bf16) == doctest::Approx(2 * (v * 7168 + 4 * nk + v * 4096)));
  CHECK(dense_equivalent_bytes(decode, bf16) == doctest::Approx(2 * (v * 7168 + nk + v * 4096)));
  CHECK(grouped_bytes(decode, fp8) ==
        doctest::Approx(v * 7168 + 4 * nk + 2 * v * 4096 + v * 56 * 4 + 4 * 32 * 56 * 4));
  const std::string why = dense_equivalent_skip_reason(decode, bf16);
  CHECK(contains(why, "dense-equivalent skipped"));
  CHECK(contains(why, "4 experts"));
  CHECK(why.size() <= 200);  // the table footnotes cut at 200
  CHECK(dense_equivalent_skip_reason(spec_of(Layout::dense, {64}, 4096, 7168), bf16).empty());

  // 32 experts x 256 rows: compute-bound, the dense GEMM of the same FLOPs is a fair reference.
  auto wide = spec_of(Layout::contiguous_indices, std::vector<int>(32, 256), 4096, 7168);
  CHECK(dense_equivalent_skip_reason(wide, bf16).empty());
  CHECK(dense_equivalent_skip_reason(wide, fp8).empty());
  // ... unless the machine had far more compute per byte.
  CHECK(!dense_equivalent_skip_reason(wide, bf16, MachineBalance{8000, 0, 4300}).empty());
  // 4 experts x 8192 rows: kept.
  CHECK(dense_equivalent_skip_reason(spec_of(Layout::contiguous_indices, std::vector<int>(4, 8192), 7168, 2048), bf16)
            .empty());

  if (have_cublas()) {
    CHECK(contains(plan_peer(PeerId::cublas, bf16, decode, 9, 0).unsupported, "dense-equivalent skipped"));
    CHECK(contains(plan_peer(PeerId::fp8_row, fp8, decode, 9, 0).unsupported, "dense-equivalent skipped"));
    CHECK(plan_peer(PeerId::cublas_grouped, bf16, decode, 9, 0).unsupported.empty());
    CHECK(plan_peer(PeerId::cublas, bf16, wide, 9, 0).unsupported.empty());
  }
}

TEST_CASE("FP8 block-scale layout variants only where rows or K blocks are not multiples of 4") {
  const Recipe fp8 = parse_recipe("fp8");
  auto spec = spec_of(Layout::dense, {128}, 2112, 7168);
  PeerPlan p = plan_peer(PeerId::fp8_blk, fp8, spec, 9, 0);
  CHECK(!p.pad_rows);
  CHECK(p.pad_kblocks);
  CHECK(scale_variants(p, spec).size() == 1);
  CHECK(contains(describe_scale_lds(p), "VEC128 ld = rows,"));

  spec = spec_of(Layout::dense, {77}, 136, 208);  // 77 rows, 2 K blocks
  auto v = scale_variants(plan_peer(PeerId::fp8_blk, fp8, spec, 9, 0), spec);
  REQUIRE(v.size() == 4);
  CHECK((!v[0].pad_rows && v[0].pad_kblocks));
  for (std::size_t i = 1; i < v.size(); ++i) CHECK((v[i].pad_rows != v[0].pad_rows || v[i].pad_kblocks != v[0].pad_kblocks));

  spec = spec_of(Layout::dense, {77}, 136, 512);  // 4 K blocks: only the row padding varies
  v = scale_variants(plan_peer(PeerId::fp8_blk, fp8, spec, 9, 0), spec);
  REQUIRE(v.size() == 2);
  CHECK(v[1].pad_rows);
  CHECK(v[1].pad_kblocks);
  CHECK(scale_variants(plan_peer(PeerId::fp8_row, parse_recipe("fp8-row"), spec, 9, 0), spec).size() == 1);
}

TEST_CASE("shorten, geomean and ratios") {
  CHECK(shorten("jit: family sm90 cannot run dense 64x2112x7168 e4m3->bf16 on sm_90a (H100)\n  (no such family is built)") ==
        "no such family is built");
  CHECK(shorten("jit: no fast kernel family runs x\n  sm80: needs sm_80\n  (family=reference runs anything, slowly)") ==
        "sm80: needs sm_80");
  CHECK(shorten("jit: no fast kernel family runs dense 64x8x16 bf16->bf16 on sm_90a (H100)\n  (family=reference runs "
                "anything, slowly)", 200) == "no fast kernel family runs dense 64x8x16 bf16->bf16 on sm_90a (H100)");
  CHECK(shorten("cublasLtMatmul: CUBLAS_STATUS_NOT_SUPPORTED") == "cublasLtMatmul: CUBLAS_STATUS_NOT_SUPPORTED");
  CHECK(shorten(std::string(100, 'x'), 10) == "xxxxxxx...");
  CHECK(geomean({2, 8}) == doctest::Approx(4));
  CHECK(geomean({}) == 0);
  const Measurement ours = timed(0, "reference", true, 100), peer = timed(0, "cublas", false, 50);
  CHECK(speed_ratio(ours, peer) == doctest::Approx(0.5));
  CHECK(speed_ratio(ours, timed(0, "cublas", false, 50, Status::wrong)) == 0);
  CHECK(speed_ratio(timed(0, "reference", true, 100, Status::wrong), peer) == 0);
}

TEST_CASE("JSON records carry the schema the plot and later runs read") {
  Ceilings c;
  c.hbm_gbs = 3000;
  c.fp8_tflops = 1400;
  Measurement m = timed(3, "cublaslt-fp8-blk", false, 20);
  m.same_math = true;
  m.computes = "cuBLASLt ...";
  m.check_scope = "full";
  m.group_rows = {57, 0, 130};
  const nlohmann::ordered_json j = to_json(m, c);
  for (const char* key : {"type", "suite", "case", "shape", "dtype", "layout", "groups", "m", "n", "k", "valid_rows",
                          "group_rows", "expected_m",
                          "impl", "kind", "impl_dtype", "same_math", "computes", "status", "us_median", "us_min",
                          "us_max", "us_p10", "us_p90", "iters", "tflops", "gbs", "pct_roofline", "roofline_bound",
                          "host_us_median", "calc_diff", "nan", "unwritten", "written_padding"})
    CHECK_MESSAGE(j.contains(key), key);
  CHECK(j["type"] == "measurement");
  CHECK(j["kind"] == "peer");
  CHECK(j["iters"] == 20);
  CHECK(j["tflops"].get<double>() == doctest::Approx(m.flops / 20e-6 / 1e12));
  CHECK(j["roofline_bound"] == "M");  // 64-row FP8: memory-bound
  CHECK(j["group_rows"] == nlohmann::json::array({57, 0, 130}));  // an outside peer reruns exactly these rows

  const nlohmann::ordered_json un = to_json(timed(1, "sm90", true, 0, Status::unsupported), c);
  CHECK(un["status"] == "unsupported");

  EnvInfo e;
  e.gpu = "NVIDIA H100";
  e.mem_clock_mhz = 2619;
  e.mem_bus_bits = 5120;
  e.git = git_commit();
  const nlohmann::ordered_json ej = to_json(e);
  for (const char* key : {"type", "gpu", "cc", "sms", "sm_clock_mhz", "mem_clock_mhz", "hbm_peak_gbs", "driver", "nvrtc",
                          "cublas", "git", "method"})
    CHECK_MESSAGE(ej.contains(key), key);
  CHECK(ej["hbm_peak_gbs"].get<double>() == doctest::Approx(3352).epsilon(0.01));
  CHECK(!e.git.empty());
}

TEST_CASE("ceilings: file round trip and roofline") {
  jit::test::TempDir dir("bench");
  const std::string path = dir.path() + "/c.jsonl";
  {
    std::ofstream out(path);
    out << R"({"type":"env","gpu":"x"})" << "\n";
    CeilingRecord r{"hbm", 2900, "GB/s", "", {}};
    out << to_json(r).dump() << "\n";
    r = {"hbm", 3000, "GB/s", "", {}};  // the last one wins
    out << to_json(r).dump() << "\n";
    r = {"bf16_gemm", 780, "TFLOP/s", "", {}};
    out << to_json(r).dump() << "\nnot json\n";
  }
  const Ceilings c = load_ceilings(path);
  CHECK(c.hbm_gbs == 3000);
  CHECK(c.bf16_tflops == 780);
  CHECK(c.compute_tflops(DType::fp16) == 780);
  CHECK(c.compute_tflops(DType::e4m3) == 0);
  CHECK_THROWS_AS(load_ceilings(dir.path() + "/missing"), InvalidArgument);

  // 8192^3 BF16 at exactly the ceiling: 100% compute-bound.
  const double flops = 2.0 * 8192 * 8192 * 8192, us = flops / 780e12 * 1e6;
  Roof r = roofline(flops, 3.0 * 8192 * 8192 * 2, us, DType::bf16, c);
  CHECK(r.bound == 'C');
  CHECK(r.pct == doctest::Approx(100));
  r = roofline(1e6, 3e9, 2000, DType::bf16, c);  // 3 GB in 2 ms at 3 TB/s: 50% of the memory floor
  CHECK(r.bound == 'M');
  CHECK(r.pct == doctest::Approx(50));
  CHECK(roofline(1, 1, 1, DType::bf16, Ceilings{}).pct == 0);
}

TEST_CASE("ceilings table: summary rows, PEERS figures, and the details behind them once each") {
  std::vector<CeilingRecord> rs = {
      {"hbm_memcpy", 4253, "GB/s", "cuMemcpyDtoDAsync 1024 MiB", {}},
      {"hbm", 4253, "GB/s", "hbm_memcpy: cuMemcpyDtoDAsync 1024 MiB", {}},
      {"mma_bf16", 597, "TFLOP/s", "264 blocks x 256 threads", {}},
      {"mma_bf16_ldmatrix", 618, "TFLOP/s", "1306 FMA/clk/SM at 1.74 GHz; the stages filled once", {}},
      {"mma_bf16_fed", 538, "TFLOP/s", "1078 FMA/clk/SM at 1.89 GHz; 48 KB cp.async per K block", {}},
      {"wgmma_fp8_promoted", 1333, "TFLOP/s", "3456 FMA/clk/SM at 1.50 GHz; promoted", {}}};
  const std::string t = format_ceilings(rs, "GPU");
  CHECK(contains(t, "promoted per 128-deep K block (note 3)"));
  CHECK(contains(t, "1333"));
  CHECK(contains(t, "3456 FMA/clk/SM at 1.50 GHz"));
  CHECK(contains(t, "mma.sync BF16 fed by ldmatrix"));
  CHECK(contains(t, "538"));
  CHECK(contains(t, "1078 FMA/clk/SM at 1.89 GHz"));  // the fed loops' clocks are in the details
  CHECK(contains(t, "note 2"));
  CHECK(contains(t, "not measured"));                 // e.g. the cuBLAS rows
  // The best-of summary (hbm) is not repeated among the details; its source record is.
  const std::string details = t.substr(t.find("details:"));
  CHECK(contains(details, "hbm_memcpy"));
  CHECK(!contains(details, "  hbm "));
}

TEST_CASE("ceiling kernels compile for every arch with no spills and the intended instructions") {
  jit::test::TempDir dir("ceilings");
  detail::Logger log(LogLevel::off);
  int n = 0;
  for (const char* arch : {"sm_80", "sm_89", "sm_90a"}) {
    std::vector<std::pair<detail::KernelSource, std::string>> kernels = {
        {mma_rate_source(DType::bf16), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"},
        {mma_rate_source(DType::s8), "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32"},
        {hbm_copy_source(), "ld.global"}};
    if (std::string(arch) != "sm_80")
      kernels.push_back({mma_rate_source(DType::e4m3), "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32"});
    // The sm80 main-loop ceilings: one 256-thread CTA per SM (up to 255 registers), ldmatrix-fed.
    kernels.push_back({mma_fed_source(false), "ldmatrix.sync.aligned.m8n8.x4.shared.b16"});
    kernels.push_back({mma_fed_source(true), "cp.async.cg.shared.global"});
    for (const auto& [src, instr] : kernels) {
      CAPTURE(arch);
      CAPTURE(src.name_expr);
      const detail::CompileOutput out =
          detail::nvrtc_compile(src, detail::nvrtc_options(arch), "ceiling", "", dir.path(), log);
      const bool one_per_sm = src.name_expr.find("mma_fed_kernel") != std::string::npos;
      CHECK(out.spill_stores == 0);
      CHECK(out.spill_loads == 0);
      CHECK(out.registers > 0);
      CHECK(out.registers <= (one_per_sm ? 255 : 128));  // else two 256-thread blocks per SM
      CHECK(out.ptx.find(instr) != std::string::npos);
      if (one_per_sm) CHECK(out.ptx.find("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32") != std::string::npos);
      ++n;
    }
  }
  // The mma loop keeps mma_chains(t) independent chains per iteration, and its A fragment changes every
  // iteration (xor): with fixed operands ptxas hoisted sm_90's emulated e4m3 product out of the loop.
  for (DType t : {DType::bf16, DType::e4m3, DType::s8}) {
    CAPTURE(dtype_name(t));
    const detail::CompileOutput out =
        detail::nvrtc_compile(mma_rate_source(t), detail::nvrtc_options("sm_90a"), "ceiling", "", dir.path(), log);
    std::size_t count = 0;
    for (std::size_t at = out.ptx.find("mma.sync"); at != std::string::npos; at = out.ptx.find("mma.sync", at + 1))
      ++count;
    CHECK(count >= static_cast<std::size_t>(mma_chains(t)));
    CHECK(out.ptx.find("xor.b32") != std::string::npos);
  }
  CHECK(mma_chains(DType::e4m3) >= 4);
  // The SM90 FP8 loop (sm_90a only): one CTA per SM, both variants keep their wgmma in flight (no
  // C75xx serialization warning), and the promoted one folds every K block in with FFMAs.
  for (bool promote : {false, true}) {
    CAPTURE(promote);
    const detail::CompileOutput out =
        detail::nvrtc_compile(wgmma_fp8_source(promote), detail::nvrtc_options("sm_90a"), "ceiling", "", dir.path(), log);
    CHECK(out.spill_stores == 0);
    CHECK(out.spill_loads == 0);
    CHECK(out.registers <= 255);
    CHECK(out.ptx.find("wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3") != std::string::npos);
    CHECK_MESSAGE(out.log.find("C75") == std::string::npos, out.log);
    std::size_t fmas = 0;
    for (std::size_t at = out.ptx.find("fma.rn.f32"); at != std::string::npos; at = out.ptx.find("fma.rn.f32", at + 1))
      ++fmas;
    CHECK((fmas >= 128) == promote);  // 64 a promotion, in the loop and its tail
    ++n;
  }
  MESSAGE(n << " ceiling kernels compiled");
}

TEST_CASE("tables: every implementation, reasons, ratios and geometric means") {
  std::vector<Measurement> ms = {timed(0, "reference", true, 100), timed(0, "cublaslt-fp8-blk", false, 50),
                                 timed(0, "cublas-grouped", false, 0, Status::unsupported),
                                 timed(1, "reference", true, 100), timed(1, "cublaslt-fp8-blk", false, 200),
                                 timed(1, "cublas-grouped", false, 10, Status::wrong)};
  ms[2].reason = "dense shape (grouped peers run MoE layouts)";
  ms[2].timing = {};
  ms[3].shape = "128x2112x7168";
  ms[5].reason = "calc_diff=2e-1";
  const std::string t = format_suite_table("s · fp8", ms, Ceilings{});
  CHECK(contains(t, "64x2112x7168"));
  CHECK(contains(t, "128x2112x7168"));
  CHECK(contains(t, "n/a [1]"));
  CHECK(contains(t, "[1] cublas-grouped: dense shape"));
  CHECK(contains(t, "WRONG"));
  CHECK(!contains(t, "%roof"));  // no ceilings known: no column

  const std::string r = format_ratio_table(ms);
  CHECK(contains(r, "0.500"));
  CHECK(contains(r, "2.000"));
  CHECK(contains(r, "1.000 (n=2)"));  // geomean of 0.5 and 2
  CHECK(contains(r, "wrong"));
  CHECK(contains(r, "n/a"));
  ms[1].timing.gpu.median = 1.25;  // a peer 80x faster: small ratios keep three significant digits
  CHECK(contains(format_ratio_table(ms), "0.0125"));
}

TEST_CASE("jitgemm bench without a GPU says there is nothing to time") {
  if (testing::gpu_available()) {
    MESSAGE("a GPU is present: the no-GPU path is not exercised here");
    return;
  }
  Run r = bench_cli("--suite deepgemm-dense --families reference --peers all");
  CAPTURE(r.out);
  CHECK(r.code == 0);
  CHECK(contains(r.out, "nothing to time"));
  CHECK(contains(r.out, "deepgemm-dense (18 shapes)"));
  r = bench_cli("--shapes " JITGEMM_SOURCE_DIR "/bench/suites/odd.shapes --dtype bf16 --layout masked --json /tmp/none.jsonl");
  CHECK(r.code == 0);
  CHECK(contains(r.out, "cublas-grouped"));
  CHECK(contains(r.out, "no JSON written"));
  r = bench_cli("--ceilings");
  CHECK(r.code == 0);
  CHECK(contains(r.out, "device ceilings only"));
}

TEST_CASE("jitgemm bench rejects bad arguments before looking for a GPU") {
  Run r = bench_cli("--suite no-such-suite");
  CHECK(r.code != 0);
  CHECK(contains(r.out, "no-such-suite"));
  r = bench_cli("--suite odd --dtype fp4");
  CHECK(r.code != 0);
  CHECK(contains(r.out, "fp4"));
  r = bench_cli("--suite odd --peers torch");
  CHECK(r.code != 0);
  CHECK(contains(r.out, "torch"));
  r = bench_cli("--suite odd --families sm70");
  CHECK(r.code != 0);
  r = bench_cli("");
  CHECK(r.code != 0);
  CHECK(contains(r.out, "--suite"));
  r = bench_cli("--list-peers");
  CHECK(r.code == 0);
  CHECK(contains(r.out, "cublaslt-fp8-blk"));
}

TEST_CASE("tools/plot-bench draws the JSON lines") {
  std::string python;
  for (const char* p : {"python3", "/usr/bin/python3"})
    if (shell(std::string(p) + " -c 'import matplotlib'").code == 0) {
      python = p;
      break;
    }
  if (python.empty()) {
    MESSAGE("no python3 with matplotlib here: plot-bench not exercised");
    return;
  }
  jit::test::TempDir dir("plot");
  const std::string jsonl = dir.path() + "/b.jsonl", png = dir.path() + "/b.png";
  {
    std::ofstream out(jsonl);
    EnvInfo e;
    e.gpu = "GPU";
    e.git = "abc";
    out << to_json(e).dump() << "\n";
    for (const Measurement& m : {timed(0, "reference", true, 100), timed(0, "cublas", false, 50),
                                 timed(1, "reference", true, 100), timed(1, "cublas", false, 300)})
      out << to_json(m, Ceilings{}).dump() << "\n";
  }
  const Run r = shell(python + " '" JITGEMM_SOURCE_DIR "/tools/plot-bench' '" + jsonl + "' '" + png + "'");
  CAPTURE(r.out);
  CHECK(r.code == 0);
  CHECK(fs::exists(png));
  CHECK(fs::file_size(png) > 1000);
}

}  // TEST_SUITE

TEST_CASE("bench/peers/deepgemm_peer.py reruns exactly the rows our JSON records name") {
  if (shell("python3 -c 'import json'").code != 0) {
    MESSAGE("no python3 here: the peer script's parser not exercised");
    return;
  }
  jit::test::TempDir dir("dgpeer");
  const std::string jsonl = dir.path() + "/ours.jsonl";
  {
    std::ofstream out(jsonl);
    Measurement dense = timed(0, "sm90", true, 10);
    dense.layout = Layout::dense;
    dense.m = 64, dense.n = 2112, dense.k = 7168, dense.group_rows = {64};
    Measurement masked = timed(1, "sm90", true, 10);
    masked.suite = "moe-masked", masked.shape = "2x512 4096x7168", masked.layout = Layout::masked, masked.groups = 2;
    masked.m = 4096, masked.max_m = 4096, masked.n = 4096, masked.k = 7168, masked.valid_rows = 1203;
    masked.group_rows = {579, 624}, masked.expected_m = 601;
    Measurement peer = timed(1, "cublas", false, 10);  // peers are not rerun
    Measurement bf16 = dense;
    bf16.recipe = "bf16";  // only the fp8 recipe is DeepGEMM's
    for (const Measurement& m : {dense, masked, peer, bf16}) out << to_json(m, Ceilings{}).dump() << "\n";
  }
  const Run r = shell("python3 '" JITGEMM_SOURCE_DIR "/bench/peers/deepgemm_peer.py' --list --shapes-from '" + jsonl + "'");
  CAPTURE(r.out);
  REQUIRE(r.code == 0);
  std::vector<nlohmann::json> ps;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') ps.push_back(nlohmann::json::parse(line));
  REQUIRE(ps.size() == 2);
  CHECK(ps[0]["layout"] == "dense");
  CHECK(ps[0]["group_rows"] == nlohmann::json::array({64}));
  CHECK(ps[1]["layout"] == "masked");
  CHECK(ps[1]["group_rows"] == nlohmann::json::array({579, 624}));
  CHECK(ps[1]["max_m"] == 4096);
  CHECK(ps[1]["expected_m_record"] == 601);  // DeepGEMM gets the expected_m our call had
}
