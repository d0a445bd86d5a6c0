// The SM90 view of the shared tile scheduler (common/scheduler.cuh): without a cluster it is the
// scheduler itself; with a 2-CTA cluster both CTAs walk the same sequence of tile PAIRS in
// lockstep, so that their pipelines (which exchange barrier arrivals) stay in step, and each pair
// says whether the two tiles may share their A tile through TMA multicast.
#pragma once

#include <jit/common/scheduler.cuh>

namespace jit::sm90 {

// What one CTA does in one scheduling step.
struct Step {
  Tile tile;
  bool valid;        // false: a null step (no tile for this CTA, or a padding tile); the
                     // pipeline still turns (the peer may be working) but nothing is computed
  bool multicast_a;  // both CTAs of the pair compute the same rows of the same expert: each loads
                     // half of the A tile and multicasts it to both
};

// SPLIT > 1 (split-K, sm90/split_k.cuh): the SPLIT CTAs of a cluster all take the same tiles, each
// for its share of K: the cluster is the scheduler's unit (first = cluster index, stride = clusters).
template <Layout L, int BLOCK_M, int BLOCK_N, int SWIZZLE_N, int CLUSTER, int SPLIT = 1>
class ClusterScheduler {
  static_assert(CLUSTER == 1 || CLUSTER == 2, "clusters of 1 or 2 CTAs");
  static_assert(CLUSTER == 1 || SPLIT == 1, "multicast pairs or split-K clusters, not both");
  static_assert(CLUSTER == 1 || SWIZZLE_N % 2 == 0,
                "pairs of consecutive tiles share an m-block only if the bands have even width");

 public:
  __device__ ClusterScheduler(int m, int n, int num_groups, const int* groups, u32 rank)
      : base_(m, n, num_groups, groups, static_cast<int>(blockIdx.x) / SPLIT, static_cast<int>(gridDim.x) / SPLIT),
        rank_(rank), pair_tile_(static_cast<int>(blockIdx.x) & ~(CLUSTER - 1)) {}

  // The next step of this CTA, or false when the CTA (and, with a cluster, its peer) is done.
  __device__ bool next(Step& s) {
    if constexpr (CLUSTER == 1) {
      s.valid = true;
      s.multicast_a = false;
      return base_.next(s.tile);  // padding tiles are skipped outright
    } else {
      // Tiles 2q and 2q+1 of the global order go to ranks 0 and 1 of cluster q (the grid is a
      // multiple of 2, so pair bases advance by gridDim.x). Both CTAs decode both tiles, in
      // increasing order, and reach the same decisions.
      Tile t0, t1;
      if (!base_.at(pair_tile_, t0)) return false;
      const bool has1 = base_.at(pair_tile_ + 1, t1);
      pair_tile_ += static_cast<int>(gridDim.x);
      const bool ok0 = t0.group >= 0, ok1 = has1 && t1.group >= 0;
      s.multicast_a = ok0 && ok1 && t0.group == t1.group && t0.m_block == t1.m_block;
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
