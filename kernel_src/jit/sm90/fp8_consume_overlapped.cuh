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
// nothing (each warpgroup stores its own rows, sm90/epilogue.cuh). Tiles start on slot 0, and the
// loop is unrolled over a period of slots and accumulators, so both are constants (v0.19).
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
  // K blocks per unrolled period: slot (j % STAGES) and accumulator (j % 2) of K block j are
  // constants inside it.
  constexpr int kPeriod = STAGES % 2 == 0 ? STAGES : 2 * STAGES;
  using Mma = ptx::WgmmaE4M3<BLOCK_N>;
  using Ring = TileRing<kTileRing, kMathThreads / 32>;

  const u32 tid = threadIdx.x, warp = (tid / 32) % 4, lane = tid % 32;
  const int wg_row0 = static_cast<int>(ptx::warp_uniform(tid / 128)) * 64;
  const int frag_row = wg_row0 + static_cast<int>(warp * 16 + lane / 4);  // and +8
  const auto desc_a0 = ptx::DescSw128::at(ptx::shared_addr(ss.a[0]) + static_cast<u32>(wg_row0 * kBlockK));
  const auto desc_b0 = ptx::DescSw128::at(ptx::shared_addr(ss.b[0]));
  const int num_kb = kbs.end - kbs.begin;  // this CTA's K blocks, at least 1
  const int last_slot = (num_kb - 1) % STAGES;  // of a tile's last K block

  // A stage in flight: its accumulator and the scales its promotion needs (read from the slot
  // before it is released).
  struct InFlight {
    float acc[kAcc];
    float sa0, sa1;
    BScales sb;
  };
  // The tile being computed.
  struct Cursor {
    bool done, valid, active;
    int first_blocks;
    u32 sfa_offset;
  };

  u32 phase = 0;  // of the round a tile starts in (slot 0)
  PipelineState<kTileRing> ring;
  Cursor c;
  const auto open = [&] {  // the tile at ring
    const u32 slot = sync.tiles.wait(ring);
    const int flags = Ring::field(slot, 4);
    c.done = (flags & kTileDone) != 0;
    c.valid = (flags & kTileValid) != 0;
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

  // The K block in slot s (an unrolled constant) of the round of parity ph, into f.
  // Slot s's addresses and descriptors: constant offsets from bases recomputed at each use (s is
  // an unrolled constant; kept in registers, every slot's would cost a few).
  const u32 smem = ptx::shared_addr(&ss);
  const auto slot_addr = [&](const void* p) {
    return ptx::recompute_from(smem) + static_cast<u32>(static_cast<const unsigned char*>(p) -
                                                        reinterpret_cast<const unsigned char*>(&ss));
  };
  const auto issue = [&](InFlight& f, const int s, const u32 ph) {
    sync.pipe.recomputed().consumer_wait(PipelineState<STAGES>{static_cast<u32>(s), ph});
    const u32 sfa = slot_addr(ss.sfa[s]) + c.sfa_offset;
    f.sa0 = ptx::ld_shared_f32(sfa);
    f.sa1 = ptx::ld_shared_f32(sfa + 8 * 4);
    f.sb.load(slot_addr(ss.sfb[s]), lane, sync.pipe.release_lane());
    const auto desc_a = ptx::DescSw128{ptx::recompute_from(desc_a0.lo)}.plus(s * Storage::kABytes);
    const auto desc_b = ptx::DescSw128{ptx::recompute_from(desc_b0.lo)}.plus(s * Storage::kBBytes);
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
  };

  // After the wait_group that retires f's MMAs (and their reads of slot s).
  const auto retire = [&](InFlight& f, const int s) {
#pragma unroll
    for (int i = 0; i < kAcc; ++i) ptx::fence_operand(f.acc[i]);
    sync.pipe.recomputed().consumer_release(PipelineState<STAGES>{static_cast<u32>(s), 0}, lane);
    const float sc[4] = {f.sa0 * f.sb.s0, f.sa0 * f.sb.s1, f.sa1 * f.sb.s0, f.sa1 * f.sb.s1};
    promote<kAcc, kStraddle>(out[0], f.acc, sc, c.first_blocks);
  };
  InFlight x, y;  // the accumulators of the even and the odd K blocks
  open();
  while (!c.done) {
    u32 ph = phase;  // the round of the next K block to issue
    if (c.active) {
      // K block j + 1 is issued before K block j is drained. Full periods while K block j + kPeriod
      // exists, then the last 1 to kPeriod K blocks; every path is straight-line from an issue to
      // the wait and the accumulator reads, on conditions ptxas sees uniform (against num_kb).
      issue(x, 0, ph);
      // Step u of a period: K block j + u (in f, slot u % STAGES) is drained after K block
      // j + u + 1 is issued into g.
      const auto step = [&](InFlight& f, InFlight& g, const int u) {
        if ((u + 1) % STAGES == 0) ph ^= 1;
        issue(g, (u + 1) % STAGES, ph);
        ptx::wgmma_wait<1>();
        retire(f, u % STAGES);
      };
      // The tile's last K block (in f, slot u % STAGES): drained with nothing left in flight.
      const auto drain = [&](InFlight& f, const int u) {
        ptx::wgmma_wait<0>();
        retire(f, u % STAGES);
      };
      int j = 0;
      for (; j + kPeriod < num_kb; j += kPeriod) {
#pragma unroll
        for (int u = 0; u < kPeriod; u += 2) {
          step(x, y, u);
          step(y, x, u + 1);
        }
      }
      // The last period. Each branch leaves for its own successor (the next step, or out), so
      // the compiler cannot merge a path with a K block in flight into one without: ptxas would
      // then serialize every wgmma (C7514).
#pragma unroll
      for (int u = 0; u < kPeriod; u += 2) {
        if (j + u + 1 < num_kb) {
          step(x, y, u);
        } else {
          drain(x, u);
          break;
        }
        if (u + 2 < kPeriod && j + u + 2 < num_kb) {
          step(y, x, u + 1);
        } else {
          drain(y, u + 1);
          break;
        }
      }
    } else {
      // No rows here: hand the tile's stages back unused.
      for (int j = 0; j < num_kb; ++j) {
        const u32 s = static_cast<u32>(j % STAGES);
        sync.pipe.consumer_skip(PipelineState<STAGES>{s, ph}, lane);
        if (s == STAGES - 1) ph ^= 1;
      }
      if (last_slot == STAGES - 1) ph ^= 1;  // back to the last K block's round
    }
    // The slots after the last K block in its round were completed empty by the producer.
    // (Handed back here for both paths: a loop over every slot of the rounds on the path without
    // rows cost 64x112 S9, at 255 registers, 8-32 bytes of spills.)
    for (u32 s = static_cast<u32>(last_slot) + 1; s < STAGES; ++s)
      sync.pipe.consumer_skip(PipelineState<STAGES>{s, ph}, lane);
    phase = ph ^ 1;
    store();  // releases the slot: ring moves on
    open();
  }
  if (tid % 128 == 0) ptx::bulk_wait_group<0>();  // the smem tile must outlive each warpgroup's last stores
}

}  // namespace jit::sm90
