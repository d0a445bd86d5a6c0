// Split-K for the SM90 GEMMs, inside a thread-block cluster: the SPLIT CTAs of a cluster compute
// the same output tile, each over its share of the K blocks, and sum their fp32 partial results
// through distributed shared memory. No global workspace, no counters, no host work: the reduction
// is as graph-safe, concurrency-safe and deterministic (a fixed summation order) as the unsplit
// kernel. What it buys: CTAs for the shapes with fewer tiles than SMs (M <= 128: 64x2112x7168 has
// 33 64x64 tiles for 132 SMs), where each CTA's long K loop, not the data, sets the time.
//
// Per tile, after the K loop, every consumer thread of a CTA of rank r > 0 waits until rank 0 has
// consumed its previous partials (`empty`) and writes its accumulator fragments into rank 0's
// buffer (slot r - 1, st.shared::cluster), then arrives on rank 0's `full` barrier (release,
// cluster scope). Rank 0 waits on `full` (acquire), runs the normal epilogue with SplitAddend
// adding the peers' fragments to its own as they leave the registers (the accumulators themselves
// are never written: for wgmma accumulators ptxas would serialize every wgmma, C7515), then every
// thread arrives on every peer's `empty` (release: its reads of the buffer come first). Every thread
// arrives for itself: one arrive per warp after __syncwarp measured ~4% faster on the split tiles
// the heuristics pick, but compute-sanitizer's racecheck cannot see that ordering (40 hazards). The fragments keep the wgmma layout: thread t's pair (v, j, h) -- wave v, 8-column
// block j, row half h -- is float2 unit v * ACC / 2 + 2 j + h of its slot, units THREADS x 8 bytes
// apart, so that a warp's accesses are conflict-free.
#pragma once

#include <jit/ptx/mbarrier.cuh>
#include <jit/ptx/sm90.cuh>
#include <jit/sm90/epilogue.cuh>

namespace jit::sm90 {

// This CTA's K blocks under a SPLIT-way split: [begin, end), never empty when num_kb >= SPLIT
// (the host's rule).
template <int SPLIT>
struct SplitRange {
  int begin, end;
  __device__ __forceinline__ SplitRange(int num_kb, u32 rank)
      : begin(static_cast<int>(rank) * num_kb / SPLIT), end((static_cast<int>(rank) + 1) * num_kb / SPLIT) {}
};

// The exchange of one CTA: `buf`, `full`, `empty` are local shared addresses (the partials buffer,
// (SPLIT - 1) x WAVES x ACC floats per thread, and two mbarriers); the phase flips once per tile.
template <int SPLIT, int THREADS, int WAVES, int ACC>
struct SplitK {
  static_assert(SPLIT >= 2 && SPLIT <= 8, "2 to 8 CTAs per split-K cluster");
  static constexpr int kUnits = WAVES * ACC / 2;  // float2 units per thread and slot
  u32 buf, full, empty, rank;
  u32 phase = 0;

  __device__ __forceinline__ SplitK(u32 buf_, u32 full_, u32 empty_, u32 rank_)
      : buf(buf_), full(full_), empty(empty_), rank(rank_) {}

  // One thread, with the kernel's other barriers (made visible to the cluster by the same fence
  // and cluster barrier): `full` completes when every consumer thread of every peer has arrived,
  // `empty` when rank 0's have.
  __device__ __forceinline__ void init() const {
    ptx::mbarrier_init(full, (SPLIT - 1) * THREADS);
    ptx::mbarrier_init(empty, THREADS);
  }

  __device__ __forceinline__ static u32 unit(int slot, int v, int j, int h) {
    return static_cast<u32>(((slot * kUnits + v * ACC / 2 + 2 * j + h) * THREADS + static_cast<int>(threadIdx.x)) * 8);
  }

  // Ranks > 0, every consumer thread: this tile's partial sums to rank 0.
  __device__ __forceinline__ void send(const float (&acc)[WAVES][ACC]) {
    ptx::mbarrier_wait_acquire_cluster(empty, phase ^ 1);  // a fresh barrier: the first pass is free
    const u32 dst = ptx::map_shared_rank(buf, 0);
#pragma unroll
    for (int v = 0; v < WAVES; ++v)
#pragma unroll
      for (int j = 0; j < ACC / 4; ++j)
#pragma unroll
        for (int h = 0; h < 2; ++h)
          ptx::st_cluster_v2_f32(dst + unit(static_cast<int>(rank) - 1, v, j, h), acc[v][4 * j + 2 * h],
                                 acc[v][4 * j + 2 * h + 1]);
    ptx::mbarrier_arrive_release_cluster(ptx::map_shared_rank(full, 0));
    phase ^= 1;
  }

  // Every consumer thread, once per valid tile after its K loop: rank 0 runs epilogue(addend) --
  // the unsplit epilogue, given an addend that adds `inner` and the peers' partials -- and the
  // other ranks send their partials instead.
  template <class Inner, class Epilogue>
  __device__ __forceinline__ void store(const float (&acc)[WAVES][ACC], const Inner& inner, const Epilogue& epilogue);

  // Rank 0, every consumer thread: wait for the peers' partials of this tile ...
  __device__ __forceinline__ void wait() const { ptx::mbarrier_wait_acquire_cluster(full, phase); }

  // ... and once the epilogue has read them, hand the buffer back to every peer.
  __device__ __forceinline__ void release() {
#pragma unroll
    for (int r = 1; r < SPLIT; ++r)
      ptx::mbarrier_arrive_release_cluster(ptx::map_shared_rank(empty, static_cast<u32>(r)));
    phase ^= 1;
  }
};

// Without split-K: the epilogue as it is.
template <int THREADS, int WAVES, int ACC>
struct SplitK<1, THREADS, WAVES, ACC> {
  __device__ __forceinline__ SplitK(u32, u32, u32, u32) {}
  __device__ __forceinline__ void init() const {}
  template <class Inner, class Epilogue>
  __device__ __forceinline__ void store(const float (&)[WAVES][ACC], const Inner& inner, const Epilogue& epilogue) {
    epilogue(inner);
  }
};

// The epilogue addend of rank 0 (epilogue.cuh's add(v, j, h, lo, hi) interface): the inner addend
// (C, or nothing) first, then the peers' partials in rank order.
template <int SPLIT, int THREADS, int WAVES, int ACC, class Inner = NoAddend>
struct SplitAddend {
  using Exchange = SplitK<SPLIT, THREADS, WAVES, ACC>;
  u32 buf;
  Inner inner;

  __device__ __forceinline__ void fence() const { inner.fence(); }

  __device__ __forceinline__ void add(int v, int j, int h, float& lo, float& hi) const {
    inner.add(v, j, h, lo, hi);
#pragma unroll
    for (int s = 0; s < SPLIT - 1; ++s) {
      float x, y;
      ptx::ld_shared_v2_f32(buf + Exchange::unit(s, v, j, h), x, y);
      lo += x;
      hi += y;
    }
  }
};

template <int SPLIT, int THREADS, int WAVES, int ACC>
template <class Inner, class Epilogue>
__device__ __forceinline__ void SplitK<SPLIT, THREADS, WAVES, ACC>::store(const float (&acc)[WAVES][ACC],
                                                                         const Inner& inner, const Epilogue& epilogue) {
  if (rank != 0) {
    send(acc);
    return;
  }
  wait();
  epilogue(SplitAddend<SPLIT, THREADS, WAVES, ACC, Inner>{buf, inner});
  release();
}

}  // namespace jit::sm90
