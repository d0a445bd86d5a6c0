// Split-K for the sm80 GEMM, through a global workspace (Ampere has no clusters, so the SM90
// families' exchange in distributed shared memory is not available). Which tiles are split, and in
// how many parts, is split_plan_for's (params.cuh): the last wave's. `parts` CTAs compute the same
// output tile, each over its share of the K blocks; each writes its fp32 partial sums to the tile's
// slot in the workspace and counts itself in on the tile's counter, and the CTA that arrives last
// adds the slots in split order -- the same bits whoever is last -- stores the tile through the
// normal epilogue, and zeroes the counter again for the next launch. Nobody waits for anybody, so
// no co-residency is needed and a persistent CTA goes straight on to its next unit.
//
// Workspace (split_workspace_bytes in params.cuh): a fixed region of int counters, one per tile,
// then per split tile `parts` slots of BLOCK_M x BLOCK_N floats in the accumulators' register order:
// float4 i of thread t at i x THREADS + t, so that a warp's accesses are 512 contiguous bytes.
#pragma once

#include <jit/ptx/global.cuh>
#include <jit/sm80/params.cuh>

namespace jit::sm80 {

// This unit's K blocks: split s of `parts` over num_kb blocks, [begin, begin + count). Never empty
// (parts <= num_kb: split_plan_for).
struct KRange {
  int begin, count;
};

__device__ __forceinline__ KRange split_range(int num_kb, int split, int parts) {
  const int begin = split * num_kb / parts;
  return {begin, (split + 1) * num_kb / parts - begin};
}

// Called by every thread of the CTA after the K loop of unit (split tile `tile`, counted from the
// first split one; split `split` of `parts`). Returns true in the CTA that completes the tile: its
// `acc` then holds the sum over all splits and it must store the tile.
template <int THREADS, int MT, int NT>
__device__ __forceinline__ bool split_k_reduce(const Params& p, int tile, int split, int parts,
                                               float (&acc)[MT][NT][4]) {
  constexpr int kVecs = MT * NT;  // float4 per thread
  constexpr int kSlotFloats = kVecs * 4 * THREADS;
  __shared__ int is_last;
  const int tid = threadIdx.x;
  float* slots = reinterpret_cast<float*>(static_cast<char*>(p.workspace) + kSplitCountersBytes) +
                 static_cast<i64>(tile) * parts * kSlotFloats;
  int* counter = static_cast<int*>(p.workspace) + tile;

  float* mine = slots + split * kSlotFloats + tid * 4;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
      ptx::st_global_cg_v4_f32(mine + (mt * NT + nt) * THREADS * 4, acc[mt][nt][0], acc[mt][nt][1],
                               acc[mt][nt][2], acc[mt][nt][3]);
  // The barrier orders every thread's stores before thread 0's release; its acquire then orders
  // the other splits' stores before this CTA's reads, through the next barrier.
  __syncthreads();
  if (tid == 0) is_last = ptx::atom_add_acq_rel_gpu(counter, 1) == parts - 1;
  __syncthreads();
  if (!is_last) return false;
  if (tid == 0) ptx::st_relaxed_gpu(counter, 0);  // the next launch starts from zero

  // Sum the slots in split order, this CTA's own included (re-read rather than kept aside: one
  // slot's worth of registers in flight instead of a second accumulator set). At most 16 float4
  // loads in flight: the large tiles' 32 would need 128 registers on top of the accumulators.
  constexpr int kChunk = kVecs < 16 ? kVecs : 16;
  static_assert(kVecs % kChunk == 0, "whole chunks");
  const float* base = slots + tid * 4;
#pragma unroll
  for (int c0 = 0; c0 < kVecs; c0 += kChunk) {
#pragma unroll 1
    for (int k = 0; k < parts; ++k) {
#pragma unroll
      for (int i = c0; i < c0 + kChunk; ++i) {
        float v[4];
        ptx::ld_global_cg_v4_f32(base + k * kSlotFloats + i * THREADS * 4, v[0], v[1], v[2], v[3]);
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i / NT][i % NT][j] = k == 0 ? v[j] : acc[i / NT][i % NT][j] + v[j];
      }
    }
  }
  return true;
}

}  // namespace jit::sm80
