// Test and benchmark utility: compare an output with a reference in one pass.
// Valid rows: sums for calc_diff (in double), NaN/Inf counts, elements still holding the poison
// pattern (never written). Invalid rows (padding, masked-off): elements that no longer hold it.
#pragma once

#include <jit/common/numeric.cuh>
#include <jit/util/check_params.cuh>

namespace jit::util {



template <class T>
__device__ __forceinline__ bool is_poison(const T& v, unsigned char p) {
  const unsigned char* b = reinterpret_cast<const unsigned char*>(&v);
#pragma unroll
  for (int i = 0; i < static_cast<int>(sizeof(T)); ++i)
    if (b[i] != p) return false;
  return true;
}

__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ unsigned long long warp_sum(unsigned long long v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

template <DType T>
__global__ void check_kernel(const CheckParams p) {
  using S = storage_t<T>;
  double xy = 0, xx = 0, yy = 0, err = 0;
  unsigned long long nan_out = 0, nan_ref = 0, unwritten = 0, written_pad = 0;
  const i64 total = p.rows * p.cols;
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 r = i / p.cols, c = i - r * p.cols;
    const S o = static_cast<const S*>(p.out)[r * p.ld_out + c];
    if (p.row_valid && !p.row_valid[r]) {
      written_pad += !is_poison(o, p.poison);
      continue;
    }
    const S f = static_cast<const S*>(p.ref)[r * p.ld_ref + c];
    if (is_poison(o, p.poison)) {
      ++unwritten;
      continue;
    }
    const double x = to_float(o), y = to_float(f);
    const bool bad_x = !(fabs(x) <= 1e300), bad_y = !(fabs(y) <= 1e300);  // NaN or Inf
    nan_out += bad_x;
    nan_ref += bad_y;
    if (bad_x || bad_y) continue;
    xy += x * y;
    xx += x * x;
    yy += y * y;
    err = fmax(err, fabs(x - y));
  }
  xy = warp_sum(xy);
  xx = warp_sum(xx);
  yy = warp_sum(yy);
  for (int o = 16; o > 0; o >>= 1) err = fmax(err, __shfl_down_sync(0xffffffffu, err, o));
  nan_out = warp_sum(nan_out);
  nan_ref = warp_sum(nan_ref);
  unwritten = warp_sum(unwritten);
  written_pad = warp_sum(written_pad);
  if ((threadIdx.x & 31) == 0) {
    atomicAdd(&p.sums[0], xy);
    atomicAdd(&p.sums[1], xx);
    atomicAdd(&p.sums[2], yy);
    // |x - y| >= 0, so its bits order like the value: an integer max is a float max.
    atomicMax(reinterpret_cast<unsigned long long*>(&p.sums[3]),
              static_cast<unsigned long long>(__double_as_longlong(err)));
    atomicAdd(&p.counts[0], nan_out);
    atomicAdd(&p.counts[1], nan_ref);
    atomicAdd(&p.counts[2], unwritten);
    atomicAdd(&p.counts[3], written_pad);
  }
}

}  // namespace jit::util
