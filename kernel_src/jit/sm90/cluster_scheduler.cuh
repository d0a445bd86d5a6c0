// The SM90 view of the shared tile scheduler (common/scheduler.cuh): without a cluster it is the
// scheduler itself; with a 2-CTA cluster both CTAs walk the same sequence of tile PAIRS in
// lockstep, so that their pipelines (which exchange barrier arrivals) stay in step, and each pair
// says whether its two tiles may share an operand tile through TMA multicast: A (the default: two
// n-blocks of one m-block) or, with SHARE_B, B (two m-blocks of one n-block).
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
// SHARE_B (dense and m_indices layouts, whose m-blocks are global): pair q holds m-blocks 2i and
// 2i + 1 of one n-block, in the scheduler's band order (bands of SWIZZLE_N n-blocks, the band's
// n-blocks for each m-block pair in turn); an odd last m-block pairs with nothing.
template <Layout L, int BLOCK_M, int BLOCK_N, int SWIZZLE_N, int CLUSTER, int SPLIT = 1, bool SHARE_B = false>
class ClusterScheduler {
  static_assert(CLUSTER == 1 || CLUSTER == 2, "clusters of 1 or 2 CTAs");
  static_assert(CLUSTER == 1 || SPLIT == 1, "multicast pairs or split-K clusters, not both");
  static_assert(CLUSTER == 1 || SHARE_B || SWIZZLE_N % 2 == 0,
                "pairs of consecutive tiles share an m-block only if the bands have even width");
  static_assert(!SHARE_B || (CLUSTER == 2 && (L == Layout::dense || L == Layout::contiguous_indices)),
                "B pairs: a 2-CTA cluster, over global m-blocks");

 public:
  __device__ ClusterScheduler(int m, int n, int num_groups, const int* groups, u32 rank)
      : base_(m, n, num_groups, groups, static_cast<int>(blockIdx.x) / SPLIT, static_cast<int>(gridDim.x) / SPLIT),
        rank_(rank), pair_tile_(static_cast<int>(blockIdx.x) & ~(CLUSTER - 1)) {}

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
        const int m_blocks = base_.m_blocks(), n_blocks = base_.n_blocks();
        const int pairs_m = (m_blocks + 1) / 2, q = pair_tile_ / 2;
        if (q >= pairs_m * n_blocks) return false;
        const int band = q / (pairs_m * SWIZZLE_N), in_band = q - band * pairs_m * SWIZZLE_N;
        const int width = min(SWIZZLE_N, n_blocks - band * SWIZZLE_N);
        const int m0 = 2 * (in_band / width), n = band * SWIZZLE_N + in_band % width;
        base_.at(base_.index_of(m0, n), t0);
        has1 = m0 + 1 < m_blocks;
        if (has1) base_.at(base_.index_of(m0 + 1, n), t1);
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
  TileScheduler<L, BLOCK_M, BLOCK_N, SWIZZLE_N> base_;
  u32 rank_;
  int pair_tile_;
};

}  // namespace jit::sm90
