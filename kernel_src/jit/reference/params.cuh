// Parameters of the reference GEMM. Plain C++: the host runtime includes this header too, so both
// sides agree on the layout by construction.
#pragma once

#include <jit/types.hpp>

namespace jit::reference {

struct Params {
  const void* a;
  const void* b;
  const void* c;  // optional accumulator input (HAS_C)
  void* d;
  const float* sfa;
  const float* sfb;
  const int* groups;  // m_indices, group_offsets or masked_m, by layout
  i64 lda, ldb, ldc, ldd;
  i64 batch_a, batch_b, batch_c, batch_d;  // elements between groups (masked A/C/D; B always)
  i64 sfa_ld, sfa_batch, sfb_ld, sfb_batch;
  int m, n, k, num_groups;
};

constexpr int kTileM = 16, kTileN = 16;  // one thread per output element

}  // namespace jit::reference
