// Test and benchmark utility: fill a buffer with reproducible uniform random values of any dtype.
#pragma once

#include <jit/common/numeric.cuh>

namespace jit::util {

__device__ __forceinline__ u64 splitmix64(u64 x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// float -> e4m3 with round-to-nearest-even and saturation to +-448 (exact bit arithmetic).
__device__ __forceinline__ unsigned char float_to_e4m3_bits(float f) {
  const u32 sign = (__float_as_uint(f) >> 24) & 0x80u;
  const float a = fabsf(f);
  if (a != a) return static_cast<unsigned char>(sign | 0x7f);
  if (a >= 448.f) return static_cast<unsigned char>(sign | 0x7e);
  if (a < 0.015625f) return static_cast<unsigned char>(sign | static_cast<u32>(rintf(a * 512.f)));
  const u32 x = __float_as_uint(a);
  u32 e = (x >> 23) - 120u, m = (x >> 20) & 7u;
  const u32 rest = x & 0xfffffu;
  if (rest > 0x80000u || (rest == 0x80000u && (m & 1u))) {
    if (++m == 8u) { m = 0; ++e; }
  }
  if (e > 15u || (e == 15u && m == 7u)) return static_cast<unsigned char>(sign | 0x7e);
  return static_cast<unsigned char>(sign | (e << 3) | m);
}

template <DType T>
__global__ void fill_random_kernel(void* out, i64 count, u64 seed, float lo, float hi) {
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const u64 r = splitmix64(seed * 0x2545f4914f6cdd1dull + static_cast<u64>(i));
    const float u = static_cast<float>(r >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    const float v = lo + (hi - lo) * u;
    if constexpr (T == DType::e4m3) {
      static_cast<fp8_e4m3*>(out)[i].bits = float_to_e4m3_bits(v);
    } else if constexpr (T == DType::s8) {
      float q = rintf(v);
      q = q < -128.f ? -128.f : (q > 127.f ? 127.f : q);
      static_cast<signed char*>(out)[i] = static_cast<signed char>(q);
    } else {
      static_cast<storage_t<T>*>(out)[i] = from_float<T>(v);
    }
  }
}

}  // namespace jit::util
