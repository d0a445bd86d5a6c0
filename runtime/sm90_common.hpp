// Host-side pieces every SM90 family's heuristics and launch share: tiles the model plans for, the
// persistent grid, the scheduler's band width and int range, and what a launch passes about the
// experts (the expert-size statistics all families use: runtime/expert_rows.hpp).
// (The FP8 model plans its tiles with their variance as well: plan_tiles in runtime/sm90_fp8_gemm.cpp.)
#pragma once

#include <cstdint>
#include <string>

#include "jit/gemm.hpp"
#include "jit/runtime.hpp"
#include "runtime/choice_memo.hpp"

namespace jit::detail::sm90_common {

// Tiles of block_m x block_n the problem is expected to have (padding and per-expert partial
// blocks estimated from the planned rows), and the scheduler's upper bound (scheduler_max_tiles in
// kernel_src/jit/common/scheduler.cuh, device code).
double planned_tiles(const ProblemDesc& p, int block_m, int block_n);
double max_tiles(const ProblemDesc& p, int block_m, int block_n);

// Scheduler band width in N blocks: the tiles running at the same time (one per SM) cover about
// SWIZZLE_N column blocks and num_sms / SWIZZLE_N row blocks; the width that touches the fewest
// operand rows (8 or 16; both even, for cluster pairs).
int swizzle_for(int block_m, int block_n, int num_sms = 132);

// CTAs to launch for `units` of work (one per CTA at a time: a tile, or one K split of a tile):
// the persistent grid, balanced over the waves the units need (as few CTAs as give the same number
// of waves), a multiple of the `cluster` size; every SM for the masked layout, whose tile count is
// device data.
int persistent_grid(double units, const DeviceSpec& dev, int cluster, bool masked);

// The grid of the 16-bit family: the planned tiles (capped by the scheduler's bound), `split` units
// each, in clusters of `split` x `cluster` CTAs (K splits or multicast pairs).
int grid_size(const ProblemDesc& p, const DeviceSpec& dev, int block_m, int block_n, int split, int cluster);

// Why a cluster shape cannot run (an empty string when it can): CLUSTER 1 or 2; SHARE_B 0 or 1, and 1
// only for pairs; pairs (CLUSTER=2) are not split-K clusters; pairs of consecutive tiles (A pairs)
// share an m-block only if the scheduler's bands have an even width; a pair needs two SMs.
std::string check_cluster(int cluster, int split, int swizzle_n, int share_b, const DeviceSpec& dev);

// The rows of A and of B one CTA loads per stage, which are also the TMA maps' boxes: a pair
// (cluster = 2) loads half of the operand it shares -- A, or B with share_b -- (a multicast half, or
// half of a tile it loads in two) and the other whole.
struct OperandBoxes {
  int a_rows, b_rows;
};
constexpr OperandBoxes operand_boxes(int block_m, int block_n, int cluster, bool share_b) {
  return share_b ? OperandBoxes{block_m, block_n / 2} : OperandBoxes{block_m / cluster, block_n};
}

// Throws Unsupported when the scheduler's int tile indices could overflow.
void check_tile_range(const ProblemDesc& p, const DeviceSpec& dev, int block_m, int block_n, int swizzle_n,
                      const char* family);


}  // namespace jit::detail::sm90_common
