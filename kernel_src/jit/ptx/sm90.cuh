// The small sm_90 instructions the warp-specialized kernels are built from: register
// reallocation, named and cluster barriers, elect, stmatrix, grid dependency control, and the
// few loads/stores/conversions the epilogues need. One wrapper per instruction, PTX ISA section
// in the comment above each.
#pragma once

#include <jit/types.hpp>

namespace jit::ptx {

// The 32-bit shared-window address of a generic pointer into this CTA's shared memory.
// (cvta.to.shared; the same helper as smem_address in cp_async.cuh, kept here so the sm90
// headers do not depend on the sm80 ones.)
__device__ __forceinline__ u32 shared_addr(const void* p) {
  return static_cast<u32>(__cvta_generic_to_shared(p));
}

// %laneid and %tid.x, read with volatile asm: the compiler cannot hoist what is computed from
// them out of the persistent tile loop (it would keep the results in registers -- or spill them --
// across the main loop, where the accumulators need every register).
__device__ __forceinline__ u32 lane_id() {
  u32 r;
  asm volatile("mov.u32 %0, %%laneid;\n" : "=r"(r));
  return r;
}

__device__ __forceinline__ u32 thread_id_x() {
  u32 r;
  asm volatile("mov.u32 %0, %%tid.x;\n" : "=r"(r));
  return r;
}

// v as lane 0 of the (converged) warp has it: shfl.sync from a constant lane is how the compiler
// learns that a value is warp-uniform, and then keeps what is computed from it -- addresses,
// descriptors, loop counters -- on the uniform datapath, under uniform branches.
__device__ __forceinline__ u32 warp_uniform(u32 v) { return __shfl_sync(0xffffffffu, v, 0); }

// v, unknown to the compiler (a volatile move): what is computed from it is computed where it is
// used, not hoisted out of a loop to live in registers across it. The unrolled K loops of the FP8
// GEMM take their slots' descriptors from this, one add each, instead of keeping every slot's in
// registers (which spilled).
__device__ __forceinline__ u32 recompute_from(u32 v) {
  u32 r;
  asm volatile("mov.b32 %0, %1;" : "=r"(r) : "r"(v));
  return r;
}

// setmaxnreg.{inc,dec}.sync.aligned.u32 (sm_90a, "Miscellaneous Instructions: setmaxnreg"): the
// executing warpgroup's per-thread register budget. Every warp of the warpgroup must execute it;
// the block must have been launched within the register file (__launch_bounds__(threads, 1)).
template <int N>
__device__ __forceinline__ void setmaxnreg_inc() {
  static_assert(N >= 24 && N <= 256 && N % 8 == 0, "setmaxnreg takes 24..256, a multiple of 8");
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" :: "n"(N));
}

template <int N>
__device__ __forceinline__ void setmaxnreg_dec() {
  static_assert(N >= 24 && N <= 256 && N % 8 == 0, "setmaxnreg takes 24..256, a multiple of 8");
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" :: "n"(N));
}

// elect.sync ("Parallel Synchronization: elect.sync"): true in exactly one active lane of the
// full warp -- the issuing thread of a warp-uniform TMA, without a lane-0 comparison.
__device__ __forceinline__ bool elect_one() {
  u32 pred = 0;
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "elect.sync _|p, 0xffffffff;\n"
      "selp.u32 %0, 1, 0, p;\n"
      "}\n" : "=r"(pred));
  return pred != 0;
}

// bar.sync id, count ("Parallel Synchronization: bar/barrier"): a named barrier for a subset of
// the CTA (count threads, whole warps). Id 0 is __syncthreads'.
__device__ __forceinline__ void named_barrier_sync(u32 id, u32 count) {
  asm volatile("bar.sync %0, %1;\n" :: "r"(id), "r"(count) : "memory");
}

// bar.red.and.pred: the same barrier, returning whether `pred` held in every participating thread.
__device__ __forceinline__ bool named_barrier_and(u32 id, u32 count, bool pred) {
  u32 r;
  asm volatile(
      "{\n"
      ".reg .pred p, q;\n"
      "setp.ne.u32 p, %3, 0;\n"
      "bar.red.and.pred q, %1, %2, p;\n"
      "selp.u32 %0, 1, 0, q;\n"
      "}\n" : "=r"(r) : "r"(id), "r"(count), "r"(static_cast<u32>(pred)) : "memory");
  return r != 0;
}

// %cluster_ctarank ("Special Registers"): this CTA's rank in its cluster.
__device__ __forceinline__ u32 cluster_ctarank() {
  u32 r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
  return r;
}

// barrier.cluster.arrive.release / wait.acquire ("Parallel Synchronization: barrier.cluster"):
// every thread of every CTA of the cluster must arrive; shared-memory writes before the arrive
// are visible to the whole cluster after the wait.
__device__ __forceinline__ void cluster_arrive() {
  asm volatile("barrier.cluster.arrive.release.aligned;\n" ::: "memory");
}

__device__ __forceinline__ void cluster_wait() {
  asm volatile("barrier.cluster.wait.acquire.aligned;\n" ::: "memory");
}

// griddepcontrol ("Parallel Synchronization: griddepcontrol"), for programmatic dependent
// launch: wait for the prerequisite grid's memory, or let the dependent grid start launching.
// Both are no-ops when the launch did not opt into PDL.
__device__ __forceinline__ void griddepcontrol_wait() {
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
}

__device__ __forceinline__ void griddepcontrol_launch_dependents() {
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
}

// stmatrix.sync.aligned.m8n8.x4.shared.b16 ("Data Movement: stmatrix"): the inverse of ldmatrix.
// Lane l supplies the row address of row l % 8 of matrix l / 8 (16 contiguous bytes); register i
// holds matrix i in the mma fragment layout (lane l: row l / 4, elements 2(l % 4) and +1).
__device__ __forceinline__ void stmatrix_x4(u32 smem_addr, u32 r0, u32 r1, u32 r2, u32 r3) {
  asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};\n"
               :: "r"(smem_addr), "r"(r0), "r"(r1), "r"(r2), "r"(r3) : "memory");
}

// cvt.rn.bf16x2.f32 ("Data Movement and Conversion: cvt"): two floats to a packed bf16 pair,
// `lo` in the low half (the lower column / address).
__device__ __forceinline__ u32 pack_bf16x2(float lo, float hi) {
  u32 r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

// cvt.rn.f16x2.f32: the same for a packed fp16 pair.
__device__ __forceinline__ u32 pack_f16x2(float lo, float hi) {
  u32 r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

// ld.shared / st.shared / st.global.v4: explicit shared/global accesses where
// the generic-address forms would cost an address conversion in the hot loop.
__device__ __forceinline__ float ld_shared_f32(u32 addr) {
  float r;
  asm volatile("ld.shared.f32 %0, [%1];\n" : "=f"(r) : "r"(addr) : "memory");
  return r;
}

// ld.shared.u32 where `pred` holds, else 0 -- predicated inside the asm, so that it adds no branch
// (a branch between a wgmma and its wait makes ptxas serialize the wgmma).
__device__ __forceinline__ u32 ld_shared_u32_if(bool pred, u32 addr) {
  u32 r;
  asm volatile("{\n .reg .pred p;\n setp.ne.u32 p, %2, 0;\n mov.u32 %0, 0;\n @p ld.shared.u32 %0, [%1];\n}\n"
               : "=r"(r) : "r"(addr), "r"(static_cast<u32>(pred)) : "memory");
  return r;
}

__device__ __forceinline__ u32 ld_shared_u32(u32 addr) {
  u32 r;
  asm volatile("ld.shared.u32 %0, [%1];\n" : "=r"(r) : "r"(addr) : "memory");
  return r;
}

__device__ __forceinline__ void st_shared_u32(u32 addr, u32 v) {
  asm volatile("st.shared.u32 [%0], %1;\n" :: "r"(addr), "r"(v) : "memory");
}

__device__ __forceinline__ void st_shared_v4(u32 addr, u32 a, u32 b, u32 c, u32 d) {
  asm volatile("st.shared.v4.b32 [%0], {%1, %2, %3, %4};\n" :: "r"(addr), "r"(a), "r"(b), "r"(c), "r"(d)
               : "memory");
}

__device__ __forceinline__ void ld_shared_v4(u32 addr, u32 (&v)[4]) {
  asm volatile("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(v[0]), "=r"(v[1]), "=r"(v[2]), "=r"(v[3]) : "r"(addr) : "memory");
}

__device__ __forceinline__ void ld_shared_v2_f32(u32 addr, float& a, float& b) {
  asm volatile("ld.shared.v2.f32 {%0, %1}, [%2];\n" : "=f"(a), "=f"(b) : "r"(addr) : "memory");
}

// st.shared::cluster: a store into the shared memory of another CTA of the cluster (an address
// from mapa, ptx::map_shared_rank).
__device__ __forceinline__ void st_cluster_v2_f32(u32 addr, float a, float b) {
  asm volatile("st.shared::cluster.v2.f32 [%0], {%1, %2};\n" :: "r"(addr), "f"(a), "f"(b) : "memory");
}

__device__ __forceinline__ void st_global_v4(void* p, const u32 (&v)[4]) {
  asm volatile("st.global.v4.b32 [%0], {%1, %2, %3, %4};\n"
               :: "l"(p), "r"(v[0]), "r"(v[1]), "r"(v[2]), "r"(v[3]) : "memory");
}

// trap ("Miscellaneous Instructions: trap"): a device-side assertion that survives NDEBUG.
__device__ __forceinline__ void trap() { asm volatile("trap;\n"); }

}  // namespace jit::ptx
