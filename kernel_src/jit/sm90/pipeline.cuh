// The TMA -> WGMMA pipeline of the SM90 kernels: STAGES shared-memory slots, each guarded by a
// "full" barrier (the producer's arrive + expect_tx, completed by the TMA bytes) and an "empty"
// barrier (one arrival per consumer warp, from every CTA of the cluster that reads the slot's
// multicast data). Producer and consumers walk the same (stage, phase) sequence.
#pragma once

#include <jit/ptx/mbarrier.cuh>
#include <jit/ptx/sm90.cuh>

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
template <int STAGES, int CLUSTER, int CONSUMER_WARPS>
struct Pipeline {
  u32 full, empty;

  __device__ __forceinline__ u32 full_bar(u32 s) const { return full + 8 * s; }
  __device__ __forceinline__ u32 empty_bar(u32 s) const { return empty + 8 * s; }

  // One thread, before anyone uses the barriers; visible to the cluster after the following
  // cluster (or CTA) barrier. A slot is free again once every consumer warp of every CTA that
  // reads it has arrived; its producer announces the bytes with one arrive.expect_tx.
  __device__ __forceinline__ void init() const {
    for (u32 s = 0; s < STAGES; ++s) {
      ptx::mbarrier_init(full_bar(s), 1);
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
    ptx::mbarrier_arrive(full_bar(st.stage));
  }

  // Consumer: wait for the slot's data.
  __device__ __forceinline__ void consumer_wait(const PipelineState<STAGES>& st) const {
    ptx::mbarrier_wait(full_bar(st.stage), st.phase);
  }

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
  int pad_;
};
constexpr int kTileValid = 1, kTileDone = 2;

// A two-slot ring of TileInfo between the producer thread and the consumer warps, with its own
// barriers: the producer publishes a step as soon as it starts loading it (STAGES ahead of the
// consumers), so a consumer finishing a tile finds the next one waiting.
template <int CONSUMER_WARPS>
struct TileRing {
  u32 full, empty;  // shared addresses of u64[2] each
  TileInfo* slots;  // [2]

  __device__ __forceinline__ void init() const {
    for (u32 i = 0; i < 2; ++i) {
      ptx::mbarrier_init(full + 8 * i, 1);
      ptx::mbarrier_init(empty + 8 * i, CONSUMER_WARPS);
    }
  }

  // Producer: plain stores, then the arrive (release) that publishes them.
  __device__ __forceinline__ void put(PipelineState<2>& st, const TileInfo& info) const {
    ptx::mbarrier_wait(empty + 8 * st.stage, st.phase ^ 1);
    slots[st.stage] = info;
    ptx::mbarrier_arrive(full + 8 * st.stage);
    st.advance();
  }

  // Consumers (every thread): the next step; the slot is released at once, per warp.
  __device__ __forceinline__ TileInfo get(PipelineState<2>& st, u32 lane) const {
    ptx::mbarrier_wait(full + 8 * st.stage, st.phase);
    const TileInfo info = slots[st.stage];  // the wait's "memory" clobber keeps this below it
    __syncwarp();  // every lane has read the slot before lane 0 releases it
    if (lane == 0) ptx::mbarrier_arrive(empty + 8 * st.stage);
    st.advance();
    return info;
  }
};

}  // namespace jit::sm90
