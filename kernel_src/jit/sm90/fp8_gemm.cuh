// The SM90 FP8 GEMM: D (bf16) = A (e4m3, 1x128 scales) x B^T (e4m3, 128x128 scales), every
// layout, warp-specialized and persistent. Host side: runtime/sm90_fp8_gemm.cpp.
//
// Design (after DeepGEMM v1's sm90 1D2D kernel; our own code):
// - Warp roles. 128 + 128*W threads: W consumer warpgroups (W = 1 for BLOCK_M = 64, else 2) and
//   one producer warpgroup, of which a single elected thread runs the tile scheduler and issues
//   every TMA load (and the B scales' cp.async); it hands each tile to the consumers through a
//   small ring of TileInfo slots in shared memory, so the consumers keep no scheduler state.
//   setmaxnreg moves registers from the producer (40) to the consumers (232) when W = 2.
// - Pipeline. STAGES slots of one 128-wide K block each (A: BLOCK_M x 128 B, B: BLOCK_N x 128 B,
//   128-byte swizzle; A scales: BLOCK_M floats; B scales: 2 floats), full/empty mbarriers
//   (sm90/pipeline.cuh; a full barrier completes on the TMA bytes and the B scales' cp.async). The
//   producer runs ahead across tiles, so the epilogue of one tile overlaps the loads of the next.
//   Every tile starts on slot 0 (the producer completes the rest of a tile's last round of STAGES
//   slots empty), so both consumer loops are unrolled over the slots: slot addresses are constants
//   and one phase bit serves a round (v0.19: ~40 fewer instructions per warp and stage).
// - Math. Warpgroup w owns rows [w * BLOCK_M / W, ...) in waves of 64 rows. Per stage and wave:
//   4 x wgmma m64nBLOCK_Nk32 into a fresh fp32 accumulator, wait, release the slot (after the last
//   wave), then CUDA cores fold it into the second accumulator: out += acc * sa[row] * sb[block].
//   The two warpgroups alternate on the tensor cores, so each one's promotion hides behind the
//   other's MMAs. With OVERLAP (one wave per warpgroup, BLOCK_N <= 128, the heuristics' default
//   there; sm90/fp8_consume_overlapped.cuh) the next stage's wgmma are issued before a stage is
//   drained, into a second wgmma accumulator, so the tensor cores also run while the warpgroup
//   waits, releases and promotes. Scales come from shared memory with the stage: A's TMA-loaded
//   (that is what the M-major layout is for), the stage's one or two B scales copied by the
//   producer with cp.async, whose completion is the full barrier's second arrival. (Loaded by the
//   consumers from global memory, ptxas moved them to uniform registers right after the load and
//   stalled there, before the stage's wgmma.) A 128-wide B scale block may
//   straddle two N tiles when BLOCK_N does not divide 128 (112, 144, 160, 192): columns before the
//   boundary take the first block's scale, the rest the next.
// - Multicast (CLUSTER = 2). Consecutive tiles of the scheduler's order go to the two CTAs of a
//   cluster; when both are real tiles of the same m-block and expert, each CTA loads half of the A
//   tile and multicasts it to both. With SHARE_B a pair is two m-blocks of one n-block and expert
//   (any layout), sharing B the same way: half the B bytes leave the L2 per tile (DeepGEMM's pairs
//   on large MoE shapes). The CTAs walk the same tile pairs in lockstep (a null step for a missing
//   or padding tile) and every consumer warp releases a slot to both producers.
// - Split-K (SPLIT > 1, sm90/split_k.cuh). The SPLIT CTAs of a cluster take the same tiles, each
//   for its share of the K blocks (producer and consumers alike), and rank 0 stores the sum of the
//   fp32 partials, exchanged through distributed shared memory: more CTAs where tiles are few.
// - L2_HINTS. A's TMA loads evict last and B's first (ptx::L2Evict): where B streams past once and
//   every tile re-reads A (dense, at most two m-blocks), A stays in L2 (bench/NOTES.md v0.15).
// - Epilogue (sm90/epilogue.cuh). stmatrix into a swizzled bf16 tile, then TMA stores when every
//   row of the tile inside the output map may be written, else a masked st.global copy.
// - fp8_no_promotion (test only): the wgmma accumulator is never drained; all K blocks accumulate
//   inside the tensor core, and the sum is scaled once, by the first K block's scales. That is the
//   exact result only when every K block has the same scales -- the promotion test uses such data,
//   so the only difference left is where the accumulation happens.
#pragma once

#include <jit/ptx/cp_async.cuh>
#include <jit/ptx/mbarrier.cuh>
#include <jit/ptx/sm90.cuh>
#include <jit/ptx/tma.cuh>
#include <jit/ptx/wgmma.cuh>
#include <jit/sm90/cluster_scheduler.cuh>
#include <jit/sm90/epilogue.cuh>
#include <jit/sm90/fp8_consume_overlapped.cuh>
#include <jit/sm90/fp8_promote.cuh>
#include <jit/sm90/params.cuh>
#include <jit/sm90/pipeline.cuh>
#include <jit/sm90/smem.cuh>
#include <jit/sm90/split_k.cuh>

namespace jit::sm90 {

// The producer thread: runs the scheduler, hands each step to the consumers, and loads its
// K blocks (A, its scales and B; under split-K this CTA's share) into the pipeline, each step from
// slot 0 (both consumer loops are unrolled over the slots).
template <Layout L, int BLOCK_M, int BLOCK_N, int STAGES, int CLUSTER, int SWIZZLE_N, int SPLIT, bool L2_HINTS,
          bool SHARE_B, class Storage>
__device__ __forceinline__ void fp8_produce(const Fp8GemmParams& p, Storage& ss,
                                            const Fp8Sync<BLOCK_M, BLOCK_N, STAGES, CLUSTER>& sync, u32 rank,
                                            SplitRange<SPLIT> kbs) {
  constexpr bool kMasked = L == Layout::masked;
  constexpr u32 kStageBytes = BLOCK_M * kBlockK + BLOCK_N * kBlockK + sfa_box_rows(L, BLOCK_M) * 4;
  ClusterScheduler<L, BLOCK_M, BLOCK_N, SWIZZLE_N, CLUSTER, SPLIT, SHARE_B> sched(p.m, p.n, p.num_groups, p.groups,
                                                                                 rank);
  const auto load = [&](const Step& s, int kb, u32 stage, u32 bar) {
    const Tile& t = s.tile;
    const int k0 = kb * kBlockK;
    load_stage_ab<BLOCK_M, BLOCK_N, CLUSTER, SHARE_B, kMasked, L2_HINTS>(
        &p.map_a, ptx::shared_addr(ss.a[stage]), &p.map_b, ptx::shared_addr(ss.b[stage]), bar, k0, s, rank);
    const u32 sfa_dst = ptx::shared_addr(ss.sfa[stage]);
    // The offsets layout starts tiles on any row: its box starts 16-byte aligned (smem.cuh).
    const int sfa_row = L == Layout::contiguous_offsets ? (t.row0 & ~3) : t.row0;
    if constexpr (kMasked) ptx::tma_load_3d(sfa_dst, &p.map_sfa, bar, sfa_row, kb, t.group);
    else ptx::tma_load_2d(sfa_dst, &p.map_sfa, bar, sfa_row, kb);
    // The K block's B scales (first and second scale block of the tile's columns), by cp.async:
    // 4-byte copies need no alignment, and their completion is the stage's second arrival.
    const BScaleBlocks<BLOCK_N> b(p, t.group, t.n_block * BLOCK_N);
    const u32 sfb_dst = ptx::shared_addr(ss.sfb[stage]);
    ptx::cp_async_4(sfb_dst, b.first + kb);
    ptx::cp_async_4(sfb_dst + 4, b.first + b.next + kb);
    ptx::cp_async_mbarrier_arrive_noinc(bar);
  };
  produce_steps<true>(sync, sched, kbs.begin, kbs.end, kStageBytes, load);
}

// A wave count known at compile time (fp8_consume's full tiles).
template <int N>
struct AllWaves {
  __device__ constexpr operator int() const { return N; }
};

// The consumer warpgroups: MMAs, promotion and the epilogue (or the split-K exchange) of every
// step the producer hands out, over K blocks [kbs.begin, kbs.end). Every step starts on slot 0
// (fp8_produce: produce_steps<true>), so the K loop is unrolled over the STAGES slots: their
// addresses are constants and one phase bit serves a whole round. (With the slot and phase carried
// from stage to stage, the bookkeeping cost ~40 instructions per warp and stage: bench/NOTES.md
// v0.18.)
template <Layout L, int BLOCK_M, int BLOCK_N, int STAGES, int CLUSTER, bool NO_PROMOTION, int SPLIT, class Storage,
          class Split>
__device__ __forceinline__ void fp8_consume(const Fp8GemmParams& p, Storage& ss,
                                            const Fp8Sync<BLOCK_M, BLOCK_N, STAGES, CLUSTER>& sync,
                                            SplitRange<SPLIT> kbs, Split& split) {
  constexpr int kMathThreads = fp8_math_threads(BLOCK_M);
  constexpr int kWarpgroups = kMathThreads / 128;
  constexpr int kWgRows = BLOCK_M / kWarpgroups;
  constexpr int kWaves = kWgRows / 64;
  constexpr int kAcc = BLOCK_N / 2;
  constexpr bool kStraddle = kBlockK % BLOCK_N != 0;  // a tile may span two B scale blocks
  using Mma = ptx::WgmmaE4M3<BLOCK_N>;

  const u32 tid = threadIdx.x, warp = (tid / 32) % 4, lane = tid % 32;
  const int wg_row0 = static_cast<int>(ptx::warp_uniform(tid / 128)) * kWgRows;
  const int frag_row = static_cast<int>(warp * 16 + lane / 4);  // and +8, within a 64-row wave
  const auto desc_a0 = ptx::DescSw128::at(ptx::shared_addr(ss.a[0]) + static_cast<u32>(wg_row0 * kBlockK));
  const auto desc_b0 = ptx::DescSw128::at(ptx::shared_addr(ss.b[0]));
  const int num_kb = kbs.end - kbs.begin, rounds = num_kb / STAGES, tail = num_kb % STAGES;
  u32 phase = 0;  // of every slot in the current round
  PipelineState<kTileRing> ring;
  using Ring = TileRing<kTileRing, kMathThreads / 32>;
  float acc[kAcc];
  float out[kWaves][kAcc];

  for (;;) {
    const u32 slot = sync.tiles.wait(ring);
    const int flags = Ring::field(slot, 4);
    if (flags & kTileDone) break;
    const bool valid = (flags & kTileValid) != 0;
    const int group = Ring::field(slot, 0), n0 = Ring::field(slot, 1) * BLOCK_N;
    const int row0 = Ring::field(slot, 2);
    // Waves with no row to compute skip their MMAs (padding, rows past the expert's end). The
    // active waves are a prefix: rows grow with the wave, and an m_indices tile has one wave.
    int waves = 0;
    {
      const int rows = Ring::field(slot, 3);
#pragma unroll
      for (int v = 0; v < kWaves; ++v) {
        const int row = wg_row0 + v * 64;
        waves += valid && row < rows && (L != Layout::contiguous_indices || p.groups[row0 + row] == group);
      }
    }
    const int sfa_shift = L == Layout::contiguous_offsets ? (row0 & 3) : 0;  // see the producer
    const u32 sfa_offset = static_cast<u32>(sfa_shift + wg_row0 + frag_row) * 4;

    // Where the tile's B scale blocks split its columns (the scales come with each stage).
    const BScaleBlocks<BLOCK_N> sfb(p, group, n0);
    float first_scales[kWaves][4];  // NO_PROMOTION: the scales of K block 0
#pragma unroll
    for (int v = 0; v < kWaves; ++v)
#pragma unroll
      for (int i = 0; i < kAcc; ++i) out[v][i] = 0.f;

    // K block kb from slot s (an unrolled constant) of the current round over n_waves active
    // waves: an int, or on the full-tile path a constant (AllWaves), which gets its own copy of
    // the loop.
    const auto stage = [&](const int s, const int kb, const auto n_waves) {
      const PipelineState<STAGES> st{static_cast<u32>(s), phase};
      if (n_waves == 0) {  // nothing to compute
        sync.pipe.consumer_skip(st, lane);
        return;
      }
      sync.pipe.consumer_wait(st);
      BScales sb;  // loaded once per stage, shuffled after the first wave's first wgmma
      sb.load(ptx::shared_addr(ss.sfb[s]), lane, sync.pipe.release_lane());
      // Slot s's descriptors: constant offsets from slot 0's (s is an unrolled constant).
      const auto desc_a = ptx::DescSw128{ptx::recompute_from(desc_a0.lo)}.plus(s * Storage::kABytes);
      const auto desc_b = ptx::DescSw128{ptx::recompute_from(desc_b0.lo)}.plus(s * Storage::kBBytes);
      const u32 sfa = ptx::shared_addr(ss.sfa[s]) + sfa_offset;
#pragma unroll
      for (int v = 0; v < kWaves; ++v) {
        if (v >= n_waves) break;
        // Read the A scales before the MMAs: once the slot is released, TMA may overwrite them.
        const float sa0 = ptx::ld_shared_f32(sfa + v * 64 * 4), sa1 = ptx::ld_shared_f32(sfa + (v * 64 + 8) * 4);
        float* d = NO_PROMOTION ? out[v] : acc;
#pragma unroll
        for (int i = 0; i < kAcc; ++i) ptx::fence_operand(d[i]);
        ptx::wgmma_fence();
#pragma unroll
        for (int k = 0; k < kBlockK / 32; ++k) {
          // +32 bytes along K inside the swizzle atom; +64 rows = +8 KB.
          const u64 da = desc_a.plus(v * 64 * kBlockK + k * 32).get();
          const u64 db = desc_b.plus(k * 32).get();
          Mma::mma(da, db, d, NO_PROMOTION ? static_cast<u32>(kb > 0 || k > 0) : static_cast<u32>(k > 0));
          if (v == 0 && k == 0) sb.broadcast(sync.pipe.release_lane());  // v, k: unrolled constants
        }
        ptx::wgmma_commit();
        ptx::wgmma_wait<0>();
#pragma unroll
        for (int i = 0; i < kAcc; ++i) ptx::fence_operand(d[i]);
        const float c[4] = {sa0 * sb.s0, sa0 * sb.s1, sa1 * sb.s0, sa1 * sb.s1};
        if (v == n_waves - 1) sync.pipe.consumer_release(st, lane);
        if constexpr (NO_PROMOTION) {
          if (kb == 0)
#pragma unroll
            for (int i = 0; i < 4; ++i) first_scales[v][i] = c[i];
        } else {
          promote<kAcc, kStraddle>(out[v], acc, c, sfb.first_blocks);
        }
      }
    };
    // The rounds of STAGES K blocks, then the last, partial one, whose slots past the tile's
    // end the producer completed empty.
    const auto k_loop = [&](const auto n_waves) {
      for (int r = 0; r < rounds; ++r) {
#pragma unroll
        for (int s = 0; s < STAGES; ++s) stage(s, kbs.begin + r * STAGES + s, n_waves);
        phase ^= 1;
      }
      if (tail > 0) {
#pragma unroll
        for (int s = 0; s < STAGES; ++s) {
          if (s < tail) stage(s, kbs.begin + rounds * STAGES + s, n_waves);
          else sync.pipe.consumer_skip(PipelineState<STAGES>{static_cast<u32>(s), phase}, lane);
        }
        phase ^= 1;
      }
    };
    if (waves == kWaves) k_loop(AllWaves<kWaves>{});  // the common case
    else k_loop(waves);

    if constexpr (NO_PROMOTION) {
#pragma unroll
      for (int v = 0; v < kWaves; ++v) {
        if (v >= waves) continue;
#pragma unroll
        for (int i = 0; i < kAcc; ++i) acc[i] = out[v][i];
#pragma unroll
        for (int i = 0; i < kAcc; ++i) out[v][i] = 0.f;
        promote<kAcc, kStraddle>(out[v], acc, first_scales[v], sfb.first_blocks);
      }
    }

    if (!valid) {  // uniform across the CTA: nothing to store
      sync.tiles.release(ring, lane);
      continue;
    }
    // The tile's coordinates again, from the slot (they were not worth registers in the loop).
    const Tile t{Ring::field(slot, 0), 0, Ring::field(slot, 1), Ring::field(slot, 2), Ring::field(slot, 3)};
    split.store(out, NoAddend{}, [&](const auto& add) {
      store_tile<L, BLOCK_M, BLOCK_N, kMathThreads, DType::bf16>(p, t, out, wg_row0, ptx::shared_addr(ss.d), add);
    });
    sync.tiles.release(ring, lane);
  }
  if (tid % 128 == 0) ptx::bulk_wait_group<0>();  // the smem tile must outlive each warpgroup's last stores
}

template <Layout L, int BLOCK_M, int BLOCK_N, int STAGES, int CLUSTER, int SWIZZLE_N, bool NO_PROMOTION, bool OVERLAP,
          int SPLIT, bool L2_HINTS, bool SHARE_B>
__global__ void __launch_bounds__(fp8_threads(BLOCK_M), 1) fp8_gemm_kernel(const __grid_constant__ Fp8GemmParams p) {
  using Storage = Fp8SharedStorage<BLOCK_M, BLOCK_N, STAGES, SPLIT>;
  constexpr int kMathThreads = fp8_math_threads(BLOCK_M);
  static_assert(BLOCK_M == 64 || BLOCK_M == 128 || BLOCK_M == 256, "BLOCK_M: 64, 128 or 256");
  static_assert(BLOCK_N % 16 == 0 && BLOCK_N >= 16 && BLOCK_N <= 256, "BLOCK_N: a multiple of 16 up to 256");
  static_assert(fp8_block_n_ok(BLOCK_N), "a tile must span at most two B scale blocks");
  static_assert(L != Layout::contiguous_indices || BLOCK_M <= kContiguousAlignment,
                "an m_indices tile must not span two experts");
  static_assert(sfa_box_rows(L, BLOCK_M) <= 256, "TMA boxes stop at 256 rows");
  static_assert(!OVERLAP || (BLOCK_M <= 128 && BLOCK_N <= 128 && !NO_PROMOTION),
                "OVERLAP: one 64-row wave per warpgroup, BLOCK_N <= 128, with promotion");
  static_assert(kFp8ProducerRegs * 128 + kFp8ConsumerRegs * kMathThreads <= 65536, "register file");
  static_assert(SPLIT == 1 || (CLUSTER == 1 && !NO_PROMOTION), "split-K: no multicast pairs, with promotion");
  static_assert(!SHARE_B || CLUSTER == 2, "B pairs: a 2-CTA cluster");

  extern __shared__ __align__(1024) unsigned char smem_raw[];
  Storage& ss = *reinterpret_cast<Storage*>(smem_raw);
  const Fp8Sync<BLOCK_M, BLOCK_N, STAGES, CLUSTER> sync(ss.sync);
  const u32 rank = CLUSTER * SPLIT > 1 ? ptx::cluster_ctarank() : 0;
  const SplitRange<SPLIT> kbs((p.k + kBlockK - 1) / kBlockK, SPLIT > 1 ? rank : 0);
  constexpr int kWaves = BLOCK_M / (kMathThreads / 128) / 64;  // 64-row waves per warpgroup
  SplitK<SPLIT, kMathThreads, kWaves, BLOCK_N / 2> split(ptx::shared_addr(ss.partials),
                                                         ptx::shared_addr(&ss.sync.split_full),
                                                         ptx::shared_addr(&ss.sync.split_empty), rank);

  run_warp_roles<kMathThreads, CLUSTER * SPLIT>(
      smem_raw,
      [&] {
        ptx::prefetch_tensormap(&p.map_a);
        ptx::prefetch_tensormap(&p.map_b);
        ptx::prefetch_tensormap(&p.map_sfa);
        ptx::prefetch_tensormap(&p.map_d);
        split.init();  // before sync.init(), whose fence publishes every barrier to the cluster
        sync.init();
      },
      [&] { fp8_produce<L, BLOCK_M, BLOCK_N, STAGES, CLUSTER, SWIZZLE_N, SPLIT, L2_HINTS, SHARE_B>(p, ss, sync, rank, kbs); },
      [&] {
        if constexpr (OVERLAP) fp8_consume_overlapped<L, BLOCK_M, BLOCK_N, STAGES, CLUSTER>(p, ss, sync, kbs, split);
        else fp8_consume<L, BLOCK_M, BLOCK_N, STAGES, CLUSTER, NO_PROMOTION>(p, ss, sync, kbs, split);
      });
}

}  // namespace jit::sm90
