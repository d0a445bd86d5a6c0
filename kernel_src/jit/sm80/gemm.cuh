// The sm80 GEMM: cp.async multistage pipeline -> swizzled shared memory -> ldmatrix -> mma.sync
// m16n8k16 (bf16/fp16, fp32 accumulation) -> vectorised epilogue, on a persistent grid that walks
// the tiles of every layout through the shared TileScheduler. Runs on sm_80 and every later arch
// (only sm_80 instructions), which is how Hopper tests it.
//
// NOTES:
// - CTA tile BLOCK_M x BLOCK_N, split over WARPS_M x WARPS_N warps of (BLOCK_M/WARPS_M) x
//   (BLOCK_N/WARPS_N); each warp owns MT x NT m16n8 accumulators.
// - Pipeline: STAGES-1 K blocks are in flight while one is consumed; a stage is refilled right
//   after the barrier that retires it. Fragments are double-buffered in registers: the ldmatrix of
//   K step s+1 is issued before (A) or among (B) the MMAs of step s, so shared-memory latency
//   hides behind them.
// - Tails: K chunks past K are zero-filled by cp.async; rows past the tile's valid rows (next
//   expert, padding, end of A/B) are not copied, and what the stage held there reaches only output
//   rows and columns that the epilogue never writes (it writes only valid rows and columns).
// - Persistent: each CTA walks its tiles; with OVERLAP the next tile's prologue copies are issued
//   before this tile's epilogue (which then has its own smem), hiding the pipeline fill.
// - SPLIT_K > 1 (dense only): the tiles of the last, partial wave are split over up to SPLIT_K CTAs
//   each (split_plan_for in params.cuh), the splits of a tile adjacent in the walk so they run at the
//   same time; split_k.cuh sums them through the workspace. With fewer tiles than CTA slots every
//   tile is split.
#pragma once

#include <jit/common/scheduler.cuh>
#include <jit/ptx/cp_async.cuh>
#include <jit/ptx/ldmatrix.cuh>
#include <jit/ptx/mma_sm80.cuh>
#include <jit/sm80/epilogue.cuh>
#include <jit/sm80/params.cuh>
#include <jit/sm80/smem_layout.cuh>
#include <jit/sm80/split_k.cuh>

namespace jit::sm80 {

template <int BLOCK_M, int BLOCK_N, int BLOCK_K>
struct StageStorage {
  u16 a[BLOCK_M * BLOCK_K];  // swizzled, see smem_layout.cuh
  u16 b[BLOCK_N * BLOCK_K];
};

template <int BLOCK_M, int BLOCK_N, int BLOCK_K, int WARPS_M, int STAGES, bool OVERLAP>
struct SharedStorage;

// The epilogue stages its slices in the pipeline's space (drained by then).
template <int BLOCK_M, int BLOCK_N, int BLOCK_K, int WARPS_M, int STAGES>
struct alignas(kSmemAlign) SharedStorage<BLOCK_M, BLOCK_N, BLOCK_K, WARPS_M, STAGES, false> {
  using Stage = StageStorage<BLOCK_M, BLOCK_N, BLOCK_K>;
  union {
    Stage stages[STAGES];
    float epilogue[WARPS_M * 16][epilogue_row_floats(BLOCK_N)];
  };
};

// The epilogue has its own space: the next tile's prologue copies land while this tile is stored.
template <int BLOCK_M, int BLOCK_N, int BLOCK_K, int WARPS_M, int STAGES>
struct alignas(kSmemAlign) SharedStorage<BLOCK_M, BLOCK_N, BLOCK_K, WARPS_M, STAGES, true> {
  using Stage = StageStorage<BLOCK_M, BLOCK_N, BLOCK_K>;
  Stage stages[STAGES];
  float epilogue[WARPS_M * 16][epilogue_row_floats(BLOCK_N)];
};

template <DType AB, DType D, Layout L, bool HAS_C, DType C, int BLOCK_M, int BLOCK_N, int BLOCK_K,
          int WARPS_M, int WARPS_N, int STAGES, int CTAS_PER_SM, int SWIZZLE_N, bool OVERLAP, int SPLIT_K>
__global__ void __launch_bounds__(WARPS_M * WARPS_N * 32, CTAS_PER_SM) gemm_kernel(const Params p) {
  constexpr int kThreads = WARPS_M * WARPS_N * 32;
  constexpr int WM = BLOCK_M / WARPS_M, WN = BLOCK_N / WARPS_N;
  constexpr int MT = WM / 16, NT = WN / 8, KSTEPS = BLOCK_K / 16;
  static_assert(AB == DType::bf16 || AB == DType::fp16, "mma.sync m16n8k16 takes bf16 or fp16");
  static_assert(WM % 16 == 0 && WN % 16 == 0, "a warp tile is a multiple of 16 x 16");
  static_assert(BLOCK_M % WARPS_M == 0 && BLOCK_N % WARPS_N == 0, "warps must tile the CTA tile");
  static_assert(STAGES >= 2, "a pipeline needs two stages");
  static_assert(KSTEPS % 2 == 0, "register double-buffering alternates per K step");
  static_assert(SPLIT_K == 1 || L == Layout::dense, "split-K is for the dense layout");
  using Smem = SharedStorage<BLOCK_M, BLOCK_N, BLOCK_K, WARPS_M, STAGES, OVERLAP>;
  static_assert(sizeof(Smem) == smem_bytes(BLOCK_M, BLOCK_N, BLOCK_K, WARPS_M, STAGES, OVERLAP),
                "the host's smem_bytes must match the layout");
  constexpr u32 kStageBytes = sizeof(typename Smem::Stage);
  constexpr u32 kBOffset = BLOCK_M * BLOCK_K * 2;  // B part within a stage
  constexpr int kRow16 = 16 * BLOCK_K * 2;          // bytes of 16 operand rows

  extern __shared__ __align__(kSmemAlign) unsigned char smem_raw[];
  Smem& smem = *reinterpret_cast<Smem*>(smem_raw);
  const u32 smem_base = ptx::smem_address(smem_raw);

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int warp_m = warp / WARPS_N, warp_n = warp % WARPS_N;
  const FragmentOffsets<BLOCK_K> frag(warp_m * WM, warp_n * WN, lane);
  const int num_k_blocks = (p.k + BLOCK_K - 1) / BLOCK_K;

  TileScheduler<L, BLOCK_M, BLOCK_N, SWIZZLE_N> sched(p.m, p.n, p.num_groups, p.groups);
  // A unit of work: a tile, or under SPLIT_K > 1 one K share of a tile (split_plan_for: only the
  // tiles of the last, partial wave are split, by the CTAs that would otherwise idle). Units are
  // numbered; what a number means is derived when needed, from the plan in shared memory, so that
  // none of it holds a register across the main loop (the 255-register tiles spill otherwise).
  // Without a split the unit is the tile and all of K, and the kernel carries no extra state.
  struct Unit {
    int id = 0;
  };
  __shared__ SplitPlan split_plan;
  if constexpr (SPLIT_K > 1) {
    if (tid == 0)
      split_plan = split_plan_for(SPLIT_K, ((p.m + BLOCK_M - 1) / BLOCK_M) * ((p.n + BLOCK_N - 1) / BLOCK_N),
                                  gridDim.x, num_k_blocks);
    __syncthreads();
  }
  // A unit's tile and share: split tiles take `parts` consecutive units each (parts 1: whole).
  struct Share {
    int tile, split, parts;
  };
  const auto share_of = [&](const Unit& u) {
    const int whole = split_plan.whole, parts = split_plan.parts;
    return u.id < whole ? Share{u.id, 0, 1} : Share{whole + (u.id - whole) / parts, (u.id - whole) % parts, parts};
  };
  auto k_range = [&](const Unit& u) {
    if constexpr (SPLIT_K == 1) {
      return KRange{0, num_k_blocks};
    } else {
      const Share s = share_of(u);
      return split_range(num_k_blocks, s.split, s.parts);
    }
  };
  // Under a split, only the unit that completes the tile stores it (with the sum of all splits).
  auto completes_tile = [&](const Unit& u, auto& acc) {
    if constexpr (SPLIT_K == 1) {
      return true;
    } else {
      const Share s = share_of(u);
      return s.parts == 1 || split_k_reduce<kThreads>(p, s.tile - split_plan.whole, s.split, s.parts, acc);
    }
  };
  int next_unit = blockIdx.x;
  auto next_work = [&](Tile& t, Unit& u) -> bool {
    if constexpr (SPLIT_K == 1) {
      return sched.next(t);
    } else {
      if (next_unit >= split_plan.units) return false;
      u.id = next_unit;
      next_unit += gridDim.x;
      return sched.at(share_of(u).tile, t);
    }
  };
  // The tile's operand loaders: A rows past the tile's rows and B rows past N are not copied.
  auto loader_a = [&](const Tile& t) {
    const i64 batch = L == Layout::masked ? t.group * p.batch_a : 0;
    return TileLoader<BLOCK_M, BLOCK_K, kThreads>(
        static_cast<const u16*>(p.a) + batch + t.row0 * p.lda, p.lda, t.rows, tid);
  };
  auto loader_b = [&](const Tile& t) {
    const int col0 = t.n_block * BLOCK_N;
    return TileLoader<BLOCK_N, BLOCK_K, kThreads>(
        static_cast<const u16*>(p.b) + t.group * p.batch_b + col0 * p.ldb, p.ldb, p.n - col0, tid);
  };
  // Prologue: the unit's first STAGES-1 K blocks in flight (one commit group each, empty past them).
  auto issue_prologue = [&](const Tile& t, const Unit& u) {
    const auto la = loader_a(t);
    const auto lb = loader_b(t);
    const KRange r = k_range(u);
    const int first = r.begin, count = r.count;
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
      if (s < count) {
        la.load(smem_base + s * kStageBytes, (first + s) * BLOCK_K, p.k, p.lda);
        lb.load(smem_base + s * kStageBytes + kBOffset, (first + s) * BLOCK_K, p.k, p.ldb);
      }
      ptx::cp_async_commit();
    }
  };

  Tile tile;
  Unit unit;
  bool have = next_work(tile, unit);
  if (OVERLAP && have) issue_prologue(tile, unit);
  while (have) {
    const auto load_a = loader_a(tile);
    const auto load_b = loader_b(tile);
    const KRange kr = k_range(unit);
    const int kb0 = kr.begin, kbs = kr.count;
    if (!OVERLAP) issue_prologue(tile, unit);
    ptx::cp_async_wait<STAGES - 2>();
    __syncthreads();

    float acc[MT][NT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[mt][nt][j] = 0.f;

    // A fragments are double-buffered; B fragments are refilled pair by pair as soon as the MMAs
    // of the current K step are done with them (N-outer order), which saves NT*2 registers.
    u32 fa[2][MT][4], fb[NT][2];
    auto load_a_fragments = [&](int buf, u32 stage, int ks) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) ptx::ldmatrix_x4(fa[buf][mt], stage + frag.a(ks) + mt * kRow16);
    };
    auto load_b_pair = [&](int np, u32 stage, int ks) {
      u32 r[4];
      ptx::ldmatrix_x4(r, stage + kBOffset + frag.b(ks) + np * kRow16);
      fb[2 * np][0] = r[0], fb[2 * np][1] = r[1];
      fb[2 * np + 1][0] = r[2], fb[2 * np + 1][1] = r[3];
    };

    int read_stage = 0, write_stage = STAGES - 1;
    u32 read_addr = smem_base;
    load_a_fragments(0, read_addr, 0);
#pragma unroll
    for (int np = 0; np < NT / 2; ++np) load_b_pair(np, read_addr, 0);
    for (int kb = 0; kb < kbs; ++kb) {
#pragma unroll
      for (int ks = 0; ks < KSTEPS; ++ks) {
        if (ks == KSTEPS - 1) {
          // Next K block: wait for its copies, and the barrier also retires the stage that was
          // read last iteration, which the refill below (next ks == 0) overwrites.
          ptx::cp_async_wait<STAGES - 2>();
          __syncthreads();
          read_stage = read_stage + 1 == STAGES ? 0 : read_stage + 1;
          read_addr = smem_base + read_stage * kStageBytes;
        }
        // (After the last K step this prefetches from a stale stage: unused, and cheaper in
        // registers than a guard.)
        const int next_ks = (ks + 1) % KSTEPS;
        load_a_fragments((ks + 1) % 2, read_addr, next_ks);
        if (ks == 0) {
          const int kb_load = kb + STAGES - 1;
          const u32 w = smem_base + write_stage * kStageBytes;
          load_a.load(w, (kb0 + kb_load) * BLOCK_K, p.k, p.lda, kb_load < kbs);
          load_b.load(w + kBOffset, (kb0 + kb_load) * BLOCK_K, p.k, p.ldb, kb_load < kbs);
          ptx::cp_async_commit();
          write_stage = write_stage + 1 == STAGES ? 0 : write_stage + 1;
        }
#pragma unroll
        for (int np = 0; np < NT / 2; ++np) {
          // Serpentine over M so consecutive MMAs share an operand register.
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            const int n0 = 2 * np + (mt % 2), n1 = 2 * np + 1 - (mt % 2);
            ptx::mma_m16n8k16_f32<AB>(acc[mt][n0], fa[ks % 2][mt], fb[n0]);
            ptx::mma_m16n8k16_f32<AB>(acc[mt][n1], fa[ks % 2][mt], fb[n1]);
          }
          load_b_pair(np, read_addr, next_ks);
        }
      }
    }

    // With OVERLAP the next tile's prologue refills the stages (once every warp is past its last,
    // stale, fragment prefetch) and lands while this tile is stored.
    if constexpr (OVERLAP) {
      Tile next;
      Unit next_u;
      have = next_work(next, next_u);
      __syncthreads();
      if (have) issue_prologue(next, next_u);
      if (completes_tile(unit, acc))
        store_tile<D, L, HAS_C, C, BLOCK_M, BLOCK_N, WARPS_M, WARPS_N>(p, sched, tile, acc, &smem.epilogue[0][0]);
      tile = next, unit = next_u;
    } else {
      ptx::cp_async_wait<0>();  // only empty groups are left
      __syncthreads();          // the staging overlays the stages
      if (completes_tile(unit, acc))
        store_tile<D, L, HAS_C, C, BLOCK_M, BLOCK_N, WARPS_M, WARPS_N>(p, sched, tile, acc, &smem.epilogue[0][0]);
      have = next_work(tile, unit);
    }
  }
}

}  // namespace jit::sm80
