// mbarrier (sm_90): the shared-memory barriers of the TMA pipelines. A barrier completes a phase
// when its pending arrivals reach zero AND its transaction count (bytes announced with expect_tx,
// retired by TMA's complete_tx) is back at zero; waiters test the parity of the phase they need.
// PTX ISA, "Parallel Synchronization and Communication Instructions: mbarrier".
#pragma once

#include <jit/types.hpp>

namespace jit::ptx {

// mbarrier.init: `count` arrivals complete a phase. Done by one thread before any use; the
// init must be made visible (fence_mbarrier_init / fence_view_async_shared, then a barrier).
__device__ __forceinline__ void mbarrier_init(u32 bar, u32 count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" :: "r"(bar), "r"(count) : "memory");
}

// fence.mbarrier_init.release.cluster: makes this thread's mbarrier.init visible to the other CTAs
// of the cluster (their TMA multicasts and remote arrivals target our barriers).
__device__ __forceinline__ void fence_mbarrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

// mbarrier.arrive (release, CTA scope): one arrival on a local barrier.
__device__ __forceinline__ void mbarrier_arrive(u32 bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" :: "r"(bar) : "memory");
}

// cp.async.mbarrier.arrive.noinc (sm_80+): once this thread's earlier cp.async (ptx/cp_async.cuh)
// are complete, one arrival on `bar` (.noinc: that arrival is part of the barrier's expected count,
// not added to it). Threads that wait on the barrier's phase then see the copied bytes.
__device__ __forceinline__ void cp_async_mbarrier_arrive_noinc(u32 bar) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" :: "r"(bar) : "memory");
}

// mbarrier.arrive.expect_tx: one arrival that also announces `bytes` of TMA traffic for the
// current phase. The phase cannot complete before those bytes land, whichever comes first.
__device__ __forceinline__ void mbarrier_arrive_expect_tx(u32 bar, u32 bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n"
               :: "r"(bar), "r"(bytes) : "memory");
}

// mapa.shared::cluster: the cluster-window address of the same shared variable in CTA `rank`.
__device__ __forceinline__ u32 map_shared_rank(u32 addr, u32 rank) {
  u32 r;
  asm("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(r) : "r"(addr), "r"(rank));
  return r;
}

// mbarrier.arrive on a barrier of CTA `rank` of the cluster (its own rank too): how a consumer
// tells both producers of a multicast pair that a stage is free. Default (CTA-scope release)
// semantics, as CUTLASS's cluster barrier: the consumer's wgmma.wait_group already retired its
// reads of the slot, and a .release.cluster fence on every per-stage arrive measured 1.3-1.8x
// slower kernels (bench/NOTES.md).
__device__ __forceinline__ void mbarrier_arrive_cluster(u32 bar, u32 rank) {
  asm volatile(
      "{\n"
      ".reg .b32 remote;\n"
      "mapa.shared::cluster.u32 remote, %0, %1;\n"
      "mbarrier.arrive.shared::cluster.b64 _, [remote];\n"
      "}\n" :: "r"(bar), "r"(rank) : "memory");
}

// mbarrier.arrive.release.cluster on a barrier already mapped into the cluster window (mapa):
// this thread's earlier writes -- its st.shared::cluster to the barrier's CTA included -- are
// visible to whoever acquires the phase at cluster scope (mbarrier_wait_acquire_cluster). For the
// split-K exchange, once per tile: the per-stage arrives keep the cheaper CTA-scope form above.
__device__ __forceinline__ void mbarrier_arrive_release_cluster(u32 remote_bar) {
  asm volatile("mbarrier.arrive.release.cluster.shared::cluster.b64 _, [%0];\n" :: "r"(remote_bar) : "memory");
}

// mbarrier.try_wait.parity: true once the phase of parity `phase` has completed. try_wait (not
// test_wait) lets the hardware suspend the thread for a while instead of spinning hot.
__device__ __forceinline__ bool mbarrier_try_wait(u32 bar, u32 phase) {
  u32 done;
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      "selp.u32 %0, 1, 0, p;\n"
      "}\n" : "=r"(done) : "r"(bar), "r"(phase) : "memory");
  return done != 0;
}

// Blocks until the phase of parity `phase` has completed. Acquire semantics (CTA scope): data
// the phase guarded -- TMA bytes, or plain stores released by the arrivals -- is visible after.
__device__ __forceinline__ void mbarrier_wait(u32 bar, u32 phase) {
  while (!mbarrier_try_wait(bar, phase)) {
  }
}

// Blocks until the phase of parity `phase` has completed, with cluster-scope acquire: what the
// arrivals released (mbarrier_arrive_release_cluster), from any CTA of the cluster, is visible after.
__device__ __forceinline__ void mbarrier_wait_acquire_cluster(u32 bar, u32 phase) {
  u32 done = 0;
  while (!done) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n"
        "}\n" : "=r"(done) : "r"(bar), "r"(phase) : "memory");
  }
}

// The wait on barriers that remote CTAs arrive on (the empty barriers of a multicast pipeline).
// CTA-scope acquire, as for local barriers: what it orders is the peer's completed wgmma reads
// before our next TMA write, which the arrive's completion already implies (see above).
__device__ __forceinline__ void mbarrier_wait_cluster(u32 bar, u32 phase) { mbarrier_wait(bar, phase); }

}  // namespace jit::ptx
