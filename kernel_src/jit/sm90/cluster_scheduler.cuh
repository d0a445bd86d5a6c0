// The SM90 view of the shared tile scheduler (common/scheduler.cuh): without a cluster it is the
// scheduler itself; with a 2-CTA cluster both CTAs walk the same sequence of tile PAIRS in
// lockstep, so that their pipelines (which exchange barrier arrivals) stay in step, and each pair
// says whether its two tiles may share an operand tile through TMA multicast: A (the default: two
// n-blocks of one m-block) or, with SHARE_B, B (two m-blocks of one n-block and expert).
#pragma once

#include <jit/common/scheduler.cuh>

namespace jit::sm90 {

// What one CTA does in one scheduling step.
struct Step {
  Tile tile;
  bool valid;        // false: a null step (no tile for this CTA, or a padding tile); the
                     // pipeline still turns (the peer may be working) but nothing is computed
  bool multicast;    // the pair's tiles share their A tile (same rows of the same expert) or, with
                     // SHARE_B, their B tile (same columns of the same expert): each CTA loads
                     // half of it and multicasts it to both
};

// SPLIT > 1 (split-K, sm90/split_k.cuh): the SPLIT CTAs of a cluster all take the same tiles, each
// for its share of K: the cluster is the scheduler's unit (first = cluster index, stride = clusters).
// SHARE_B (every layout): pair q is tile q of the scheduler run with 2 x BLOCK_M rows -- m-blocks 2i
// and 2i + 1 of one n-block (of one expert, or of the rows, in the scheduler's band order); rank 0
// takes the first half, rank 1 the second, a null step where that half has no rows (an expert's
// odd last block). The pair shares B when both halves are real tiles of one expert.
template <Layout L, int BLOCK_M, int BLOCK_N, int SWIZZLE_N, int CLUSTER, int SPLIT = 1, bool SHARE_B = false>
class ClusterScheduler {
  static_assert(CLUSTER == 1 || CLUSTER == 2, "clusters of 1 or 2 CTAs");
  static_assert(CLUSTER == 1 || SPLIT == 1, "multicast pairs or split-K clusters, not both");
  static_assert(CLUSTER == 1 || SHARE_B || SWIZZLE_N % 2 == 0,
                "pairs of consecutive tiles share an m-block only if the bands have even width");
  static_assert(!SHARE_B || CLUSTER == 2, "B pairs: a 2-CTA cluster");
  static constexpr int kSchedRows = SHARE_B ? 2 * BLOCK_M : BLOCK_M;  // the base scheduler's tile rows

 public:
  __device__ ClusterScheduler(int m, int n, int num_groups, const int* groups, u32 rank)
      : base_(m, n, num_groups, groups, static_cast<int>(blockIdx.x) / SPLIT, static_cast<int>(gridDim.x) / SPLIT),
        groups_(groups), num_groups_(num_groups), rank_(rank),
        pair_tile_(static_cast<int>(blockIdx.x) & ~(CLUSTER - 1)) {}

  // The next step of this CTA, or false when the CTA (and, with a cluster, its peer) is done.
  __device__ bool next(Step& s) {
    if constexpr (CLUSTER == 1) {
      s.valid = true;
      s.multicast = false;
      return base_.next(s.tile);  // padding tiles are skipped outright
    } else {
      // Pair q = pair_tile_ / 2 goes to cluster q (the grid is a multiple of 2, so pairs advance by
      // gridDim.x / 2). Both CTAs decode both tiles and reach the same decisions.
      Tile t0, t1;
      bool has1;
      if constexpr (SHARE_B) {
        // The pair's 2 x BLOCK_M rows, split in two tiles.
        Tile pair;
        if (!base_.at(pair_tile_ / 2, pair)) return false;
        t0 = pair;
        t0.m_block = 2 * pair.m_block;
        t0.rows = min(BLOCK_M, pair.rows);
        has1 = pair.rows > BLOCK_M;
        t1 = t0;
        t1.m_block = t0.m_block + 1;
        t1.row0 = pair.row0 + BLOCK_M;
        t1.rows = pair.rows - BLOCK_M;
        if constexpr (L == Layout::contiguous_indices) {
          // Experts start on multiples of the alignment (>= BLOCK_M, not 2 x BLOCK_M): the second
          // half may be padding, or the next expert.
          if (has1) t1.group = group_of_row_by_index(groups_, t1.row0, num_groups_);
        }
      } else {
        if (!base_.at(pair_tile_, t0)) return false;
        has1 = base_.at(pair_tile_ + 1, t1);
      }
      pair_tile_ += static_cast<int>(gridDim.x);
      const bool ok0 = t0.group >= 0, ok1 = has1 && t1.group >= 0;
      s.multicast = ok0 && ok1 && t0.group == t1.group &&
                    (SHARE_B ? t0.n_block == t1.n_block : t0.m_block == t1.m_block);
      if (rank_ == 0 || !has1) {
        s.tile = t0;
        s.valid = rank_ == 0 && ok0;
      } else {
        s.tile = t1;
        s.valid = ok1;
      }
      return true;
    }
  }

  __device__ bool row_valid(const Tile& t, int row) const { return base_.row_valid(t, row); }

 private:
  TileScheduler<L, kSchedRows, BLOCK_N, SWIZZLE_N> base_;
  const int* groups_;
  int num_groups_;
  u32 rank_;
  int pair_tile_;
};

}  // namespace jit::sm90
