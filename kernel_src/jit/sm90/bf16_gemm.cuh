// The SM90 16-bit GEMM: D (bf16, fp16 or fp32) = [C +] A x B^T with bf16 or fp16 A and B, every
// layout, warp-specialized and persistent. Host side: runtime/sm90_bf16_gemm.cpp.
//
// Design: the FP8 kernel's skeleton (sm90/fp8_gemm.cuh) without the scales.
// - Warp roles (sm90/pipeline.cuh, run_warp_roles). One producer warpgroup, of which one elected
//   thread runs the tile scheduler, hands each tile to the consumers through the TileInfo ring and
//   issues every TMA load; one consumer warpgroup (BLOCK_M = 64) or two (128, 256), each owning
//   BLOCK_M / 2 rows in waves of 64. setmaxnreg gives the consumers 232 registers when there are two.
// - Pipeline. STAGES slots of one 64-wide K block: A BLOCK_M x 128 B and B BLOCK_N x 128 B, 128-byte
//   swizzle -- byte for byte the FP8 kernel's stage layout. The producer runs ahead across tiles, so
//   the epilogue of one tile overlaps the loads of the next.
// - Math. Single-level: fp32 accumulators stay in the tensor cores' registers for all of K. Per
//   stage and 64-row wave, 4 x wgmma m64nBLOCK_Nk16 (the descriptor's start advances 32 bytes per
//   k16 step inside the 128-byte swizzle row). One wgmma group stays in flight: after issuing stage
//   kb, wait_group 1 retires stage kb - 1, whose slot is then released -- the tensor cores never
//   wait for a release, a barrier or the next stage's issue.
// - Epilogue (sm90/epilogue.cuh). C is added, in fp32, to the values as they leave the fragments
//   (never written back into the accumulators: ptxas would then serialize the wgmma). A 16-bit D
//   goes through stmatrix into a swizzled smem tile, then TMA stores (every row of the tile may be
//   written) or a masked copy; an fp32 D is stored straight from the fragments, row by row as the
//   layout allows.
// - L2_HINTS: as in the FP8 kernel, A's loads evict last and B's first (dense, few m-blocks).
// - Split-K (SPLIT > 1, sm90/split_k.cuh): the SPLIT CTAs of a cluster take the same tiles, each
//   for its share of the K blocks; rank 0 stores the sum of the partials (plus C).
// - Multicast (CLUSTER = 2, SPLIT = 1): the FP8 kernel's pairs (sm90/cluster_scheduler.cuh) --
//   consecutive tiles of the scheduler's order go to the two CTAs of a cluster, and when both are
//   real tiles of the same m-block and expert each CTA loads half of the A tile and multicasts it
//   to both. With SHARE_B (any layout) a pair is two m-blocks of one n-block, sharing B:
//   each B byte then leaves the L2 once for both, and two CTAs no longer miss on the same lines.
#pragma once

#include <jit/ptx/sm90.cuh>
#include <jit/ptx/tma.cuh>
#include <jit/ptx/wgmma.cuh>
#include <jit/sm90/cluster_scheduler.cuh>
#include <jit/sm90/epilogue.cuh>
#include <jit/sm90/params.cuh>
#include <jit/sm90/pipeline.cuh>
#include <jit/sm90/smem.cuh>
#include <jit/sm90/split_k.cuh>

namespace jit::sm90 {

// The wgmma of the operands' type.
template <DType T, int N> struct Wgmma16;
template <int N> struct Wgmma16<DType::bf16, N> : ptx::WgmmaBF16<N> {};
template <int N> struct Wgmma16<DType::fp16, N> : ptx::WgmmaF16<N> {};

template <int BLOCK_M, int BLOCK_N, int STAGES, DType D, int SPLIT>
using Bf16Storage = Bf16SharedStorage<BLOCK_M, BLOCK_N, STAGES, bf16_d_tile_bytes(BLOCK_M, BLOCK_N, D), SPLIT>;
template <int BLOCK_M, int STAGES, int CLUSTER>
using Bf16Sync = GemmSync<STAGES, CLUSTER, math_threads(BLOCK_M) / 32>;

// The producer thread: the scheduler's tiles (with CLUSTER = 2, this CTA's of each pair), each with
// its K blocks of A and B (this CTA's share under split-K).
template <Layout L, int BLOCK_M, int BLOCK_N, int STAGES, int CLUSTER, int SWIZZLE_N, int SPLIT, bool SHARE_B,
          bool L2_HINTS, class Storage>
__device__ __forceinline__ void bf16_produce(const Bf16GemmParams& p, Storage& ss,
                                             const Bf16Sync<BLOCK_M, STAGES, CLUSTER>& sync, u32 rank,
                                             SplitRange<SPLIT> kbs) {
  // Out-of-bounds rows and K columns are zero-filled by TMA and still count towards the bytes.
  constexpr u32 kStageBytes = (BLOCK_M + BLOCK_N) * kStageRowBytes;
  ClusterScheduler<L, BLOCK_M, BLOCK_N, SWIZZLE_N, CLUSTER, SPLIT, SHARE_B> sched(p.m, p.n, p.num_groups, p.groups,
                                                                                 rank);
  const auto load = [&](const Step& s, int kb, u32 stage, u32 bar) {
    load_stage_ab<BLOCK_M, BLOCK_N, CLUSTER, SHARE_B, L == Layout::masked, L2_HINTS>(
        &p.map_a, ptx::shared_addr(ss.a[stage]), &p.map_b, ptx::shared_addr(ss.b[stage]), bar, kb * kBlockK16, s, rank);
  };
  produce_steps(sync, sched, kbs.begin, kbs.end, kStageBytes, load);
}

// The MMAs of one tile by one warpgroup, of which the first ACTIVE waves have rows (0: none; the
// slots are only handed back). Per stage and wave, 4 x m64nNk16; one stage's wgmma group stays in
// flight: after issuing stage kb, wait_group 1 retires stage kb - 1, whose slot is then released.
// No branch may separate a wgmma from an earlier one still in flight (ptxas would serialize every
// wgmma: C7518), hence one instance per count of active waves rather than a test per wave.
template <int ACTIVE, DType AB, int BLOCK_N, int STAGES, class Storage, class Sync, int WAVES, int ACC>
__device__ __forceinline__ void bf16_mma_tile(Storage& ss, const Sync& sync, PipelineState<STAGES>& st,
                                              float (&acc)[WAVES][ACC], int wg_row0, int num_kb, u32 lane) {
  PipelineState<STAGES> prev;  // the stage whose MMAs are still in flight
  for (int kb = 0; kb < num_kb; ++kb) {
    sync.pipe.consumer_wait(st);
    if constexpr (ACTIVE == 0) {
      sync.pipe.consumer_release(st, lane);
    } else {
      const auto desc_a = ptx::DescSw128::at(ptx::shared_addr(ss.a[st.stage]) + wg_row0 * kStageRowBytes);
      const auto desc_b = ptx::DescSw128::at(ptx::shared_addr(ss.b[st.stage]));
      ptx::wgmma_fence();
#pragma unroll
      for (int v = 0; v < ACTIVE; ++v)
#pragma unroll
        for (int k = 0; k < kBlockK16 / 16; ++k) {
          // +32 bytes along K, +64 rows = +8 KB.
          const u64 da = desc_a.plus(v * 64 * kStageRowBytes + k * 32).get();
          const u64 db = desc_b.plus(k * 32).get();
          Wgmma16<AB, BLOCK_N>::mma(da, db, acc[v], static_cast<u32>(kb > 0 || k > 0));  // the first overwrites
        }
      ptx::wgmma_commit();
      ptx::wgmma_wait<1>();  // stage kb - 1's MMAs (and their smem reads) are done
      if (kb > 0) sync.pipe.consumer_release(prev, lane);
    }
    prev = st;
    st.advance();
  }
  if constexpr (ACTIVE > 0) {
    ptx::wgmma_wait<0>();
#pragma unroll
    for (int v = 0; v < ACTIVE; ++v)
#pragma unroll
      for (int i = 0; i < ACC; ++i) ptx::fence_operand(acc[v][i]);  // the epilogue reads stay below
    sync.pipe.consumer_release(prev, lane);
  }
}

// The consumer warpgroups: the MMAs and the epilogue (or the split-K exchange) of every tile the
// producer hands out, num_kb K blocks each.
template <DType AB, DType D, Layout L, bool HAS_C, DType C, int BLOCK_M, int BLOCK_N, int STAGES, int CLUSTER,
          class Storage, class Split>
__device__ __forceinline__ void bf16_consume(const Bf16GemmParams& p, Storage& ss,
                                             const Bf16Sync<BLOCK_M, STAGES, CLUSTER>& sync, int num_kb, Split& split) {
  constexpr int kMathThreads = math_threads(BLOCK_M);
  constexpr int kWgRows = BLOCK_M / (kMathThreads / 128);
  constexpr int kWaves = kWgRows / 64;
  static_assert(kWaves == 1 || kWaves == 2, "one or two 64-row waves per warpgroup");
  using Ring = TileRing<kTileRing, kMathThreads / 32>;

  const u32 tid = threadIdx.x, lane = tid % 32;
  const int wg_row0 = static_cast<int>(ptx::warp_uniform(tid / 128)) * kWgRows;
  PipelineState<STAGES> st;
  PipelineState<kTileRing> ring;
  float acc[kWaves][BLOCK_N / 2];

  for (;;) {
    const u32 slot = sync.tiles.wait(ring);
    const int flags = Ring::field(slot, 4);
    if (flags & kTileDone) break;
    const bool valid = (flags & kTileValid) != 0;
    // Waves with no row to compute skip their MMAs (padding, rows past the expert's end); their
    // accumulators are garbage that the epilogue never stores. Rows only end, never start, inside
    // a tile, so the active waves are the first ones.
    int active = 0;
    {
      const int group = Ring::field(slot, 0), row0 = Ring::field(slot, 2), rows = Ring::field(slot, 3);
#pragma unroll
      for (int v = 0; v < kWaves; ++v) {
        const int row = wg_row0 + v * 64;
        active += valid && row < rows && (L != Layout::contiguous_indices || p.groups[row0 + row] == group);
      }
    }
    if (active == kWaves) {
      bf16_mma_tile<kWaves, AB, BLOCK_N>(ss, sync, st, acc, wg_row0, num_kb, lane);
    } else if (kWaves == 2 && active == 1) {
      bf16_mma_tile<1, AB, BLOCK_N>(ss, sync, st, acc, wg_row0, num_kb, lane);
    } else {
      bf16_mma_tile<0, AB, BLOCK_N>(ss, sync, st, acc, wg_row0, num_kb, lane);
    }

    if (!valid) {  // uniform across the CTA: nothing to store
      sync.tiles.release(ring, lane);
      continue;
    }
    // The tile's coordinates again, from the slot (they were not worth registers in the loop).
    const Tile t{Ring::field(slot, 0), 0, Ring::field(slot, 1), Ring::field(slot, 2), Ring::field(slot, 3)};
    const auto store = [&](const auto& add) {
      if constexpr (D == DType::fp32) store_tile_fp32<L, BLOCK_N>(p, t, acc, wg_row0, add);
      else store_tile<L, BLOCK_M, BLOCK_N, kMathThreads, D>(p, t, acc, wg_row0, ptx::shared_addr(ss.d), add);
    };
    if constexpr (HAS_C) split.store(acc, CAddend<L, BLOCK_N, C>(p, t, wg_row0), store);
    else split.store(acc, NoAddend{}, store);
    sync.tiles.release(ring, lane);
  }
  if constexpr (D != DType::fp32)
    if (tid % 128 == 0) ptx::bulk_wait_group<0>();  // the smem tile must outlive each warpgroup's last stores
}

template <DType AB, DType D, Layout L, bool HAS_C, DType C, int BLOCK_M, int BLOCK_N, int STAGES, int SWIZZLE_N,
          int SPLIT, int CLUSTER, bool SHARE_B, bool L2_HINTS>
__global__ void __launch_bounds__(gemm_threads(BLOCK_M), 1) bf16_gemm_kernel(const __grid_constant__ Bf16GemmParams p) {
  using Storage = Bf16Storage<BLOCK_M, BLOCK_N, STAGES, D, SPLIT>;
  constexpr int kMathThreads = math_threads(BLOCK_M);
  static_assert(AB == DType::bf16 || AB == DType::fp16, "bf16 or fp16 operands");
  static_assert(D == DType::bf16 || D == DType::fp16 || D == DType::fp32, "bf16, fp16 or fp32 output");
  static_assert(!HAS_C || C == DType::fp32 || C == D, "C is fp32 or D's type");
  static_assert(BLOCK_M == 64 || BLOCK_M == 128 || BLOCK_M == 256, "BLOCK_M: 64, 128 or 256");
  static_assert(BLOCK_N % 16 == 0 && BLOCK_N >= 16 && BLOCK_N <= 256, "BLOCK_N: a multiple of 16 up to 256");
  static_assert(BLOCK_M / (kMathThreads / 128) / 64 * BLOCK_N / 2 <= 128, "accumulators: 128 registers at most");
  static_assert(L != Layout::contiguous_indices || BLOCK_M <= kContiguousAlignment,
                "an m_indices tile must not span two experts");
  static_assert(STAGES >= 2, "one stage in flight in the tensor cores, one being loaded");
  static_assert(CLUSTER == 1 || SPLIT == 1, "multicast pairs or split-K clusters, not both");
  static_assert(!SHARE_B || CLUSTER == 2, "B pairs are 2-CTA clusters");

  extern __shared__ __align__(1024) unsigned char smem_raw[];
  Storage& ss = *reinterpret_cast<Storage*>(smem_raw);
  const Bf16Sync<BLOCK_M, STAGES, CLUSTER> sync(ss.sync);
  const u32 rank = CLUSTER * SPLIT > 1 ? ptx::cluster_ctarank() : 0;
  const SplitRange<SPLIT> kbs((p.k + kBlockK16 - 1) / kBlockK16, SPLIT > 1 ? rank : 0);
  SplitK<SPLIT, kMathThreads, BLOCK_M / (kMathThreads / 128) / 64, BLOCK_N / 2> split(
      ptx::shared_addr(ss.partials), ptx::shared_addr(&ss.sync.split_full), ptx::shared_addr(&ss.sync.split_empty),
      rank);

  run_warp_roles<kMathThreads, CLUSTER * SPLIT>(
      smem_raw,
      [&] {
        ptx::prefetch_tensormap(&p.map_a);
        ptx::prefetch_tensormap(&p.map_b);
        if constexpr (D != DType::fp32) ptx::prefetch_tensormap(&p.map_d);
        split.init();  // before sync.init(), whose fence publishes every barrier to the cluster
        sync.init();
      },
      [&] { bf16_produce<L, BLOCK_M, BLOCK_N, STAGES, CLUSTER, SWIZZLE_N, SPLIT, SHARE_B, L2_HINTS>(p, ss, sync, rank, kbs); },
      [&] {
        bf16_consume<AB, D, L, HAS_C, C, BLOCK_M, BLOCK_N, STAGES, CLUSTER>(p, ss, sync, kbs.end - kbs.begin, split);
      });
}

}  // namespace jit::sm90
