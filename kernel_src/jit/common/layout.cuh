// Which expert a row belongs to, per layout: the one definition every family's scheduler follows.
// Out-of-range device values never cause out-of-bounds accesses (README.md, "Layouts").
#pragma once

#include <jit/types.hpp>

namespace jit {

__device__ __forceinline__ int clamp_rows(int v, int m) { return v < 0 ? 0 : (v > m ? m : v); }

// contiguous_indices: the row's expert id, or -1 for padding (ids outside [0, G) are padding).
__device__ __forceinline__ int group_of_row_by_index(const int* m_indices, int row, int num_groups) {
  const int g = m_indices[row];
  return (g >= 0 && g < num_groups) ? g : -1;
}

// contiguous_offsets: expert g owns [end(g-1), end(g)) with end(g) the running maximum of the
// offsets clamped to [0, m] (so non-monotone offsets give empty experts, never overlaps).
// Returns -1 for rows at or past the last end.
__device__ __forceinline__ int group_of_row_by_offsets(const int* offsets, int row, int num_groups, int m) {
  int end = 0;
  for (int g = 0; g < num_groups; ++g) {
    const int e = clamp_rows(offsets[g], m);
    end = e > end ? e : end;
    if (row < end) return g;
  }
  return -1;
}

// masked: the number of valid rows of expert g, clamped to [0, max_m].
__device__ __forceinline__ int masked_rows(const int* masked_m, int g, int max_m) {
  return clamp_rows(masked_m[g], max_m);
}

}  // namespace jit
