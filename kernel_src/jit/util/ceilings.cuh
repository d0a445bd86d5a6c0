// Device ceilings for `jitgemm bench --ceilings`: register-only mma.sync loops (the tensor-core rate
// an SM80-style kernel can reach at best, with no memory traffic at all) and an HBM copy (the
// bandwidth a memory-bound GEMM can reach). Compiled through the JIT like every other kernel.
#pragma once

#include <jit/util/ceiling_params.cuh>

namespace jit::util {

namespace ceiling_ptx {

// PTX ISA 9.7.14.5.14 (mma.sync, m16n8k16, .bf16 inputs, .f32 accumulators). A: 4 regs, B: 2, C/D: 4.
__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// PTX ISA 9.7.14.5.14 (mma.sync, m16n8k32, .e4m3 inputs, .f32 accumulators; sm_89 and later).
// Native (QMMA) on sm_89/sm_120 only: on sm_90 ptxas lowers it to F2FP e4m3->f16 unpacks, two
// HMMA.16816.F32 from zero and four FADDs into the accumulator (Hopper's FP8 tensor path is wgmma).
__device__ __forceinline__ void mma_m16n8k32_e4m3(float (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();  // the host only asks for this kernel on sm_89+
#endif
}

// PTX ISA 9.7.14.5.14 (mma.sync, m16n8k32, .s8 inputs, .s32 accumulators).
__device__ __forceinline__ void mma_m16n8k32_s8(int (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace ceiling_ptx

// Per input type: the accumulator, FLOPs of one mma.sync, and fragment bits. Fragments hold small
// finite non-zero values (all-zero operands can run faster than real data, which would flatter us).
template <DType T> struct MmaRate;

template <> struct MmaRate<DType::bf16> {
  using Acc = float;
  static constexpr int kFlops = 2 * 16 * 8 * 16;
  static constexpr u32 kFlip = 0x00010001u;  // lowest mantissa bit of each bf16: stays finite, non-zero
  // Two bf16 of magnitude [2^-7, 2^-6), random sign and mantissa.
  __device__ static u32 bits(u32 h) { return (h & 0x807f807fu) | 0x3c003c00u; }
  __device__ static void mma(Acc (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
    ceiling_ptx::mma_m16n8k16_bf16(d, a, b);
  }
};

template <> struct MmaRate<DType::e4m3> {
  using Acc = float;
  static constexpr int kFlops = 2 * 16 * 8 * 32;
  static constexpr u32 kFlip = 0x01010101u;  // lowest mantissa bit: exponent field stays 4, never NaN
  // Four e4m3 with exponent field 4 (magnitude [1/8, 1/4)): never the NaN code 0x7f.
  __device__ static u32 bits(u32 h) { return (h & 0x87878787u) | 0x20202020u; }
  __device__ static void mma(Acc (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
    ceiling_ptx::mma_m16n8k32_e4m3(d, a, b);
  }
};

template <> struct MmaRate<DType::s8> {
  using Acc = int;
  static constexpr int kFlops = 2 * 16 * 8 * 32;
  static constexpr u32 kFlip = 0x01010101u;  // lowest bit: [0, 7] and [-4, -1] map onto themselves
  // Four int8 in [-4, 7].
  __device__ static u32 bits(u32 h) { return (h & 0x07070707u) | 0xfcfcfcfcu * ((h >> 31) & 1u); }
  __device__ static void mma(Acc (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
    ceiling_ptx::mma_m16n8k32_s8(d, a, b);
  }
};

__device__ __forceinline__ u32 ceiling_hash(u32 x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  return x ^ (x >> 16);
}

// Each warp runs CHAINS independent accumulator chains (one A fragment times CHAINS B fragments, like
// a kernel's N sub-tiles) so the tensor pipe never waits on a previous mma's result; nothing but
// registers is touched until the single store at the end. The A fragment changes every iteration
// (a loop-carried XOR of one mantissa bit): with loop-invariant operands ptxas may compute a product
// once -- it did for e4m3 on sm_90, where mma.sync is an HMMA-from-zero plus FADDs, and the loop
// then timed FADDs (999 "TFLOP/s") instead of the tensor cores.
template <DType T, int CHAINS>
__global__ void __launch_bounds__(256) mma_rate_kernel(const MmaRateParams p) {
  static_assert(CHAINS >= 1 && CHAINS <= 16, "accumulator chains must fit the register file");
  using R = MmaRate<T>;
  using Acc = typename R::Acc;
  const u32 tid = blockIdx.x * blockDim.x + threadIdx.x;
  const u32 base = p.seed + tid * (4u + 2u * CHAINS);
  u32 a[4], b[CHAINS][2];
#pragma unroll
  for (int i = 0; i < 4; ++i) a[i] = R::bits(ceiling_hash(base + i));
#pragma unroll
  for (int c = 0; c < CHAINS; ++c)
#pragma unroll
    for (int i = 0; i < 2; ++i) b[c][i] = R::bits(ceiling_hash(base + 4u + 2u * c + i));
  Acc acc[CHAINS][4];
#pragma unroll
  for (int c = 0; c < CHAINS; ++c)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[c][j] = 0;
  for (i64 it = 0; it < p.iters; ++it) {
    // Flips a pseudo-random subset of the low bits (same mask in all four registers): not periodic
    // within any unroll ptxas would do, so no product can be hoisted.
    const u32 flip = (static_cast<u32>(it) * 0x9e3779b9u) & R::kFlip;
#pragma unroll
    for (int i = 0; i < 4; ++i) a[i] ^= flip;
#pragma unroll
    for (int c = 0; c < CHAINS; ++c) R::mma(acc[c], a, b[c]);
  }
  Acc sum = 0;
#pragma unroll
  for (int c = 0; c < CHAINS; ++c)
#pragma unroll
    for (int j = 0; j < 4; ++j) sum += acc[c][j];
  p.out[tid] = static_cast<float>(sum);
}

// Grid-stride copy of 16-byte vectors; UNROLL independent loads in flight per thread before the
// stores, so each SM keeps enough bytes in flight to cover HBM latency.
template <int UNROLL>
__global__ void __launch_bounds__(256) hbm_copy_kernel(const CopyParams p) {
  static_assert(UNROLL >= 1 && UNROLL <= 8, "unroll 1..8");
  const uint4* __restrict__ src = static_cast<const uint4*>(p.src);
  uint4* __restrict__ dst = static_cast<uint4*>(p.dst);
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + (UNROLL - 1) * stride < p.count16; i += UNROLL * stride) {
    uint4 v[UNROLL];
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) v[u] = src[i + u * stride];
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) dst[i + u * stride] = v[u];
  }
  for (; i < p.count16; i += stride) dst[i] = src[i];
}

}  // namespace jit::util
