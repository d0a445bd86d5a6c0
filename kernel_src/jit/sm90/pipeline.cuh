// The TMA -> WGMMA pipeline of the SM90 kernels: STAGES shared-memory slots, each guarded by a
// "full" barrier (the producer's arrive + expect_tx, completed by the TMA bytes) and an "empty"
// barrier (one arrival per consumer warp, from every CTA of the cluster that reads the slot's
// multicast data). Producer and consumers walk the same (stage, phase) sequence. Also what every
// SM90 GEMM kernel is built around: the TileInfo ring, the producer's walk and the warp roles.
#pragma once

#include <jit/ptx/mbarrier.cuh>
#include <jit/ptx/sm90.cuh>
#include <jit/ptx/tma.cuh>
#include <jit/sm90/cluster_scheduler.cuh>
#include <jit/sm90/smem.cuh>

namespace jit::sm90 {

// Where the walk is: slot `stage`, and the parity of the phase that slot is in.
template <int STAGES>
struct PipelineState {
  u32 stage = 0, phase = 0;
  __device__ __forceinline__ void advance() {
    if (++stage == STAGES) {
      stage = 0;
      phase ^= 1;
    }
  }
};

// `full` and `empty` are the shared addresses of two arrays of STAGES mbarriers (8 bytes each).
// PRODUCER_ARRIVALS: arrivals the producer makes on a full barrier per stage -- its
// arrive.expect_tx, plus (FP8) the one its cp.async of the stage's B scales triggers.
template <int STAGES, int CLUSTER, int CONSUMER_WARPS, int PRODUCER_ARRIVALS = 1>
struct Pipeline {
  u32 full, empty;

  __device__ __forceinline__ u32 full_bar(u32 s) const { return full + 8 * s; }
  // The same barriers, their addresses recomputed where used (ptx::recompute_from): a K loop
  // unrolled over the slots would otherwise keep every slot's two addresses in registers.
  __device__ __forceinline__ Pipeline recomputed() const { return {ptx::recompute_from(full), ptx::recompute_from(empty)}; }
  __device__ __forceinline__ u32 empty_bar(u32 s) const { return empty + 8 * s; }

  // One thread, before anyone uses the barriers; visible to the cluster after the following
  // cluster (or CTA) barrier. A slot is free again once every consumer warp of every CTA that
  // reads it has arrived; its producer announces the bytes with one arrive.expect_tx.
  __device__ __forceinline__ void init() const {
    for (u32 s = 0; s < STAGES; ++s) {
      ptx::mbarrier_init(full_bar(s), PRODUCER_ARRIVALS);
      ptx::mbarrier_init(empty_bar(s), CONSUMER_WARPS * CLUSTER);
    }
    ptx::fence_mbarrier_init();
  }

  // Producer: wait until slot st.stage was released by its previous readers. On a fresh barrier
  // the "previous phase" (parity 1) counts as complete, so the first pass does not wait.
  __device__ __forceinline__ void producer_acquire(const PipelineState<STAGES>& st) const {
    if constexpr (CLUSTER > 1) ptx::mbarrier_wait_cluster(empty_bar(st.stage), st.phase ^ 1);
    else ptx::mbarrier_wait(empty_bar(st.stage), st.phase ^ 1);
  }

  // Producer: the slot's TMA loads will bring `bytes` (this CTA's share of the arrivals is this
  // one arrive; multicast halves issued by the peer count towards the same bytes).
  __device__ __forceinline__ void producer_expect(const PipelineState<STAGES>& st, u32 bytes) const {
    ptx::mbarrier_arrive_expect_tx(full_bar(st.stage), bytes);
  }

  // Producer, for a null step: completes the slot's phase with nothing in it.
  __device__ __forceinline__ void producer_skip(const PipelineState<STAGES>& st) const {
#pragma unroll
    for (int i = 0; i < PRODUCER_ARRIVALS; ++i) ptx::mbarrier_arrive(full_bar(st.stage));
  }

  // Consumer: wait for the slot's data.
  __device__ __forceinline__ void consumer_wait(const PipelineState<STAGES>& st) const {
    ptx::mbarrier_wait(full_bar(st.stage), st.phase);
  }

  // Consumer, for a slot it does not read (a slot completed empty, or a tile with no rows for this
  // warpgroup): waits for its phase and hands it back.
  __device__ __forceinline__ void consumer_skip(const PipelineState<STAGES>& st, u32 lane) const {
    consumer_wait(st);
    consumer_release(st, lane);
  }

  // Consumer: the lane of each warp whose arrival (consumer_release) frees a slot for this CTA's
  // producer. What the consumers read of a slot with ld.shared (not through wgmma) that the
  // producer writes with a thread's instruction (the FP8 B scales' cp.async) is read by that lane
  // only and shuffled to the others: its own reads are ordered before its arrival. The other
  // lanes' reads would be ordered only through a warp barrier before the arrival, an order
  // compute-sanitizer's racecheck does not follow: it reported every refill of such a slot
  // (bench/NOTES.md v0.12).
  __device__ __forceinline__ static u32 release_lane() { return CLUSTER > 1 ? ptx::cluster_ctarank() : 0; }

  // Consumer, once per warp (whole warp converged, after its last read of the slot -- for wgmma
  // after the wait_group that retires the reads): releases the slot to the producer of every CTA
  // of the cluster, since either may multicast into it next.
  __device__ __forceinline__ void consumer_release(const PipelineState<STAGES>& st, u32 lane) const {
    if constexpr (CLUSTER > 1) {
      if (lane < CLUSTER) ptx::mbarrier_arrive_cluster(empty_bar(st.stage), lane);
    } else {
      if (lane == 0) ptx::mbarrier_arrive(empty_bar(st.stage));
    }
  }
};

// The tile a CTA works on in one scheduling step, as the producer hands it to the consumers
// (only the producer runs the scheduler: the consumers' registers go to the accumulators).
struct TileInfo {
  int group, n_block, row0, rows;  // as in jit::Tile
  int flags;                       // kTileValid: compute and store it; kTileDone: no more steps
};
constexpr int kTileValid = 1, kTileDone = 2;
// A slot of the ring in shared memory: int[8] (PipelineStorage::tiles), 16-byte aligned.
constexpr u32 kTileSlotBytes = 32;
static_assert(sizeof(TileInfo) <= kTileSlotBytes, "a TileInfo fits its slot");

// What the producer publishes for a scheduler step.
__device__ __forceinline__ TileInfo tile_info(const Step& s) {
  return TileInfo{s.tile.group, s.tile.n_block, s.tile.row0, s.tile.rows, s.valid ? kTileValid : 0};
}

// A ring of DEPTH TileInfo slots between the producer thread and the consumer warps, with its own
// barriers: the producer publishes a step as soon as it starts loading it (STAGES ahead of the
// consumers), so a consumer finishing a tile finds the next one waiting. Consumers hold their slot
// until the tile is stored and re-read it there (ld.shared), which keeps the tile's coordinates
// out of registers while the accumulators need them all.
template <int DEPTH, int CONSUMER_WARPS>
struct TileRing {
  u32 full, empty;  // shared addresses of u64[DEPTH] each
  u32 slots;        // shared address of DEPTH slots of kTileSlotBytes

  __device__ __forceinline__ void init() const {
    for (u32 i = 0; i < DEPTH; ++i) {
      ptx::mbarrier_init(full + 8 * i, 1);
      ptx::mbarrier_init(empty + 8 * i, CONSUMER_WARPS);
    }
  }

  // Producer: plain stores, then the arrive (release) that publishes them.
  __device__ __forceinline__ void put(PipelineState<DEPTH>& st, const TileInfo& info) const {
    ptx::mbarrier_wait(empty + 8 * st.stage, st.phase ^ 1);
    const u32 a = slots + st.stage * kTileSlotBytes;
    ptx::st_shared_v4(a, static_cast<u32>(info.group), static_cast<u32>(info.n_block),
                      static_cast<u32>(info.row0), static_cast<u32>(info.rows));
    ptx::st_shared_u32(a + 16, static_cast<u32>(info.flags));
    ptx::mbarrier_arrive(full + 8 * st.stage);
    st.advance();
  }

  // Consumers (every thread): wait for the slot of step `st`; read it with field().
  __device__ __forceinline__ u32 wait(const PipelineState<DEPTH>& st) const {
    ptx::mbarrier_wait(full + 8 * st.stage, st.phase);
    return slots + st.stage * kTileSlotBytes;
  }

  // One field of a published slot (offset in ints: 0 group, 1 n_block, 2 row0, 3 rows, 4 flags),
  // read by a converged warp: by lane 0, the lane that releases the slot (for racecheck, as in
  // Pipeline::release_lane), and shuffled from there, which also makes it warp-uniform: the
  // branches on it are uniform to the compiler and the consumers' addresses stay on the uniform
  // datapath.
  __device__ __forceinline__ static int field(u32 slot, int index) {
    return static_cast<int>(ptx::warp_uniform(ptx::ld_shared_u32_if(ptx::lane_id() == 0, slot + 4 * index)));
  }

  // Consumers, once per warp after the last read of the slot (lane 0's, field()).
  __device__ __forceinline__ void release(PipelineState<DEPTH>& st, u32 lane) const {
    if (lane == 0) ptx::mbarrier_arrive(empty + 8 * st.stage);
    st.advance();
  }
};

// The synchronization of one CTA of an SM90 GEMM: its stage pipeline and its TileInfo ring, over
// the barriers of a PipelineStorage.
template <int STAGES, int CLUSTER, int CONSUMER_WARPS, int PRODUCER_ARRIVALS = 1>
struct GemmSync {
  static constexpr int kStages = STAGES;
  Pipeline<STAGES, CLUSTER, CONSUMER_WARPS, PRODUCER_ARRIVALS> pipe;
  TileRing<kTileRing, CONSUMER_WARPS> tiles;

  __device__ __forceinline__ explicit GemmSync(PipelineStorage<STAGES>& s)
      : pipe{ptx::shared_addr(s.full), ptx::shared_addr(s.empty)},
        tiles{ptx::shared_addr(s.tile_full), ptx::shared_addr(s.tile_empty), ptx::shared_addr(s.tiles)} {}

  // One thread, before any use: every barrier, then the fence that lets the TMA unit (the async
  // proxy) complete on them.
  __device__ __forceinline__ void init() const {
    pipe.init();
    tiles.init();
    ptx::fence_proxy_async_shared();
  }
};

// L2_HINTS (both SM90 GEMMs): A, re-read by every tile, evicts last; B, streamed past, first.
template <bool L2_HINTS>
struct OperandEvict {
  static constexpr ptx::L2Evict a = L2_HINTS ? ptx::L2Evict::last : ptx::L2Evict::normal;
  static constexpr ptx::L2Evict b = L2_HINTS ? ptx::L2Evict::first : ptx::L2Evict::normal;
};

// The producer: one operand's tile of a stage, ROWS rows of 128 bytes (K elements k0, ...) from row
// `row0` of the map (of expert `group` in a 3-D map: GROUPED) to `dst`. Where the pair's two tiles
// share it (`multicast`, PARTS = 2), this CTA's half goes to both CTAs and the peer sends the
// other; else the tile comes in PARTS boxes of ROWS / PARTS rows (the map's box). E: the lines'
// L2 eviction priority.
template <int ROWS, int PARTS, bool GROUPED, ptx::L2Evict E = ptx::L2Evict::normal>
__device__ __forceinline__ void load_stage_rows(const void* map, u32 dst, u32 bar, int k0, int row0, int group,
                                                u32 rank, bool multicast) {
  constexpr int kBox = ROWS / PARTS;
  static_assert(kBox % 8 == 0, "boxes of whole 8-row swizzle atoms");
  static_assert(kStageRowBytes == kBlockK, "FP8 and 16-bit stages: rows of the same 128 bytes");
  if (PARTS > 1 && multicast) {
    const u32 half = dst + rank * kBox * kStageRowBytes;
    const int row = row0 + static_cast<int>(rank) * kBox;
    if constexpr (GROUPED) ptx::tma_load_3d_multicast<E>(half, map, bar, k0, row, group, 0x3);
    else ptx::tma_load_2d_multicast<E>(half, map, bar, k0, row, 0x3);
  } else {
#pragma unroll
    for (int h = 0; h < PARTS; ++h) {
      const u32 box = dst + static_cast<u32>(h * kBox) * kStageRowBytes;
      if constexpr (GROUPED) ptx::tma_load_3d<E>(box, map, bar, k0, row0 + h * kBox, group);
      else ptx::tma_load_2d<E>(box, map, bar, k0, row0 + h * kBox);
    }
  }
}

// The producer: the A and B tiles of stage `kb` of step `s` (k0 = its first K element), both into
// `bar`. With CLUSTER = 2 the operand the pair shares -- A, or B with SHARE_B -- comes in two boxes,
// this CTA's multicast to both when the step says so; the other operand comes whole. L2_HINTS: see
// OperandEvict. A_GROUPED: A's map is 3-D (masked).
template <int BLOCK_M, int BLOCK_N, int CLUSTER, bool SHARE_B, bool A_GROUPED, bool L2_HINTS>
__device__ __forceinline__ void load_stage_ab(const void* map_a, u32 a_dst, const void* map_b, u32 b_dst, u32 bar,
                                              int k0, const Step& s, u32 rank) {
  using Evict = OperandEvict<L2_HINTS>;
  constexpr int kPartsA = SHARE_B ? 1 : CLUSTER, kPartsB = SHARE_B ? 2 : 1;
  const Tile& t = s.tile;
  load_stage_rows<BLOCK_M, kPartsA, A_GROUPED, Evict::a>(map_a, a_dst, bar, k0, t.row0, t.group, rank,
                                                          s.multicast && !SHARE_B);
  load_stage_rows<BLOCK_N, kPartsB, true, Evict::b>(map_b, b_dst, bar, k0, t.n_block * BLOCK_N, t.group, rank,
                                                    s.multicast && SHARE_B);
}

// The producer thread's walk, shared by the SM90 GEMMs: every step of `sched` (a
// ClusterScheduler), its K blocks [kb_begin, kb_end) into the pipeline (all of K, or this CTA's
// share under split-K; never empty) -- load(step, kb, stage, full barrier)
// issues the TMA loads of one stage, `stage_bytes` in all -- and its TileInfo for the consumers,
// published once the step's first loads are out so that a full ring never delays them.
// A null step turns the pipeline without data. Ends with a kTileDone slot.
// ALIGNED: every step starts on slot 0 -- the step's last round is completed with empty slots --
// so that a consumer unrolled over the slots reads each at a compile-time address and waits on it
// with one phase bit per round (sm90/fp8_gemm.cuh: both FP8 consumer loops).
template <bool ALIGNED = false, class Sync, class Scheduler, class Load>
__device__ __forceinline__ void produce_steps(const Sync& sync, Scheduler& sched, int kb_begin, int kb_end,
                                              u32 stage_bytes, const Load& load) {
  PipelineState<Sync::kStages> st;
  PipelineState<kTileRing> ring;
  Step s;
  while (sched.next(s)) {
    const TileInfo info = tile_info(s);
    for (int kb = kb_begin; kb < kb_end; ++kb, st.advance()) {
      if (kb == kb_begin + 1) sync.tiles.put(ring, info);
      sync.pipe.producer_acquire(st);
      if (!s.valid) {  // a null step of a cluster pair: keep the phases in step with the peer
        sync.pipe.producer_skip(st);
        continue;
      }
      sync.pipe.producer_expect(st, stage_bytes);
      load(s, kb, st.stage, sync.pipe.full_bar(st.stage));
    }
    if (kb_end - kb_begin == 1) sync.tiles.put(ring, info);
    if constexpr (ALIGNED) {
      for (; st.stage != 0; st.advance()) {
        sync.pipe.producer_acquire(st);
        sync.pipe.producer_skip(st);
      }
    }
  }
  sync.tiles.put(ring, TileInfo{0, 0, 0, 0, kTileDone});
}

// The warp roles of an SM90 GEMM of MATH_THREADS consumer threads plus one producer warpgroup
// (the last 128 threads), in clusters of CLUSTER CTAs (multicast pairs or split-K). The producer's
// first thread checks the smem alignment and runs `setup` (barrier init, tensor map prefetch)
// before the CTA -- or cluster: the peers' multicasts and arrivals land in our barriers --
// synchronizes; then one elected producer thread runs `produce` and the consumers
// `consume`. With two consumer warpgroups, setmaxnreg moves registers from the producer to them.
template <int MATH_THREADS, int CLUSTER, class Setup, class Produce, class Consume>
__device__ __forceinline__ void run_warp_roles(const void* smem, const Setup& setup, const Produce& produce,
                                               const Consume& consume) {
  constexpr bool kReallocate = MATH_THREADS == 256;  // with one consumer warpgroup all fit anyway
  static_assert(kProducerRegs * 128 + kConsumerRegs * MATH_THREADS <= 65536 || !kReallocate, "register file");
  if (threadIdx.x == MATH_THREADS) {
    if (ptx::shared_addr(smem) % 1024 != 0) ptx::trap();  // the swizzle anchors would be off
    setup();
  }
  if constexpr (CLUSTER > 1) {
    ptx::cluster_arrive();
    ptx::cluster_wait();
  } else {
    __syncthreads();
  }
  // The role, from the warp index made warp-uniform: the branches below are then uniform to the
  // compiler, which keeps the consumers' addresses and loop counters on the uniform datapath.
  const u32 warp = ptx::warp_uniform(threadIdx.x / 32);
  if (warp >= MATH_THREADS / 32) {
    if constexpr (kReallocate) ptx::setmaxnreg_dec<kProducerRegs>();
    if (warp == MATH_THREADS / 32) {
      if (ptx::elect_one()) produce();
      __syncwarp();
    }
  } else {
    if constexpr (kReallocate) ptx::setmaxnreg_inc<kConsumerRegs>();
    consume();
  }
  // The peers may still arrive on our barriers (or read our shared memory): leave together.
  if constexpr (CLUSTER > 1) {
    ptx::cluster_arrive();
    ptx::cluster_wait();
  }
}

}  // namespace jit::sm90
