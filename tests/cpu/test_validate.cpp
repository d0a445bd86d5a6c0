// Argument validation: every rule throws InvalidArgument naming the argument, before any GPU work
// (these cases run where no GPU or driver exists, so reaching the GPU would throw CudaError).
#include "test_util.hpp"

using namespace jit;

namespace {

// Fake, 16-byte aligned device addresses: validation never dereferences them.
void* fake(std::uintptr_t i) { return reinterpret_cast<void*>(0x100000 + i * 0x1000000); }

GemmArgs dense() {
  GemmArgs g;
  g.m = 128;
  g.n = 256;
  g.k = 512;
  g.a = {fake(1), DType::bf16};
  g.b = {fake(2), DType::bf16};
  g.d = {fake(3), DType::bf16};
  return g;
}

GroupedGemmArgs grouped(Layout l) {
  GroupedGemmArgs g;
  g.layout = l;
  g.num_groups = 4;
  g.m = 512;
  g.n = 256;
  g.k = 512;
  g.a = {fake(1), DType::bf16};
  g.b = {fake(2), DType::bf16};
  g.d = {fake(3), DType::bf16};
  if (l == Layout::contiguous_indices) g.m_indices = static_cast<const i32*>(fake(4));
  if (l == Layout::contiguous_offsets) g.group_offsets = static_cast<const i32*>(fake(4));
  if (l == Layout::masked) {
    g.masked_m = static_cast<const i32*>(fake(4));
    g.expected_m = 100;
  }
  return g;
}

GroupedGemmArgs fp8(Layout l) {
  GroupedGemmArgs g = grouped(l);
  g.a.dtype = g.b.dtype = DType::e4m3;
  g.a_scales = {ScaleKind::block_1x128, static_cast<const float*>(fake(5))};
  g.b_scales = {ScaleKind::block_128x128, static_cast<const float*>(fake(6))};
  return g;
}

// Runs the call and returns the InvalidArgument's argument name ("" if something else happened).
template <class Args>
std::string rejected(const Args& args) {
  test::TempDir dir("validate");
  Runtime rt(test::quiet_options(dir.path()));
  try {
    if constexpr (std::is_same_v<Args, GemmArgs>) rt.gemm(args);
    else rt.grouped_gemm(args);
  } catch (const InvalidArgument& e) {
    CHECK(std::string(e.what()).find(e.argument()) != std::string::npos);
    CHECK_FALSE(e.rule().empty());
    return e.argument();
  } catch (const std::exception& e) {
    MESSAGE("not an InvalidArgument: " << e.what());
    return "";
  }
  return "";
}

}  // namespace

TEST_SUITE("test_validate") {

TEST_CASE("valid arguments pass validation (and then need a GPU)") {
  test::TempDir dir("validate-ok");
  Runtime rt(test::quiet_options(dir.path()));
  if (testing::gpu_available()) return;  // here we only show validation lets it through
  CHECK_THROWS_AS(rt.gemm(dense()), CudaError);
  for (Layout l : {Layout::contiguous_indices, Layout::contiguous_offsets, Layout::masked}) {
    CHECK_THROWS_AS(rt.grouped_gemm(grouped(l)), CudaError);
    CHECK_THROWS_AS(rt.grouped_gemm(fp8(l)), CudaError);
  }
}

TEST_CASE("M = 0 is a valid empty problem: nothing is launched") {
  GemmArgs g = dense();
  g.m = 0;
  g.a.data = nullptr;
  g.d.data = nullptr;
  test::TempDir dir("validate-empty");
  Runtime rt(test::quiet_options(dir.path()));
  CHECK_NOTHROW(rt.gemm(g));
  CHECK(rt.stats().launches == 0);
}

TEST_CASE("dimensions") {
  auto with = [](auto f) { GemmArgs g = dense(); f(g); return rejected(g); };
  CHECK(with([](GemmArgs& g) { g.m = -1; }) == "m");
  CHECK(with([](GemmArgs& g) { g.n = 0; }) == "n");
  CHECK(with([](GemmArgs& g) { g.k = 0; }) == "k");
  CHECK(with([](GemmArgs& g) { g.k = 1LL << 40; }) == "k");
  CHECK(with([](GemmArgs& g) { g.n = 100; }) == "n");          // not a multiple of 8
  CHECK(with([](GemmArgs& g) { g.k = 100; }) == "k");          // bf16 rows not 16-byte aligned
  CHECK(with([](GemmArgs& g) { g.a.dtype = g.b.dtype = DType::e4m3; g.k = 24; }) == "k");
}

TEST_CASE("pointers, alignment and strides") {
  auto with = [](auto f) { GemmArgs g = dense(); f(g); return rejected(g); };
  CHECK(with([](GemmArgs& g) { g.a.data = nullptr; }) == "a.data");
  CHECK(with([](GemmArgs& g) { g.b.data = nullptr; }) == "b.data");
  CHECK(with([](GemmArgs& g) { g.d.data = nullptr; }) == "d.data");
  CHECK(with([](GemmArgs& g) { g.a.data = static_cast<const char*>(g.a.data) + 8; }) == "a.data");
  CHECK(with([](GemmArgs& g) { g.d.data = static_cast<char*>(g.d.data) + 2; }) == "d.data");
  CHECK(with([](GemmArgs& g) { g.a.ld = 256; }) == "a.ld");    // shorter than K
  CHECK(with([](GemmArgs& g) { g.b.ld = 516; }) == "b.ld");    // rows not 16-byte aligned
  CHECK(with([](GemmArgs& g) { g.d.ld = 200; }) == "d.ld");
  CHECK(with([](GemmArgs& g) { g.d.data = const_cast<void*>(g.a.data); }) == "d.data");  // aliasing
  CHECK(with([](GemmArgs& g) { g.a.ld = 1LL << 62; }) == "a.ld");     // overflow
  CHECK(with([](GemmArgs& g) { g.workspace = {nullptr, 4096}; }) == "workspace.data");
  CHECK(with([](GemmArgs& g) { g.workspace = {static_cast<char*>(fake(7)) + 128, 4096}; }) == "workspace.data");
  GroupedGemmArgs masked = grouped(Layout::masked);
  masked.workspace = {static_cast<char*>(fake(7)) + 16, 1 << 20};
  CHECK(rejected(masked) == "workspace.data");
}

TEST_CASE("dtypes and scales") {
  auto with = [](auto f) { GemmArgs g = dense(); f(g); return rejected(g); };
  CHECK(with([](GemmArgs& g) { g.b.dtype = DType::fp16; }) == "b.dtype");
  CHECK(with([](GemmArgs& g) { g.d.dtype = DType::e4m3; }) == "d.dtype");
  CHECK(with([](GemmArgs& g) { g.a.dtype = static_cast<DType>(42); }) == "a.dtype");
  CHECK(with([](GemmArgs& g) { g.a_scales.kind = ScaleKind::per_col; g.a_scales.data = static_cast<float*>(fake(7)); }) == "a_scales.kind");
  CHECK(with([](GemmArgs& g) { g.b_scales.kind = ScaleKind::block_1x128; g.b_scales.data = static_cast<float*>(fake(7)); }) == "b_scales.kind");
  CHECK(with([](GemmArgs& g) { g.a_scales.kind = ScaleKind::per_row; }) == "a_scales.data");
  CHECK(with([](GemmArgs& g) { g.a_scales.data = static_cast<float*>(fake(7)); }) == "a_scales.data");
  CHECK(with([](GemmArgs& g) {
          g.a_scales = {ScaleKind::block_1x128, static_cast<float*>(fake(7)), 130};  // not a multiple of 4
        }) == "a_scales.ld");
  CHECK(with([](GemmArgs& g) {
          g.a_scales = {ScaleKind::block_1x128, static_cast<float*>(fake(7)), 64};  // fewer than M rows
        }) == "a_scales.ld");
  CHECK(with([](GemmArgs& g) {
          g.b_scales = {ScaleKind::block_128x128, static_cast<float*>(fake(7)), 3};  // < ceil(K/128)
        }) == "b_scales.ld");
  CHECK(with([](GemmArgs& g) { g.c = {fake(8), DType::fp16}; }) == "c.dtype");
}

TEST_CASE("layouts and group arguments") {
  auto with = [](Layout l, auto f) { GroupedGemmArgs g = grouped(l); f(g); return rejected(g); };
  CHECK(with(Layout::masked, [](auto& g) { g.masked_m = nullptr; }) == "masked_m");
  CHECK(with(Layout::contiguous_indices, [](auto& g) { g.m_indices = nullptr; }) == "m_indices");
  CHECK(with(Layout::contiguous_offsets, [](auto& g) { g.group_offsets = nullptr; }) == "group_offsets");
  CHECK(with(Layout::contiguous_indices, [](auto& g) { g.masked_m = static_cast<const i32*>(fake(9)); }) == "masked_m");
  CHECK(with(Layout::masked, [](auto& g) { g.m_indices = static_cast<const i32*>(fake(9)); }) == "m_indices");
  CHECK(with(Layout::masked, [](auto& g) { g.num_groups = 0; }) == "num_groups");
  CHECK(with(Layout::masked, [](auto& g) { g.num_groups = 70000; }) == "num_groups");
  CHECK(with(Layout::masked, [](auto& g) { g.expected_m = -5; }) == "expected_m");
  CHECK(with(Layout::masked, [](auto& g) { g.a.batch_stride = 100; }) == "a.batch_stride");
  CHECK(with(Layout::masked, [](auto& g) { g.d.batch_stride = 8; }) == "d.batch_stride");
  CHECK(with(Layout::contiguous_indices, [](auto& g) { g.b.batch_stride = 1000; }) == "b.batch_stride");
  CHECK(with(Layout::masked, [](auto& g) { g.m_indices = nullptr; g.masked_m = reinterpret_cast<const i32*>(0x100002); }) == "masked_m");
  CHECK(with(Layout::dense, [](auto& g) { g.m_indices = nullptr; }) == "layout");  // grouped_gemm needs a grouped layout
  CHECK(with(Layout::masked, [](auto& g) { g.layout = static_cast<Layout>(9); }) == "layout");
  GroupedGemmArgs f = fp8(Layout::masked);
  f.a_scales.batch_stride = 3;
  CHECK(rejected(f) == "a_scales.batch_stride");
}

TEST_CASE("options: bad environment values and forced configs are rejected") {
  ::setenv("JITGEMM_CACHE_MODE", "sometimes", 1);
  CHECK_THROWS_AS(Options::from_env(), InvalidArgument);
  ::setenv("JITGEMM_CACHE_MODE", "read", 1);
  CHECK(Options::from_env().cache_mode == CacheMode::read);
  ::unsetenv("JITGEMM_CACHE_MODE");
  ::setenv("JITGEMM_FORCE_FAMILY", "sm70", 1);
  CHECK_THROWS_AS(Options::from_env(), InvalidArgument);
  ::setenv("JITGEMM_FORCE_FAMILY", "reference", 1);
  CHECK(Options::from_env().force_family == Family::reference);
  ::unsetenv("JITGEMM_FORCE_FAMILY");
  ::setenv("JITGEMM_FAIL_ON_SPILLS", "maybe", 1);
  CHECK_THROWS_AS(Options::from_env(), InvalidArgument);
  ::unsetenv("JITGEMM_FAIL_ON_SPILLS");
  ::setenv("XDG_CACHE_HOME", "/somewhere", 1);
  ::unsetenv("JITGEMM_CACHE_DIR");
  CHECK(Options::from_env().resolved_cache_dir() == "/somewhere/jitgemm");
  ::unsetenv("XDG_CACHE_HOME");
  test::TempDir dir("forced");
  Runtime rt(test::quiet_options(dir.path()));
  ProblemDesc p;
  p.m = p.n = p.k = 128;
  GemmOptions o;
  o.family = Family::reference;
  o.config = "BLOCK_M=64";
  auto r = rt.precompile(p, flagship_device("sm_90a"), o);
  CHECK(r.status == PrecompileResult::Status::failed);
  CHECK(r.error.find("config") != std::string::npos);
  CHECK_THROWS_AS(flagship_device("sm_75"), InvalidArgument);
}

}  // TEST_SUITE
