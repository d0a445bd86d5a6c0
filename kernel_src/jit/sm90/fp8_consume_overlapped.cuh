// The consumer warpgroups of the SM90 FP8 GEMM in its overlapped form (OVERLAP: one 64-row wave
// per warpgroup, BLOCK_N <= 128), for sm90/fp8_gemm.cuh.
//
// The plain loop (fp8_consume) drains every stage's wgmma before promoting it, so the tensor cores
// idle for the wait, the promotion and the next stage's barrier: ~400 cycles a stage for 64 of MMA
// on a 64x32 tile. Here the warpgroup keeps one stage's wgmma in flight while it promotes the
// previous one: two wgmma accumulators (x, y) take turns, the promoted accumulator is the third
// (3 x BLOCK_N / 2 registers, hence BLOCK_N <= 128).
//
// Per tile: the first stage is issued, then each step issues the next stage into the free
// accumulator, waits for the older one, releases its slot and promotes it; the epilogue runs once
// nothing is in flight. (Overlapping it with the next tile's first stages was tried: every
// branch of the epilogue -- thread 0's TMA store, the masked copy, the tile's validity -- is a
// divergent path to ptxas, which then serializes all wgmma, C7518/C7514.) A tile with no rows for
// this warpgroup (padding, an expert's end) only hands its stages back, and its epilogue stores
// nothing (each warpgroup stores its own rows, sm90/epilogue.cuh).
#pragma once

#include <jit/ptx/sm90.cuh>
#include <jit/ptx/wgmma.cuh>
#include <jit/sm90/epilogue.cuh>
#include <jit/sm90/fp8_promote.cuh>
#include <jit/sm90/pipeline.cuh>
#include <jit/sm90/smem.cuh>
#include <jit/sm90/split_k.cuh>

namespace jit::sm90 {

template <Layout L, int BLOCK_M, int BLOCK_N, int STAGES, int CLUSTER, int SPLIT, class Storage, class Split>
__device__ __forceinline__ void fp8_consume_overlapped(const Fp8GemmParams& p, Storage& ss,
                                                       const Fp8Sync<BLOCK_M, BLOCK_N, STAGES, CLUSTER>& sync,
                                                       SplitRange<SPLIT> kbs, Split& split) {
  constexpr int kMathThreads = fp8_math_threads(BLOCK_M);
  static_assert(BLOCK_M / (kMathThreads / 128) == 64, "one 64-row wave per warpgroup");
  constexpr int kAcc = BLOCK_N / 2;
  static_assert(kAcc * 3 <= 192, "three accumulators must fit the consumers' registers");
  constexpr bool kStraddle = kBlockK % BLOCK_N != 0;
  using Mma = ptx::WgmmaE4M3<BLOCK_N>;
  using Ring = TileRing<kTileRing, kMathThreads / 32>;

  const u32 tid = threadIdx.x, warp = (tid / 32) % 4, lane = tid % 32;
  const int wg_row0 = static_cast<int>(ptx::warp_uniform(tid / 128)) * 64;
  const u32 a_offset = static_cast<u32>(wg_row0 * kBlockK);
  const int frag_row = wg_row0 + static_cast<int>(warp * 16 + lane / 4);  // and +8

  // A stage in flight: its accumulator and the scales its promotion needs (read from the slot
  // before it is released).
  struct InFlight {
    float acc[kAcc];
    float sa0, sa1;
    BScales sb;
  };
  // The tile being computed, and its next K block to issue.
  struct Cursor {
    bool done, valid, active;
    int kb;
    int first_blocks;
    u32 sfa_offset;
  };

  PipelineState<STAGES> ist, rst;  // the next stage to issue, the oldest one in flight
  PipelineState<kTileRing> ring;
  Cursor c;
  const auto open = [&] {  // the tile at ring
    const u32 slot = sync.tiles.wait(ring);
    const int flags = Ring::field(slot, 4);
    c.done = (flags & kTileDone) != 0;
    c.valid = (flags & kTileValid) != 0;
    c.kb = kbs.begin;
    if (c.done) return;
    const int group = Ring::field(slot, 0), n0 = Ring::field(slot, 1) * BLOCK_N;
    const int row0 = Ring::field(slot, 2), rows = Ring::field(slot, 3);
    c.active = c.valid && wg_row0 < rows &&
               (L != Layout::contiguous_indices || p.groups[row0 + wg_row0] == group);
    c.first_blocks = BScaleBlocks<BLOCK_N>(p, group, n0).first_blocks;
    // The offsets layout's A-scale box starts at row0 rounded down to 4 (the producer's load).
    c.sfa_offset = static_cast<u32>((L == Layout::contiguous_offsets ? (row0 & 3) : 0) + frag_row) * 4;
  };

  float out[1][kAcc];
#pragma unroll
  for (int i = 0; i < kAcc; ++i) out[0][i] = 0.f;
  // The epilogue of the tile at ring (every consumer thread); out is zeroed for the next one.
  const auto store = [&] {
    if (c.valid) {  // uniform across the CTA
      const u32 slot = sync.tiles.wait(ring);  // complete: a re-read of the fields
      const Tile t{Ring::field(slot, 0), 0, Ring::field(slot, 1), Ring::field(slot, 2), Ring::field(slot, 3)};
      split.store(out, NoAddend{}, [&](const auto& add) {
        store_tile<L, BLOCK_M, BLOCK_N, kMathThreads, DType::bf16>(p, t, out, wg_row0, ptx::shared_addr(ss.d), add);
      });
    }
    sync.tiles.release(ring, lane);
#pragma unroll
    for (int i = 0; i < kAcc; ++i) out[0][i] = 0.f;
  };

  const auto issue = [&](InFlight& f) {  // the tile's next stage into f
    sync.pipe.consumer_wait(ist);
    const u32 sfa = ptx::shared_addr(ss.sfa[ist.stage]) + c.sfa_offset;
    const u32 sfb = ptx::shared_addr(ss.sfb[ist.stage]);
    f.sa0 = ptx::ld_shared_f32(sfa);
    f.sa1 = ptx::ld_shared_f32(sfa + 8 * 4);
    f.sb.load(sfb, lane, sync.pipe.release_lane());
    const auto desc_a = ptx::DescSw128::at(ptx::shared_addr(ss.a[ist.stage]) + a_offset);
    const auto desc_b = ptx::DescSw128::at(ptx::shared_addr(ss.b[ist.stage]));
#pragma unroll
    for (int i = 0; i < kAcc; ++i) ptx::fence_operand(f.acc[i]);
    ptx::wgmma_fence();
#pragma unroll
    for (int k = 0; k < kBlockK / 32; ++k) {  // +32 bytes along K
      Mma::mma(desc_a.plus(k * 32).get(), desc_b.plus(k * 32).get(), f.acc, static_cast<u32>(k > 0));
      if (k == 0) f.sb.broadcast(sync.pipe.release_lane());  // k: an unrolled constant
    }
    ptx::wgmma_commit();
#pragma unroll
    for (int i = 0; i < kAcc; ++i) ptx::fence_operand(f.acc[i]);
    ist.advance();
    ++c.kb;
  };

  // After the wait_group that retires f's MMAs (and their reads of the slot).
  const auto retire = [&](InFlight& f) {
#pragma unroll
    for (int i = 0; i < kAcc; ++i) ptx::fence_operand(f.acc[i]);
    sync.pipe.consumer_release(rst, lane);
    rst.advance();
    const float s[4] = {f.sa0 * f.sb.s0, f.sa0 * f.sb.s1, f.sa1 * f.sb.s0, f.sa1 * f.sb.s1};
    promote<kAcc, kStraddle>(out[0], f.acc, s, c.first_blocks);
  };
  InFlight x, y;
  const int num_kb = kbs.end - kbs.begin;  // this CTA's K blocks, at least 1
  open();
  while (!c.done) {
    if (c.active) {
      // x holds stage kb in flight. Each path is straight-line from an issue to the wait and the
      // accumulator reads, on conditions ptxas sees uniform (K blocks against num_kb).
      issue(x);
      int kb = 0;
      for (; kb + 2 < num_kb; kb += 2) {
        issue(y);
        ptx::wgmma_wait<1>();
        retire(x);
        issue(x);
        ptx::wgmma_wait<1>();
        retire(y);
      }
      if (kb + 1 < num_kb) {
        issue(y);
        ptx::wgmma_wait<1>();
        retire(x);
        ptx::wgmma_wait<0>();
        retire(y);
      } else {
        ptx::wgmma_wait<0>();
        retire(x);
      }
    } else {
      for (int kb = 0; kb < num_kb; ++kb) {  // no rows here: hand the stages back unused
        sync.pipe.consumer_wait(ist);
        sync.pipe.consumer_release(ist, lane);
        ist.advance();
      }
      rst = ist;
    }
    store();  // releases the slot: ring moves on
    open();
  }
  if (tid % 128 == 0) ptx::bulk_wait_group<0>();  // the smem tile must outlive each warpgroup's last stores
}

}  // namespace jit::sm90
