// mma.sync (sm_80+): warp-level tensor-core MMA with fp32 accumulators, D = A·B + D in place
// (PTX ISA, "Warp Level Matrix Multiply-Accumulate Instructions: mma", shape m16n8k16).
// Fragment layouts (lane l, g = l / 4, t = l % 4), each register two 16-bit elements:
//   A 16x16 row-major: a0 (row g, k 2t..2t+1), a1 (row g+8), a2 (row g, k 2t+8..), a3 (row g+8, k 2t+8..)
//   B 16x8 "col" (stored [n][k]): b0 (k 2t..2t+1, col g), b1 (k 2t+8.., col g)
//   C/D 16x8 fp32: d0,d1 (row g, cols 2t, 2t+1), d2,d3 (row g+8, same cols)
// ldmatrix_x4 produces A, and B for two n8 tiles, in exactly these layouts.
#pragma once

#include <jit/types.hpp>

namespace jit::ptx {

// m16n8k16 with bf16 or fp16 inputs (T) and fp32 accumulation. Plain (non-volatile) asm: it is
// pure register math, so the compiler may schedule it freely around the fragment loads.
template <DType T>
__device__ __forceinline__ void mma_m16n8k16_f32(float (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
  static_assert(T == DType::bf16 || T == DType::fp16, "m16n8k16 takes bf16 or fp16 inputs");
  if constexpr (T == DType::bf16) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
}

}  // namespace jit::ptx
