// The two-level accumulation of the SM90 FP8 GEMM (sm90/fp8_gemm.cuh): where a tile's B scales
// are, and the promotion of a wgmma accumulator into the fp32 output accumulator. Also the FP8
// kernel's synchronization type, shared by its consumer loops.
#pragma once

#include <jit/ptx/sm90.cuh>
#include <jit/sm90/params.cuh>
#include <jit/sm90/pipeline.cuh>
#include <jit/sm90/smem.cuh>

namespace jit::sm90 {

// Folds one wave's fresh wgmma accumulator into the fp32 output accumulator. c[0..1]: scales of
// the fragment's first row (l/4) for the first and second B scale block, c[2..3]: row l/4 + 8.
// 8-column blocks j < first_blocks belong to the first B scale block. A tile starts at a multiple
// of gcd(BLOCK_N, 128) inside its scale block, so first_blocks is a multiple of kGroup = that / 8:
// the scale is chosen once per group of kGroup blocks, not per block (the compiler otherwise
// materializes a scale per block and row half, 2 x BLOCK_N / 8 multiplies and selects a stage).
template <int ACC, bool STRADDLE>
__device__ __forceinline__ void promote(float* out, const float* acc, const float (&c)[4], int first_blocks) {
  constexpr int kBlocks = ACC / 4;  // 8-column blocks
  constexpr int kGroup = STRADDLE ? gcd(2 * ACC, kBlockK) / 8 : kBlocks;
  static_assert(kBlocks % kGroup == 0, "whole groups");
#pragma unroll
  for (int g = 0; g < kBlocks / kGroup; ++g) {
    const bool first = !STRADDLE || g * kGroup < first_blocks;
    const float s0 = first ? c[0] : c[1], s1 = first ? c[2] : c[3];
#pragma unroll
    for (int j = g * kGroup; j < (g + 1) * kGroup; ++j) {
      out[4 * j + 0] += acc[4 * j + 0] * s0;
      out[4 * j + 1] += acc[4 * j + 1] * s0;
      out[4 * j + 2] += acc[4 * j + 2] * s1;
      out[4 * j + 3] += acc[4 * j + 3] * s1;
    }
  }
}

// Where a tile's B scales are: the 128x128 block of its first column, and the next block when
// the tile reaches into it (then `next` is its offset and the first `first_blocks` 8-column blocks
// of the tile take the first block's scale).
template <int BLOCK_N>
struct BScaleBlocks {
  const float* first;
  int next;
  int first_blocks;
  __device__ __forceinline__ BScaleBlocks(const Fp8GemmParams& p, int group, int n0) {
    constexpr bool kStraddle = kBlockK % BLOCK_N != 0;
    const int boundary = (n0 / kBlockK + 1) * kBlockK;
    const bool second = kStraddle && boundary < min(n0 + BLOCK_N, p.n);
    first_blocks = second ? (boundary - n0) / 8 : BLOCK_N / 8;
    first = p.sfb + static_cast<i64>(max(group, 0)) * p.sfb_batch + static_cast<i64>(n0 / kBlockK) * p.sfb_ld;
    next = second ? static_cast<int>(p.sfb_ld) : 0;
  }
};

// The stage's two B scales at `sfb` (shared), for every lane of a converged consumer warp: loaded
// by lane `reader` (Pipeline::release_lane) before the stage's wgmma, shuffled to the other lanes
// after the first is issued, so that neither delays the issue. (With load and shuffle both after
// the issue, ptxas kept the load behind the wgmma: the plain loop ran 13-17% slower.)
struct BScales {
  float s0, s1;
  __device__ __forceinline__ void load(u32 sfb, u32 lane, u32 reader) {
    s0 = __uint_as_float(ptx::ld_shared_u32_if(lane == reader, sfb));
    s1 = __uint_as_float(ptx::ld_shared_u32_if(lane == reader, sfb + 4));
  }
  __device__ __forceinline__ void broadcast(u32 reader) {
    s0 = __shfl_sync(0xffffffffu, s0, reader);
    s1 = __shfl_sync(0xffffffffu, s1, reader);
  }
};

// Two producer arrivals per stage: the TMA loads' expect_tx and the B scales' cp.async.
template <int BLOCK_M, int BLOCK_N, int STAGES, int CLUSTER>
using Fp8Sync = GemmSync<STAGES, CLUSTER, fp8_math_threads(BLOCK_M) / 32, 2>;

}  // namespace jit::sm90
