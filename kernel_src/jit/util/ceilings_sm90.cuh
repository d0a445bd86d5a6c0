// The SM90 FP8 main-loop ceiling for `jitgemm bench --ceilings` (sm_90a): the FP8 family's consumer
// work on a 128x128 tile, minus everything that varies with the problem. Two warpgroups issue
// wgmma m64n128k32 e4m3 over stages of random data filled once into shared memory (no loads, no
// barriers, no epilogue), so the tensor pipe, the promotion and the chip's power are all that
// bound it. With PROMOTE it is the family's overlapped loop (sm90/fp8_consume_overlapped.cuh): two
// wgmma accumulators take turns, and each 128-deep K block is promoted into the fp32 output with its
// A-row and B-block scales while the next one runs (the 1x128 / 128x128 recipe). Without, the
// wgmma accumulate into one chain (the per-tensor / row-wise recipe of cuBLASLt's FP8 GEMMs).
// The pair says what the two-level accumulation costs the tensor pipe and the clock. Thread 0
// records its loop's cycles and time.
#pragma once

#include <jit/ptx/sm90.cuh>
#include <jit/ptx/tma.cuh>
#include <jit/ptx/wgmma.cuh>
#include <jit/sm90/fp8_promote.cuh>
#include <jit/util/ceilings.cuh>

namespace jit::util {

template <bool PROMOTE>
__global__ void __launch_bounds__(kWgmmaFp8Threads, 1) wgmma_fp8_kernel(const WgmmaFp8Params p) {
  constexpr int kN = 128, kAcc = kN / 2, STAGES = kWgmmaFp8Stages;
  constexpr u32 kStage = kWgmmaFp8StageBytes, kB = 128 * 128;
  using Mma = ptx::WgmmaE4M3<kN>;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  const u32 base = (ptx::shared_addr(smem_raw) + 1023u) & ~1023u;  // the swizzle's 1024-byte anchor
  const u32 scales = base + STAGES * kStage;                     // per stage: 128 A-row scales, then B's
  const u32 tid = threadIdx.x, warp = (tid / 32) % 4, lane = tid % 32;
  const u32 seed = p.seed + blockIdx.x * 0x9e3779b9u;
  // Random finite e4m3 (the exponent's top bit cleared: |x| < 2, never NaN); scales in [0.5, 1).
  for (u32 i = tid; i < STAGES * kStage / 4; i += kWgmmaFp8Threads)
    ptx::st_shared_u32(base + 4 * i, ceiling_hash(seed + i) & 0xbfbfbfbfu);
  for (u32 i = tid; i < STAGES * (128 + 4); i += kWgmmaFp8Threads)
    ptx::st_shared_u32(scales + 4 * i, __float_as_uint(0.5f + (ceiling_hash(~seed - i) >> 8) * 0x1p-25f));
  ptx::fence_proxy_async_shared();  // the generic-proxy writes before wgmma's (async proxy) reads
  __syncthreads();

  const u32 wg = ptx::warp_uniform(tid / 128);
  const u32 a_offset = wg * 64 * 128, row = wg * 64 + warp * 16 + lane / 4;
  // A stage in flight: its accumulator and the scales its promotion needs (read before its wgmma,
  // as the GEMM does: a shared load between a wgmma and its wait made ptxas serialize them, C7514).
  struct InFlight {
    float acc[kAcc];
    float sa0, sa1, sb;
  };
  float out[kAcc];
#pragma unroll
  for (int i = 0; i < kAcc; ++i) out[i] = 0.f;
  // Stage s's 4 x m64n128k32 into f (from zero with PROMOTE, else accumulating).
  const auto issue = [&](InFlight& f, u32 s) {
    if (PROMOTE) {
      const u32 sc = scales + s * (128 + 4) * 4;
      f.sa0 = ptx::ld_shared_f32(sc + row * 4);
      f.sa1 = ptx::ld_shared_f32(sc + (row + 8) * 4);
      f.sb = ptx::ld_shared_f32(sc + 128 * 4);
    }
    const auto desc_a = ptx::DescSw128::at(base + s * kStage + a_offset);
    const auto desc_b = ptx::DescSw128::at(base + s * kStage + kB);
#pragma unroll
    for (int i = 0; i < kAcc; ++i) ptx::fence_operand(f.acc[i]);
    ptx::wgmma_fence();
#pragma unroll
    for (int k = 0; k < 4; ++k)
      Mma::mma(desc_a.plus(k * 32).get(), desc_b.plus(k * 32).get(), f.acc, static_cast<u32>(!PROMOTE || k > 0));
    ptx::wgmma_commit();
#pragma unroll
    for (int i = 0; i < kAcc; ++i) ptx::fence_operand(f.acc[i]);
  };
  // After the wait that retires f: fold it into out with its scales (as the GEMM does).
  const auto retire = [&](InFlight& f) {
#pragma unroll
    for (int i = 0; i < kAcc; ++i) ptx::fence_operand(f.acc[i]);
    const float c[4] = {f.sa0 * f.sb, f.sa0 * f.sb, f.sa1 * f.sb, f.sa1 * f.sb};
    sm90::promote<kAcc, false>(out, f.acc, c, kN / 8);
  };
  InFlight x, y;
  const LoopClock loop_clock = LoopClock::start();
  if constexpr (PROMOTE) {
    // The GEMM's loop shape (K blocks as int, both tails): with a single tail after an i64 loop
    // ptxas serialized the wgmma (C7514).
    const int num_kb = static_cast<int>(p.iters);
    issue(x, 0);
    int kb = 0;
    for (; kb + 2 < num_kb; kb += 2) {
      issue(y, (kb + 1) % STAGES);
      ptx::wgmma_wait<1>();
      retire(x);
      issue(x, (kb + 2) % STAGES);
      ptx::wgmma_wait<1>();
      retire(y);
    }
    if (kb + 1 < num_kb) {
      issue(y, (kb + 1) % STAGES);
      ptx::wgmma_wait<1>();
      retire(x);
      ptx::wgmma_wait<0>();
      retire(y);
    } else {
      ptx::wgmma_wait<0>();
      retire(x);
    }
  } else {
#pragma unroll
    for (int i = 0; i < kAcc; ++i) x.acc[i] = 0.f;
    for (i64 it = 0; it < p.iters; ++it) {
      issue(x, static_cast<u32>(it % STAGES));
      ptx::wgmma_wait<1>();
    }
    ptx::wgmma_wait<0>();
#pragma unroll
    for (int i = 0; i < kAcc; ++i) out[i] = x.acc[i];
  }
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < kAcc; ++i) sum += out[i];
  p.out[blockIdx.x * blockDim.x + tid] = sum;
  loop_clock.store(p.clocks);
}

}  // namespace jit::util
