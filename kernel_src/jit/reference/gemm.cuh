// The reference GEMM: one thread per output element, fp32 accumulation (int32 for s8), every dtype,
// layout and scale kind. Obviously correct rather than fast: the oracle for every other family.
//
// Accumulation follows the scaled recipes: with a 1x128 or 128x128 scale, each 128-wide K block is
// summed on its own and then added times its scales (the two-level accumulation of the FP8 kernels);
// row/column scales multiply the finished sum.
#pragma once

#include <jit/common/layout.cuh>
#include <jit/common/numeric.cuh>
#include <jit/reference/params.cuh>

namespace jit::reference {

template <DType T> struct Product { using type = float; };
template <> struct Product<DType::s8> { using type = int; };

template <DType T>
__device__ __forceinline__ typename Product<T>::type mul(storage_t<T> x, storage_t<T> y) {
  if constexpr (T == DType::s8) return static_cast<int>(x) * static_cast<int>(y);
  else return to_float(x) * to_float(y);
}

template <DType A, DType D, Layout L, ScaleKind SA, ScaleKind SB, bool HAS_C, DType C>
__global__ void __launch_bounds__(kTileM * kTileN) gemm_kernel(const Params p) {
  using TA = storage_t<A>;
  // Rows on grid.x (up to 2^31 blocks), columns on grid.y, groups (masked) on grid.z.
  const int col = blockIdx.y * kTileN + threadIdx.x;
  const int row = blockIdx.x * kTileM + threadIdx.y;
  if (col >= p.n || row >= p.m) return;

  // Which expert this row multiplies with; padding and masked-off rows are never written.
  int g = 0;
  if constexpr (L == Layout::contiguous_indices) g = group_of_row_by_index(p.groups, row, p.num_groups);
  if constexpr (L == Layout::contiguous_offsets) g = group_of_row_by_offsets(p.groups, row, p.num_groups, p.m);
  if constexpr (L == Layout::masked) {
    g = blockIdx.z;
    if (row >= masked_rows(p.groups, g, p.m)) return;
  }
  if (g < 0) return;
  const i64 batch = L == Layout::masked ? g : 0;  // A, C, D and A's scales are batched only if masked

  const TA* a = static_cast<const TA*>(p.a) + batch * p.batch_a + row * p.lda;
  const TA* b = static_cast<const TA*>(p.b) + g * p.batch_b + col * p.ldb;

  constexpr bool kBlockScaled = SA == ScaleKind::block_1x128 || SB == ScaleKind::block_128x128;
  const int block_k = kBlockScaled ? kScaleBlock : p.k;
  constexpr int kVec = 16 / sizeof(TA);  // K is a multiple of this: rows are 16-byte aligned

  float acc = 0.f;
  for (int k0 = 0; k0 < p.k; k0 += block_k) {
    const int k1 = min(k0 + block_k, p.k);
    typename Product<A>::type part = 0;
    for (int k = k0; k < k1; k += kVec) {
      const uint4 va = *reinterpret_cast<const uint4*>(a + k);
      const uint4 vb = *reinterpret_cast<const uint4*>(b + k);
      const TA* ea = reinterpret_cast<const TA*>(&va);
      const TA* eb = reinterpret_cast<const TA*>(&vb);
#pragma unroll
      for (int i = 0; i < kVec; ++i) part += mul<A>(ea[i], eb[i]);
    }
    float s = 1.f;
    const int kb = k0 / kScaleBlock;
    if constexpr (SA == ScaleKind::block_1x128) s *= p.sfa[batch * p.sfa_batch + kb * p.sfa_ld + row];
    if constexpr (SB == ScaleKind::block_128x128)
      s *= p.sfb[g * p.sfb_batch + (col / kScaleBlock) * p.sfb_ld + kb];
    acc += static_cast<float>(part) * s;
  }
  if constexpr (SA == ScaleKind::per_row) acc *= p.sfa[batch * p.sfa_batch + row];
  if constexpr (SB == ScaleKind::per_col) acc *= p.sfb[g * p.sfb_batch + col];
  if constexpr (HAS_C) acc += to_float(static_cast<const storage_t<C>*>(p.c)[batch * p.batch_c + row * p.ldc + col]);
  static_cast<storage_t<D>*>(p.d)[batch * p.batch_d + row * p.ldd + col] = from_float<D>(acc);
}

}  // namespace jit::reference
