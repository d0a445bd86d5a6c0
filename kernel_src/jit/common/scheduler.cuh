// The persistent tile scheduler shared by every fast family: one grid of (at most) one CTA per SM
// walks the output tiles of all experts, for every layout, skipping padding and empty experts.
//
// Tile order, within one expert (or the dense problem): N blocks are taken in bands of SWIZZLE_N;
// inside a band the walk goes m-block by m-block over the band's n-blocks. The CTAs running at the
// same time then share a few B column panels and A row panels, which stay in L2.
//
// Experts are visited in order; each CTA walks forward only (tile indices grow by gridDim.x), so
// finding the expert of a tile costs O(G) reads per CTA in total, never a search per tile.
#pragma once

#include <jit/common/layout.cuh>
#include <jit/types.hpp>

namespace jit {

struct Tile {
  int group;    // expert
  int m_block;  // block index within the expert's rows (dense/indices: within all rows)
  int n_block;
  int row0;     // first row: a row of A/D (dense, contiguous), a row within the group (masked)
  int rows;     // rows from row0 that belong to the tile's expert (<= BLOCK_M; may be fewer)
};

// Upper bound on the tiles of a problem, for the host's grid size (see scheduler_grid_tiles).
constexpr i64 scheduler_max_tiles(Layout l, i64 m, i64 n, int num_groups, int block_m, int block_n) {
  const i64 nb = (n + block_n - 1) / block_n;
  const i64 mb = (m + block_m - 1) / block_m;
  if (l == Layout::contiguous_offsets) return (mb + num_groups) * nb;  // each expert may add a partial block
  if (l == Layout::masked) return num_groups * mb * nb;
  return mb * nb;
}

template <Layout L, int BLOCK_M, int BLOCK_N, int SWIZZLE_N>
class TileScheduler {
  static_assert(BLOCK_M > 0 && BLOCK_N > 0 && SWIZZLE_N > 0, "bad scheduler constants");

 public:
  // m: total rows (dense, contiguous) or max_m (masked). groups: m_indices, offsets or masked_m.
  // This CTA takes tiles first, first + stride, ... (by default its blockIdx.x in steps of the grid;
  // the CTAs of an SM90 split-K cluster share one sequence: first = cluster, stride = clusters).
  __device__ TileScheduler(int m, int n, int num_groups, const int* groups, int first = blockIdx.x,
                           int stride = gridDim.x)
      : m_(m), num_groups_(num_groups), groups_(groups), n_blocks_((n + BLOCK_N - 1) / BLOCK_N),
        stride_(stride), next_tile_(first) {
    if constexpr (L == Layout::dense || L == Layout::contiguous_indices) {
      group_rows_ = m;
      group_tiles_ = ((m + BLOCK_M - 1) / BLOCK_M) * n_blocks_;
    } else {
      load_group(0, 0);
    }
  }

  // The next tile of this CTA, or false when the CTA is done.
  __device__ bool next(Tile& t) {
    for (;;) {
      const int tile = next_tile_;
      if constexpr (L == Layout::dense || L == Layout::contiguous_indices) {
        if (tile >= group_tiles_) return false;
        next_tile_ += stride_;
        place(tile, t);
        t.group = 0;
        t.row0 = t.m_block * BLOCK_M;
        t.rows = min(BLOCK_M, m_ - t.row0);
        if constexpr (L == Layout::contiguous_indices) {
          // Experts start on multiples of the alignment, so a tile whose first row is padding is
          // all padding: skip it without any MMA.
          t.group = group_of_row_by_index(groups_, t.row0, num_groups_);
          if (t.group < 0) continue;
        }
        return true;
      } else {
        // Advance to the expert that holds `tile` (experts with no rows have no tiles).
        while (tile >= tiles_before_ + group_tiles_) {
          if (group_ + 1 >= num_groups_) return false;
          load_group(group_ + 1, tiles_before_ + group_tiles_);
        }
        next_tile_ += stride_;
        place(tile - tiles_before_, t);
        t.group = group_;
        t.row0 = group_row0_ + t.m_block * BLOCK_M;
        t.rows = min(BLOCK_M, group_row0_ + group_rows_ - t.row0);
        return true;
      }
    }
  }

  // Added for the SM90 cluster pairs (sm90/cluster_scheduler.cuh), next() is unchanged: the tile
  // with index `tile`, whatever CTA runs it, or false past the last tile. Indices must not
  // decrease between calls (the expert walk only goes forward). Padding tiles are returned, with
  // t.group = -1, so that two CTAs can walk one sequence in lockstep.
  __device__ bool at(int tile, Tile& t) {
    if constexpr (L == Layout::dense || L == Layout::contiguous_indices) {
      if (tile >= group_tiles_) return false;
      place(tile, t);
      t.group = 0;
      t.row0 = t.m_block * BLOCK_M;
      t.rows = min(BLOCK_M, m_ - t.row0);
      if constexpr (L == Layout::contiguous_indices)
        t.group = group_of_row_by_index(groups_, t.row0, num_groups_);
      return true;
    } else {
      while (tile >= tiles_before_ + group_tiles_) {
        if (group_ + 1 >= num_groups_) return false;
        load_group(group_ + 1, tiles_before_ + group_tiles_);
      }
      place(tile - tiles_before_, t);
      t.group = group_;
      t.row0 = group_row0_ + t.m_block * BLOCK_M;
      t.rows = min(BLOCK_M, group_row0_ + group_rows_ - t.row0);
      return true;
    }
  }

  // Dense and m_indices (global m-blocks): the blocks of the problem, and the index of the tile
  // at (m_block, n_block) in the walk -- the inverse of place().
  __device__ int m_blocks() const { return (group_rows_ + BLOCK_M - 1) / BLOCK_M; }
  __device__ int n_blocks() const { return n_blocks_; }
  __device__ int index_of(int m_block, int n_block) const {
    const int band = n_block / SWIZZLE_N, width = min(SWIZZLE_N, n_blocks_ - band * SWIZZLE_N);
    return band * SWIZZLE_N * m_blocks() + m_block * width + (n_block - band * SWIZZLE_N);
  }

  // Whether row `row` (as in Tile::row0) of tile `t` is written. Rows past t.rows never are; in the
  // indices layout a padding row (-1, or another expert's id) inside the tile is not either.
  __device__ bool row_valid(const Tile& t, int row) const {
    if (row >= t.row0 + t.rows) return false;
    if constexpr (L == Layout::contiguous_indices) return groups_[row] == t.group;
    return true;
  }

 private:
  __device__ void place(int tile, Tile& t) const {
    const int m_blocks = (group_rows_ + BLOCK_M - 1) / BLOCK_M;
    const int band_tiles = SWIZZLE_N * m_blocks;
    const int band = tile / band_tiles;
    const int in_band = tile - band * band_tiles;
    const int width = min(SWIZZLE_N, n_blocks_ - band * SWIZZLE_N);
    t.m_block = in_band / width;
    t.n_block = band * SWIZZLE_N + in_band % width;
  }

  __device__ void load_group(int g, int tiles_before) {
    group_ = g;
    tiles_before_ = tiles_before;
    if constexpr (L == Layout::masked) {
      group_row0_ = 0;
      group_rows_ = masked_rows(groups_, g, m_);
    } else {  // contiguous_offsets: running maximum of the clamped ends (layout.cuh)
      group_row0_ = g == 0 ? 0 : group_end_;
      group_end_ = max(group_row0_, clamp_rows(groups_[g], m_));
      group_rows_ = group_end_ - group_row0_;
    }
    group_tiles_ = ((group_rows_ + BLOCK_M - 1) / BLOCK_M) * n_blocks_;
  }

  int m_, num_groups_;
  const int* groups_;
  int n_blocks_;
  int stride_;
  int next_tile_;
  int group_ = 0, tiles_before_ = 0, group_tiles_ = 0;
  int group_row0_ = 0, group_rows_ = 0, group_end_ = 0;
};

}  // namespace jit
