#include "testing/kernels.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "jit/runtime.hpp"
#include "jit/util/check_params.cuh"
#include "runtime/codegen.hpp"
#include "runtime/launcher.hpp"
#include "testing/device.hpp"

namespace jit::testing {

namespace {

CUfunction util_kernel(CUstream s, const char* header, const char* kernel, const char* params,
                       DType t) {
  detail::TemplateArgs args;
  args.add("T", t);
  detail::KernelSource src = detail::render_instantiation(header, kernel, params, args);
  return Runtime::global().load_kernel(s, src.stub, src.name_expr);
}

unsigned grid_for(i64 count) {
  return static_cast<unsigned>(std::clamp<i64>((count + 255) / 256, 1, 4096));
}

}  // namespace

void fill_random(CUstream s, void* data, DType dtype, i64 count, std::uint64_t seed, float lo, float hi) {
  if (count <= 0) return;
  struct {
    void* out;
    i64 count;
    std::uint64_t seed;
    float lo, hi;
  } p{data, count, seed, lo, hi};
  CUfunction fn = util_kernel(s, "jit/util/fill.cuh", "jit::util::fill_random_kernel",
                              "void*, jit::i64, jit::u64, float, float", dtype);
  void* args[] = {&p.out, &p.count, &p.seed, &p.lo, &p.hi};
  TEST_CU(cuLaunchKernel(fn, grid_for(count), 1, 1, 256, 1, 1, 0, s, args, nullptr));
}

void fill_bytes(CUstream s, void* data, unsigned char byte, std::size_t bytes) {
  if (bytes) TEST_CU(cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(data), byte, bytes, s));
}

CheckResult check_output(CUstream s, const void* out, i64 ld_out, const void* ref, i64 ld_ref,
                         DType dtype, i64 rows, i64 cols, const unsigned char* row_valid) {
  DeviceBuffer sums(4 * sizeof(double)), counts(4 * sizeof(unsigned long long));
  fill_bytes(s, sums.get(), 0, sums.size());
  fill_bytes(s, counts.get(), 0, counts.size());
  util::CheckParams p{};
  p.out = out;
  p.ref = ref;
  p.row_valid = row_valid;
  p.rows = rows;
  p.cols = cols;
  p.ld_out = ld_out;
  p.ld_ref = ld_ref;
  p.sums = sums.as<double>();
  p.counts = counts.as<unsigned long long>();
  p.poison = kPoison;
  CUfunction fn = util_kernel(s, "jit/util/check.cuh", "jit::util::check_kernel",
                              "jit::util::CheckParams", dtype);
  detail::LaunchDims d;
  d.grid[0] = grid_for(rows * cols);
  d.block[0] = 256;
  detail::launch_kernel(fn, d, p, s, "check_output");
  double hs[4];
  unsigned long long hc[4];
  TEST_CU(cuStreamSynchronize(s));
  sums.download(hs, sizeof(hs));
  counts.download(hc, sizeof(hc));
  CheckResult r;
  const double denom = hs[1] + hs[2];
  r.diff = denom > 0 ? 1.0 - 2.0 * hs[0] / denom : 0.0;
  r.max_abs_err = hs[3];
  r.nan_out = hc[0];
  r.nan_ref = hc[1];
  r.unwritten = hc[2];
  r.written_padding = hc[3];
  r.checked = 0;
  return r;
}

std::string CheckResult::summary() const {
  return fmt::format("calc_diff={:.3e} max_abs_err={:.3e} nan_out={} nan_ref={} unwritten={} written_padding={}",
                     diff, max_abs_err, nan_out, nan_ref, unwritten, written_padding);
}

double calc_diff(const float* x, const float* y, std::size_t n) {
  double xy = 0, xx = 0, yy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    xy += double(x[i]) * y[i];
    xx += double(x[i]) * x[i];
    yy += double(y[i]) * y[i];
  }
  return xx + yy > 0 ? 1.0 - 2.0 * xy / (xx + yy) : 0.0;
}

}  // namespace jit::testing
