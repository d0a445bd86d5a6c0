// ldmatrix (sm_75+): a warp loads 8x8 matrices of 16-bit elements from shared memory straight
// into the mma.sync fragment layout (PTX ISA, "Warp-level matrix load instruction: ldmatrix").
// Lane l supplies the address of row l % 8 of matrix l / 8; every row is 16 contiguous bytes.
#pragma once

#include <jit/types.hpp>

namespace jit::ptx {

// Four 8x8 matrices: r[i] holds matrix i, lane l getting row l / 4, elements 2(l % 4) and +1.
// For A (row-major 16x16) or B ([n][k], K-major) tiles this is exactly one m16n8k16 A fragment
// or two B fragments. "memory": it reads what cp.async wrote, so it must not move above the wait.
__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 smem_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr)
               : "memory");
}

// Two 8x8 matrices (lanes 0-15 supply the addresses): one B fragment of an n8 tile.
__device__ __forceinline__ void ldmatrix_x2(u32 (&r)[2], u32 smem_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(smem_addr)
               : "memory");
}

// The transposing variant, for operands stored MN-major (not used by the NT kernels yet).
__device__ __forceinline__ void ldmatrix_x4_trans(u32 (&r)[4], u32 smem_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr)
               : "memory");
}

}  // namespace jit::ptx
