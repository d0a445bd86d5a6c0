// wgmma (sm_90a): warpgroup MMA, asynchronous, operands read from shared memory through matrix
// descriptors, fp32 accumulators in registers. One specialization per instruction shape, built
// from the generated operand lists (wgmma_generated.cuh, tools/gen_wgmma.py).
// PTX ISA, "Warpgroup MMA Instructions: wgmma.mma_async" and "Matrix Descriptor Format".
#pragma once

#include <jit/ptx/wgmma_generated.cuh>
#include <jit/types.hpp>

namespace jit::ptx {

// A shared-memory matrix descriptor for a K-major operand tile written by TMA with the 128-byte
// swizzle: rows of 128 bytes, groups of 8 rows 1024 bytes apart (the stride byte offset), the
// swizzle pattern anchored at 1024-byte boundaries (so the tile must start on one; base offset 0).
// The leading byte offset is unused for swizzled K-major layouts (set to 1 by convention).
// Kept as its low word -- bits 0-13 start address >> 4, bits 16-29 leading byte offset >> 4 --
// because the high word is a constant (bits 32-45 stride byte offset >> 4 = 64, bits 62-63 1 =
// 128-byte swizzle): stepping along K (32 bytes inside the swizzle atom) or rows is a 32-bit add,
// which the compiler keeps on the uniform datapath when the address is warp-uniform, instead of
// 64-bit adds and register-to-uniform moves before every wgmma. A start address stays below
// 256 KB, so the add never carries out of its field.
// `smem_addr` must be a real shared address (NVRTC 13's ptxas crashed on constant descriptors).
struct DescSw128 {
  u32 lo;
  __device__ __forceinline__ static DescSw128 at(u32 smem_addr) {
    return {((smem_addr & 0x3FFFFu) >> 4) | (1u << 16)};
  }
  // `bytes` further on (a multiple of 16).
  __device__ __forceinline__ DescSw128 plus(u32 bytes) const { return {lo + (bytes >> 4)}; }
  __device__ __forceinline__ u64 get() const { return (static_cast<u64>(0x40000040u) << 32) | lo; }
};

// wgmma.fence: orders this warpgroup's register/shared accesses before the wgmma that follow
// (required before the first wgmma, and whenever the accumulators were touched in between).
__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}

// wgmma.commit_group: closes the group of wgmma issued since the last commit.
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

// wgmma.wait_group N: at most N groups still in flight; the accumulators of the others (and
// their shared-memory reads) are done.
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  static_assert(N >= 0 && N <= 7, "wgmma.wait_group takes 0..7");
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" :: "n"(N) : "memory");
}

// A compiler-only fence on one accumulator: the compiler sees the asm read and rewrite it, so
// it cannot move accumulator reads or writes across the wgmma fence/commit/wait around it (the
// hardware writes them asynchronously, behind the compiler's back).
__device__ __forceinline__ void fence_operand(float& r) { asm volatile("" : "+f"(r) :: "memory"); }

// wgmma.mma_async.sync.aligned.m64nNkK.f32.<A>.<B>, both operands from shared memory (K-major):
// d (N/2 registers) = (scale_d ? d : 0) + A[64 x K] * B[N x K]^T.
// Fragment of d (per warp w of the warpgroup, lane l): for the 8-column block j, d[4j + 0..1]
// are row 16w + l/4, columns 8j + 2(l%4) + 0..1, and d[4j + 2..3] the same columns of row +8.
// No "memory" clobber: ordering against shared memory is carried by the mbarrier waits and the
// wgmma fence; leaving it out lets the compiler schedule unrelated work around the MMAs.
// TAIL is the immediates after scale-d: scale-a/scale-b (+1), and the transpose flags (0: K-major)
// that only the 16-bit types take.
#define JIT_WGMMA_SS(STRUCT, N, R, K, TYPES, TAIL)                                             \
  template <>                                                                                  \
  struct STRUCT<N> {                                                                           \
    static constexpr int kAccum = R;                                                           \
    static constexpr int kK = K;                                                               \
    __device__ __forceinline__ static void mma(u64 desc_a, u64 desc_b, float* d, u32 scale_d) { \
      asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, " JIT_WGMMA_SCALE_R##R ", 0;\n"             \
                   "wgmma.mma_async.sync.aligned.m64n" #N "k" #K ".f32." TYPES " "              \
                   JIT_WGMMA_REGS_R##R ", " JIT_WGMMA_OPERANDS_R##R ", p" TAIL ";\n}\n"         \
                   : JIT_WGMMA_OUTS_R##R(d)                                                     \
                   : "l"(desc_a), "l"(desc_b), "r"(scale_d));                                   \
    }                                                                                          \
  };

// e4m3 x e4m3 -> f32, k32 (the FP8 family).
template <int N> struct WgmmaE4M3;
#define JIT_WGMMA_E4M3(N, R) JIT_WGMMA_SS(WgmmaE4M3, N, R, 32, "e4m3.e4m3", ", 1, 1")
JIT_WGMMA_FOR_EACH_N(JIT_WGMMA_E4M3)
#undef JIT_WGMMA_E4M3

// bf16 x bf16 and f16 x f16 -> f32, k16, both K-major (for the 16-bit SM90 family).
template <int N> struct WgmmaBF16;
#define JIT_WGMMA_BF16(N, R) JIT_WGMMA_SS(WgmmaBF16, N, R, 16, "bf16.bf16", ", 1, 1, 0, 0")
JIT_WGMMA_FOR_EACH_N(JIT_WGMMA_BF16)
#undef JIT_WGMMA_BF16

template <int N> struct WgmmaF16;
#define JIT_WGMMA_F16(N, R) JIT_WGMMA_SS(WgmmaF16, N, R, 16, "f16.f16", ", 1, 1, 0, 0")
JIT_WGMMA_FOR_EACH_N(JIT_WGMMA_F16)
#undef JIT_WGMMA_F16

}  // namespace jit::ptx
