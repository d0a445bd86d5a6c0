// TMA (sm_90): tensor-map driven bulk copies between global and shared memory. Loads complete
// on an mbarrier (complete_tx); stores are tracked per thread in bulk groups. The tensor map is
// a __grid_constant__ kernel parameter, passed here by its generic address.
// PTX ISA, "Data Movement and Conversion Instructions: cp.async.bulk.tensor" and friends.
#pragma once

#include <jit/types.hpp>

namespace jit::ptx {

// prefetch.tensormap: pulls the 128-byte descriptor into the descriptor cache early, so the first
// copy of each operand does not wait for it.
__device__ __forceinline__ void prefetch_tensormap(const void* map) {
  asm volatile("prefetch.tensormap [%0];\n" :: "l"(map) : "memory");
}

// L2 eviction priority of the lines a load brings in (createpolicy; PTX ISA "Data Movement and
// Conversion Instructions: createpolicy"). Where B streams past once and A is re-read by every
// tile (few m-blocks), B's lines evict first and A's last: the A rows stay in L2 instead of being
// pushed out by B (bench/NOTES.md v0.15).
enum class L2Evict { normal, first, last };

template <L2Evict E>
__device__ __forceinline__ u64 l2_policy() {
  static_assert(E != L2Evict::normal, "a normal load carries no policy");
  u64 policy;
  if constexpr (E == L2Evict::first)
    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\n" : "=l"(policy));
  else
    asm volatile("createpolicy.fractional.L2::evict_last.b64 %0, 1.0;\n" : "=l"(policy));
  return policy;
}

// cp.async.bulk.tensor.{2,3}d global -> shared (this CTA): the box at the coordinates (innermost
// first, in elements; out-of-bounds elements are zero-filled and still count as bytes) lands at
// `dst` and retires its bytes on barrier `bar`.
// With an L2 eviction priority E other than normal, the copy carries it as a cache hint.
template <L2Evict E = L2Evict::normal>
__device__ __forceinline__ void tma_load_2d(u32 dst, const void* map, u32 bar, int c0, int c1) {
  if constexpr (E == L2Evict::normal)
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
        " [%0], [%1, {%3, %4}], [%2];\n"
        :: "r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1) : "memory");
  else
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.L2::cache_hint"
        " [%0], [%1, {%3, %4}], [%2], %5;\n"
        :: "r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1), "l"(l2_policy<E>()) : "memory");
}

template <L2Evict E = L2Evict::normal>
__device__ __forceinline__ void tma_load_3d(u32 dst, const void* map, u32 bar, int c0, int c1, int c2) {
  if constexpr (E == L2Evict::normal)
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
        " [%0], [%1, {%3, %4, %5}], [%2];\n"
        :: "r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1), "r"(c2) : "memory");
  else
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.L2::cache_hint"
        " [%0], [%1, {%3, %4, %5}], [%2], %6;\n"
        :: "r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1), "r"(c2), "l"(l2_policy<E>()) : "memory");
}

// The multicast forms: the box is written at the same shared offset of every CTA in `cta_mask`
// (bit i = cluster rank i), and retires its bytes on the barrier at `bar`'s offset in each of them.
template <L2Evict E = L2Evict::normal>
__device__ __forceinline__ void tma_load_2d_multicast(u32 dst, const void* map, u32 bar, int c0, int c1,
                                                      unsigned short cta_mask) {
  if constexpr (E == L2Evict::normal)
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster"
        " [%0], [%1, {%3, %4}], [%2], %5;\n"
        :: "r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1), "h"(cta_mask) : "memory");
  else
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster"
        ".L2::cache_hint [%0], [%1, {%3, %4}], [%2], %5, %6;\n"
        :: "r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1), "h"(cta_mask), "l"(l2_policy<E>()) : "memory");
}

template <L2Evict E = L2Evict::normal>
__device__ __forceinline__ void tma_load_3d_multicast(u32 dst, const void* map, u32 bar, int c0, int c1,
                                                      int c2, unsigned short cta_mask) {
  if constexpr (E == L2Evict::normal)
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster"
        " [%0], [%1, {%3, %4, %5}], [%2], %6;\n"
        :: "r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1), "r"(c2), "h"(cta_mask) : "memory");
  else
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster"
        ".L2::cache_hint [%0], [%1, {%3, %4, %5}], [%2], %6, %7;\n"
        :: "r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1), "r"(c2), "h"(cta_mask), "l"(l2_policy<E>())
        : "memory");
}

// cp.async.bulk.tensor.{2,3}d shared -> global: stores the box at `src`; elements outside the
// map's bounds are dropped (that is how N and M tails of full tiles are clipped).
__device__ __forceinline__ void tma_store_2d(const void* map, u32 src, int c0, int c1) {
  asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.tile.bulk_group [%0, {%2, %3}], [%1];\n"
               :: "l"(map), "r"(src), "r"(c0), "r"(c1) : "memory");
}

__device__ __forceinline__ void tma_store_3d(const void* map, u32 src, int c0, int c1, int c2) {
  asm volatile("cp.async.bulk.tensor.3d.global.shared::cta.tile.bulk_group [%0, {%2, %3, %4}], [%1];\n"
               :: "l"(map), "r"(src), "r"(c0), "r"(c1), "r"(c2) : "memory");
}

// cp.async.bulk.commit_group: closes this thread's group of bulk stores issued since the last one.
__device__ __forceinline__ void bulk_commit_group() {
  asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
}

// cp.async.bulk.wait_group.read N: at most N groups still READ their shared source, so the
// buffer may be overwritten (the global writes may still be in flight).
template <int N>
__device__ __forceinline__ void bulk_wait_group_read() {
  static_assert(N >= 0 && N < 8, "cp.async.bulk.wait_group takes a small immediate");
  asm volatile("cp.async.bulk.wait_group.read %0;\n" :: "n"(N) : "memory");
}

// cp.async.bulk.wait_group N: at most N groups are still pending at all (writes complete).
template <int N>
__device__ __forceinline__ void bulk_wait_group() {
  static_assert(N >= 0 && N < 8, "cp.async.bulk.wait_group takes a small immediate");
  asm volatile("cp.async.bulk.wait_group %0;\n" :: "n"(N) : "memory");
}

// fence.proxy.async.shared::cta: orders this thread's ordinary (generic proxy) shared-memory
// writes before later async-proxy accesses -- needed between st.shared/stmatrix and a TMA store
// that reads the same bytes (PTX ISA, "Memory Consistency Model: proxies").
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

}  // namespace jit::ptx
