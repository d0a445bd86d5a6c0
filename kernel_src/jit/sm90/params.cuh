// Parameters of the SM90 kernels. Plain C++ shared by the host (runtime/sm90_fp8_gemm.cpp,
// runtime/sm90_bf16_gemm.cpp) and the kernels, so both sides agree on the layout by construction.
// TensorMap is an opaque copy of the driver's CUtensorMap (same size and alignment; runtime/tma.cpp
// static_asserts it).
#pragma once

#include <jit/types.hpp>

namespace jit::sm90 {

// A TMA descriptor, built on the host by cuTensorMapEncodeTiled and passed by value inside the
// __grid_constant__ Params (the TMA unit reads it from the kernel's parameter space).
struct alignas(64) TensorMap {
  unsigned char opaque[128];
};
static_assert(sizeof(TensorMap) == 128 && alignof(TensorMap) == 64, "TensorMap must mirror CUtensorMap");

// The FP8 GEMM (sm90/fp8_gemm.cuh). Tensor maps, outermost dimension last:
//   a    e4m3 {K, M} (masked: {K, max_m, G}), box {128, BLOCK_M / multicast}, 128B swizzle
//   b    e4m3 {K, N, G}, box {128, BLOCK_N}, 128B swizzle
//   sfa  fp32 {M, ceil(K/128)} (masked: {max_m, ceil(K/128), G}), box {BLOCK_M, 1}: the M-major
//        scales of one K block for the tile's rows
//   d    bf16 {N, M} (masked: {N, max_m, G}), box {D_CHUNK, BLOCK_M}, swizzled like the smem tile
// B's 128x128 scales are read with plain loads (their row stride need not be 16-byte aligned).
struct Fp8GemmParams {
  TensorMap map_a, map_b, map_sfa, map_d;
  void* d;              // bf16 output, for the masked-store epilogue
  const float* sfb;     // [G][ceil(N/128)][sfb_ld]
  const int* groups;    // m_indices, group_offsets or masked_m, by layout
  i64 ldd, batch_d;     // elements
  i64 sfb_ld, sfb_batch;
  int m, n, k;          // m: total rows (dense, contiguous) or max_m (masked)
  int num_groups;
};

// The 16-bit GEMM (sm90/bf16_gemm.cuh), bf16 or fp16 operands. Tensor maps, outermost dimension last:
//   a    {K, M} (masked: {K, max_m, G}), box {64, BLOCK_M}, 128B swizzle
//   b    {K, N, G}, box {64, BLOCK_N}, 128B swizzle
//   d    16-bit D only: {N, M} (masked: {N, max_m, G}), box {D_CHUNK, BLOCK_M}, swizzled like the
//        smem tile (an fp32 D is written with plain stores and has no map)
// C (optional, D's shape, fp32 or D's type) is read with plain loads in the epilogue.
struct Bf16GemmParams {
  TensorMap map_a, map_b, map_d;
  void* d;
  const void* c;
  const int* groups;  // m_indices, group_offsets or masked_m, by layout
  i64 ldd, batch_d;   // elements
  i64 ldc, batch_c;
  int m, n, k;        // m: total rows (dense, contiguous) or max_m (masked)
  int num_groups;
};

}  // namespace jit::sm90
