// The A-scale layout helper (jit::transpose_a_scales, runtime/scales.cpp): row-major
// [G][rows][kb] scales to the M-major [G][kb][ld_out] layout the FP8 kernels TMA-load, with the
// padding rows [rows, ld_out) zeroed. A plain 32 x 32 shared-memory transpose, grid-stride over
// tiles so that any size fits the grid.
#pragma once

#include <jit/util/transpose_scales_params.cuh>

namespace jit::util {

// Block: TILE x 8 threads. Tile t covers rows [r0, r0 + TILE) of `out` (padding included) and
// K blocks [c0, c0 + TILE) of one group.
template <int TILE>
__global__ void __launch_bounds__(TILE * 8) transpose_scales_kernel(const TransposeScalesParams p) {
  __shared__ float tile[TILE][TILE + 1];  // +1: no bank conflicts on the transposed read
  const i64 row_tiles = (p.ld_out + TILE - 1) / TILE, col_tiles = (p.kb + TILE - 1) / TILE;
  const i64 tiles = row_tiles * col_tiles * p.groups;
  for (i64 t = blockIdx.x; t < tiles; t += gridDim.x) {
    const i64 g = t / (row_tiles * col_tiles), rest = t % (row_tiles * col_tiles);
    const i64 r0 = (rest / col_tiles) * TILE, c0 = (rest % col_tiles) * TILE;
    const float* in = p.in + g * p.batch_in;
    float* out = p.out + g * p.batch_out;
    // Coalesced along K blocks: tile[r][c] = in[r0 + r][c0 + c] (0 for padding rows).
    for (int r = threadIdx.y; r < TILE; r += 8) {
      const i64 row = r0 + r, col = c0 + threadIdx.x;
      tile[r][threadIdx.x] = (row < p.rows && col < p.kb) ? in[row * p.ld_in + col] : 0.f;
    }
    __syncthreads();
    // Coalesced along rows: out[c0 + c][r0 + r] = tile[r][c].
    for (int c = threadIdx.y; c < TILE; c += 8) {
      const i64 col = c0 + c, row = r0 + threadIdx.x;
      if (col < p.kb && row < p.ld_out) out[col * p.ld_out + row] = tile[threadIdx.x][c];
    }
    __syncthreads();
  }
}

}  // namespace jit::util
