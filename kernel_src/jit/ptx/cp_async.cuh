// cp.async (sm_80+): asynchronous global->shared copies that bypass the register file, tracked per
// thread in commit groups (or completing on an mbarrier, ptx/mbarrier.cuh). The multistage
// pipelines of the mma.sync families are built from these wrappers (PTX ISA, "Data Movement and
// Conversion Instructions: cp.async").
#pragma once

#include <jit/types.hpp>

namespace jit::ptx {

// The 32-bit shared-window address of a generic pointer into shared memory (what cp.async,
// ldmatrix and friends take).
__device__ __forceinline__ u32 smem_address(const void* p) {
  return static_cast<u32>(__cvta_generic_to_shared(p));
}

// cp.async.cg.shared.global, if `pred`: copies 16 bytes, caching in L2 only (.cg: each tile is
// read once per CTA, so L1 would only evict). `src_bytes` < 16 zero-fills the rest; 0 reads
// nothing (the address must still be a valid one). .L2::128B asks L2 to fetch the whole 128-byte
// line, so the neighbouring K chunk is warm. The guard is inside the asm, so the copy stays one
// predicated instruction that ptxas can schedule among the MMAs (a C++ `if` around each copy
// became a branch around the whole block of them); `src` may be any value when `pred` is false.
// No .L2::cache_hint form: with CUDA 13.0 every cp.async that carries a createpolicy value (cg or
// ca, constant or run-time policy) faulted with an illegal instruction on the H200 -- its LDGSTS
// reads the policy descriptor from uniform registers nothing writes -- while ld.global with the
// same hint ran (bench/NOTES.md v0.16). The sm80 family gets its L2 priorities from an access
// policy window on the launch instead.
__device__ __forceinline__ void cp_async_16_if(bool pred, u32 dst, const void* src, u32 src_bytes) {
  asm volatile("{\n .reg .pred p;\n setp.ne.b32 p, %3, 0;\n"
               " @p cp.async.cg.shared.global.L2::128B [%0], [%1], 16, %2;\n}\n"
               :: "r"(dst), "l"(src), "r"(src_bytes), "r"(static_cast<u32>(pred)) : "memory");
}

// cp.async.ca.shared.global, 4 bytes: one float with no alignment beyond its own (the SM90 FP8
// producer's per-stage B scales).
__device__ __forceinline__ void cp_async_4(u32 dst, const void* src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" :: "r"(dst), "l"(src) : "memory");
}

// cp.async.commit_group: closes the group of this thread's cp.async issued since the last commit.
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

// cp.async.wait_group N: waits until at most N of this thread's most recent groups are pending.
// Other threads' copies become visible only after a barrier (__syncthreads) that follows.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  static_assert(N >= 0 && N < 32, "cp.async.wait_group takes a small immediate");
  asm volatile("cp.async.wait_group %0;\n" :: "n"(N) : "memory");
}

}  // namespace jit::ptx
