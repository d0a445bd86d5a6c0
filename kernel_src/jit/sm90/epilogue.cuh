// The BF16 epilogue of the SM90 GEMMs: the consumers' fp32 accumulator fragments go to a swizzled
// shared-memory tile with stmatrix, then out either by TMA stores (tiles whose every row may be
// written) or by a masked copy with 16-byte st.global (tiles with rows that must never be
// written: padding rows, rows past masked_m, rows of the next expert in the offsets layout).
#pragma once

#include <jit/ptx/sm90.cuh>
#include <jit/ptx/tma.cuh>
#include <jit/sm90/smem.cuh>

namespace jit::sm90 {

// Named barriers of the consumer warpgroups (0 is __syncthreads).
constexpr u32 kBarrierEpilogueFree = 1;   // smem tile free again (+ the all-rows-valid vote)
constexpr u32 kBarrierEpilogueReady = 2;  // smem tile complete, visible to the TMA unit

template <int BLOCK_M, int BLOCK_N>
struct OutputTile {
  static constexpr int kSwizzle = d_swizzle_bytes(BLOCK_N);  // bytes per chunk row
  static constexpr int kChunkCols = kSwizzle / 2;            // bf16 columns per chunk
  static constexpr int kChunks = BLOCK_N / kChunkCols;
  static constexpr int kPiecesPerRow = BLOCK_N / 8;          // 16-byte pieces
  static_assert(BLOCK_N % 16 == 0 && BLOCK_N % kChunkCols == 0, "BLOCK_N must be a multiple of 16");

  // Byte offset of (row, col) in the tile; col a multiple of 8 (one 16-byte unit).
  __device__ __forceinline__ static u32 offset(int row, int col) {
    const u32 raw = static_cast<u32>((col / kChunkCols) * (BLOCK_M * kSwizzle) + row * kSwizzle +
                                     (col % kChunkCols) * 2);
    return tma_swizzle(raw, kSwizzle);
  }

  // Stores one wave's fragment -- rows [row0, row0 + 64) of the tile, this warp's 16 of them --
  // as bf16. The fragment is the wgmma accumulator layout (ptx/wgmma.cuh); stmatrix.x4 takes two
  // 8-column blocks j, j+1 at once: matrices (rows 0-7, j), (rows 8-15, j), (0-7, j+1), (8-15, j+1).
  __device__ __forceinline__ static void stage(u32 tile, const float* acc, int row0, u32 warp, u32 lane) {
    const int row = row0 + static_cast<int>(warp) * 16 + static_cast<int>((lane >> 3) & 1) * 8 +
                    static_cast<int>(lane & 7);
#pragma unroll
    for (int jj = 0; jj < BLOCK_N / 16; ++jj) {
      const int col = (2 * jj + static_cast<int>(lane >> 4)) * 8;
      const float* f = acc + 8 * jj;
      ptx::stmatrix_x4(tile + offset(row, col), ptx::pack_bf16x2(f[0], f[1]), ptx::pack_bf16x2(f[2], f[3]),
                       ptx::pack_bf16x2(f[4], f[5]), ptx::pack_bf16x2(f[6], f[7]));
    }
  }

  // One thread: the TMA stores of the whole tile, columns [n0, ...) and rows [row0, ...) of the
  // output map (group `g` for 3-D maps). Rows and columns outside the map are clipped by TMA.
  template <bool kGrouped>
  __device__ __forceinline__ static void store_tma(const void* map, u32 tile, int n0, int row0, int g) {
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const u32 src = tile + static_cast<u32>(c * BLOCK_M * kSwizzle);
      if constexpr (kGrouped) ptx::tma_store_3d(map, src, n0 + c * kChunkCols, row0, g);
      else ptx::tma_store_2d(map, src, n0 + c * kChunkCols, row0);
    }
    ptx::bulk_commit_group();
  }

  // All consumer threads: copies the rows for which row_ok(r) holds (r < rows, tile-relative)
  // and the columns below n, 16 bytes at a time; consecutive threads take consecutive pieces of a
  // row so the stores coalesce.
  template <int THREADS, class RowOk>
  __device__ __forceinline__ static void store_masked(u32 tile, unsigned short* out, i64 ld, int n0, int n,
                                                      int rows, u32 tid, const RowOk& row_ok) {
    for (int idx = static_cast<int>(tid); idx < BLOCK_M * kPiecesPerRow; idx += THREADS) {
      const int r = idx / kPiecesPerRow;
      const int col = (idx - r * kPiecesPerRow) * 8;
      if (r >= rows || n0 + col >= n || !row_ok(r)) continue;
      u32 v[4];
      ptx::ld_shared_v4(tile + offset(r, col), v);
      ptx::st_global_v4(out + r * ld + n0 + col, v);
    }
  }
};

}  // namespace jit::sm90
