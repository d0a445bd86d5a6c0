// Element types and conversions for kernels, with no CUDA toolkit header: storage structs plus
// one PTX instruction (or exact bit arithmetic) per conversion.
#pragma once

#include <jit/types.hpp>

namespace jit {

struct bf16 { unsigned short bits; };
struct fp16 { unsigned short bits; };
struct fp8_e4m3 { unsigned char bits; };

// The storage type of a DType.
template <DType T> struct storage;
template <> struct storage<DType::bf16> { using type = bf16; };
template <> struct storage<DType::fp16> { using type = fp16; };
template <> struct storage<DType::fp32> { using type = float; };
template <> struct storage<DType::e4m3> { using type = fp8_e4m3; };
template <> struct storage<DType::s8> { using type = signed char; };
template <DType T> using storage_t = typename storage<T>::type;

__device__ __forceinline__ float bf16_bits_to_float(unsigned short b) {
  return __uint_as_float(static_cast<u32>(b) << 16);
}

__device__ __forceinline__ float fp16_bits_to_float(unsigned short b) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(b));  // PTX ISA 9.7.9.21 cvt
  return f;
}

// e4m3 (OCP fn): 1 sign, 4 exponent (bias 7), 3 mantissa bits; S.1111.111 is NaN, no infinities.
// Exact bit arithmetic, so it needs no sm_89 cvt and runs on every arch.
__device__ __forceinline__ float e4m3_bits_to_float(unsigned char b) {
  const u32 sign = static_cast<u32>(b & 0x80) << 24;
  const u32 e = (b >> 3) & 0xF, m = b & 0x7;
  if (e == 0xF && m == 0x7) return __uint_as_float(0x7fc00000u | sign);
  if (e == 0) return __uint_as_float(__float_as_uint(static_cast<float>(m) * 0.001953125f) | sign);
  return __uint_as_float(sign | ((e + 120u) << 23) | (m << 20));
}

__device__ __forceinline__ unsigned short float_to_bf16_bits(float f) {
  unsigned short r;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(f));  // sm_80+
  return r;
}

__device__ __forceinline__ unsigned short float_to_fp16_bits(float f) {
  unsigned short r;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r) : "f"(f));
  return r;
}

__device__ __forceinline__ float to_float(bf16 v) { return bf16_bits_to_float(v.bits); }
__device__ __forceinline__ float to_float(fp16 v) { return fp16_bits_to_float(v.bits); }
__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(fp8_e4m3 v) { return e4m3_bits_to_float(v.bits); }
__device__ __forceinline__ float to_float(signed char v) { return static_cast<float>(v); }

template <DType T> __device__ __forceinline__ storage_t<T> from_float(float f);
template <> __device__ __forceinline__ bf16 from_float<DType::bf16>(float f) { return {float_to_bf16_bits(f)}; }
template <> __device__ __forceinline__ fp16 from_float<DType::fp16>(float f) { return {float_to_fp16_bits(f)}; }
template <> __device__ __forceinline__ float from_float<DType::fp32>(float f) { return f; }

}  // namespace jit
