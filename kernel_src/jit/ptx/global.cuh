// Global-memory accesses with explicit caching and ordering (sm_70+), for data that CTAs hand to
// each other within one kernel: the split-K partial sums of the sm80 family (PTX ISA, "Data
// Movement and Conversion Instructions: ld, st" and "Parallel Synchronization and Communication
// Instructions: atom"; the memory consistency model's release/acquire patterns).
#pragma once

#include <jit/types.hpp>

namespace jit::ptx {

// st.global.cg / ld.global.cg: cached in L2 only. Another SM reads what this one wrote, and L1 is
// not coherent across SMs.
__device__ __forceinline__ void st_global_cg_v4_f32(float* p, float a, float b, float c, float d) {
  asm volatile("st.global.cg.v4.f32 [%0], {%1, %2, %3, %4};\n"
               :: "l"(p), "f"(a), "f"(b), "f"(c), "f"(d) : "memory");
}

__device__ __forceinline__ void ld_global_cg_v4_f32(const float* p, float& a, float& b, float& c, float& d) {
  asm volatile("ld.global.cg.v4.f32 {%0, %1, %2, %3}, [%4];\n"
               : "=f"(a), "=f"(b), "=f"(c), "=f"(d) : "l"(p) : "memory");
}

// atom.acq_rel.gpu.global.add: a counter that publishes this CTA's writes (release; with a CTA
// barrier before it, every thread's) and sees the writes of the CTAs that added before (acquire).
__device__ __forceinline__ int atom_add_acq_rel_gpu(int* p, int v) {
  int old;
  asm volatile("atom.acq_rel.gpu.global.add.s32 %0, [%1], %2;\n" : "=r"(old) : "l"(p), "r"(v) : "memory");
  return old;
}

// st.relaxed.gpu.global: a plain store other CTAs of this grid, or later kernels, may read.
__device__ __forceinline__ void st_relaxed_gpu(int* p, int v) {
  asm volatile("st.relaxed.gpu.global.s32 [%0], %1;\n" :: "l"(p), "r"(v) : "memory");
}

}  // namespace jit::ptx
