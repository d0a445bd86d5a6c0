// The reference family against a CPU reference, for every input dtype, layout and scale kind;
// padding and masked-off rows must keep their poison. Also proves the output check can fail.
#include <cmath>
#include <cstring>

#include "testing/host_reference.hpp"
#include "testing/problem.hpp"
#include "test_util.hpp"

using namespace jit;
using testing::GpuProblem;
using testing::ProblemSpec;

namespace {

struct Scaling {
  DType ab;
  ScaleKind sa, sb;
};

ProblemSpec spec_for(Layout l, Scaling s, DType d, bool with_c, std::uint64_t seed) {
  ProblemSpec p;
  p.layout = l;
  p.rows = l == Layout::dense ? std::vector<int>{37} : std::vector<int>{5, 0, 37, 1};
  p.max_m = l == Layout::masked ? 40 : 0;
  p.extra_rows = l == Layout::contiguous_offsets ? 3 : 0;
  p.n = 40;
  p.k = 272;  // three K blocks, the last one partial
  p.ab = s.ab;
  p.d = d;
  p.sa = s.sa;
  p.sb = s.sb;
  p.with_c = with_c;
  p.seed = seed;
  if (s.ab == DType::s8) {  // integers, kept small enough that 272-term sums fit fp16 outputs
    p.lo = -8;
    p.hi = 8;
  }
  return p;
}

// Bytes of D rows that must stay poison, and NaN/Inf among valid outputs.
void check_rows(const GpuProblem& p, const std::vector<float>& out) {
  const i64 n = p.spec().n, ds = dtype_size(p.spec().d);
  std::vector<unsigned char> raw(p.d_rows() * n * ds);
  TEST_CU(cuCtxSynchronize());
  TEST_CU(cuMemcpyDtoH(raw.data(), reinterpret_cast<CUdeviceptr>(p.out()), raw.size()));
  i64 touched = 0, bad = 0;
  for (i64 r = 0; r < p.d_rows(); ++r) {
    for (i64 c = 0; c < n; ++c) {
      if (p.row_valid()[r]) {
        bad += !std::isfinite(out[r * n + c]);
      } else {
        for (i64 b = 0; b < ds; ++b) touched += raw[(r * n + c) * ds + b] != testing::kPoison;
      }
    }
  }
  CHECK(touched == 0);
  CHECK(bad == 0);
}

}  // namespace

TEST_SUITE("test_reference") {

GPU_CASE("reference family matches the CPU for every dtype, layout and scale kind") {
  testing::use_device();
  testing::Stream stream;
  const std::vector<Scaling> scalings = {
      {DType::bf16, ScaleKind::none, ScaleKind::none},
      {DType::fp16, ScaleKind::none, ScaleKind::none},
      {DType::fp32, ScaleKind::none, ScaleKind::none},
      {DType::e4m3, ScaleKind::block_1x128, ScaleKind::block_128x128},
      {DType::e4m3, ScaleKind::per_row, ScaleKind::per_col},
      {DType::bf16, ScaleKind::block_1x128, ScaleKind::none},
      {DType::s8, ScaleKind::per_row, ScaleKind::per_col},
      {DType::s8, ScaleKind::none, ScaleKind::none},
  };
  std::uint64_t seed = 1;
  for (Layout l : {Layout::dense, Layout::contiguous_indices, Layout::contiguous_offsets, Layout::masked}) {
    for (const auto& s : scalings) {
      for (DType d : {DType::bf16, DType::fp32, DType::fp16}) {
        const bool with_c = d == DType::fp32 && s.ab != DType::s8;
        GpuProblem p(spec_for(l, s, d, with_c, ++seed), stream);
        CAPTURE(p.spec().describe());
        p.poison(stream);
        GemmOptions o;
        o.family = Family::reference;
        if (l == Layout::dense) gemm(p.dense_args(), stream, o);
        else grouped_gemm(p.grouped_args(), stream, o);
        stream.sync();
        const std::vector<float> cpu = testing::host_gemm(p);
        const std::vector<float> gpu = testing::host_output(p, p.out());
        std::vector<float> a, b;
        for (std::size_t i = 0; i < cpu.size(); ++i)
          if (p.row_valid()[i / p.spec().n]) {
            a.push_back(gpu[i]);
            b.push_back(cpu[i]);
          }
        // The CPU result is unrounded: the tolerance is the output type's rounding.
        const double tol = d == DType::fp32 ? 1e-10 : d == DType::fp16 ? 1e-6 : 1e-5;
        const double diff = testing::calc_diff(a.data(), b.data(), a.size());
        CAPTURE(diff);
        CHECK(diff < tol);
        CHECK(a.size() == static_cast<std::size_t>(p.valid_rows() * p.spec().n));
        check_rows(p, gpu);
      }
    }
  }
}

GPU_CASE("the output check detects NaN, unwritten elements and written padding") {
  testing::use_device();
  testing::Stream stream;
  ProblemSpec s = spec_for(Layout::masked, {DType::bf16, ScaleKind::none, ScaleKind::none}, DType::bf16, false, 99);
  GpuProblem p(s, stream);
  p.run_reference(stream);
  // The reference against itself: exact.
  TEST_CU(cuMemcpyDtoDAsync(reinterpret_cast<CUdeviceptr>(p.out()), reinterpret_cast<CUdeviceptr>(p.ref()), p.out_bytes(), stream));
  testing::CheckResult r = p.check(stream);
  CHECK(r.ok(1e-12));
  CHECK(r.diff == doctest::Approx(0.0));
  const i64 n = s.n;
  auto poke = [&](i64 row, i64 col, std::uint16_t bits) {
    TEST_CU(cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(p.out()) + (row * n + col) * 2, &bits, 2));
    TEST_CU(cuCtxSynchronize());  // a pageable copy may return before it lands
  };
  // Row 0 of group 0 is valid, row 39 of group 0 is masked off (group 0 has 5 rows).
  poke(0, 3, 0xFFFF);  // unwritten (the poison pattern)
  poke(1, 4, 0x7FC0);  // NaN
  poke(39, 0, 0x3F80);  // 1.0 in a masked-off row
  r = p.check(stream);
  CHECK(r.unwritten == 1);
  CHECK(r.nan_out == 1);
  CHECK(r.written_padding == 1);
  CHECK_FALSE(r.ok(1.0));
}

}  // TEST_SUITE
