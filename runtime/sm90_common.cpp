#include "runtime/sm90_common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "jit/errors.hpp"
#include "runtime/expert_rows.hpp"

namespace jit::detail::sm90_common {

using expert_rows::planned_rows;

double planned_tiles(const ProblemDesc& p, int block_m, int block_n) {
  double rows = 1, groups = 1;
  planned_rows(p, &rows, &groups);
  const double nb = std::ceil(double(p.n) / block_n);
  if (p.layout == Layout::dense || p.layout == Layout::contiguous_indices) return std::ceil(double(p.m) / block_m) * nb;
  return groups * std::ceil(rows / block_m) * nb;
}

double max_tiles(const ProblemDesc& p, int block_m, int block_n) {
  const double nb = std::ceil(double(p.n) / block_n), mb = std::ceil(double(p.m) / block_m);
  if (p.layout == Layout::contiguous_offsets) return (mb + p.num_groups) * nb;
  if (p.layout == Layout::masked) return p.num_groups * mb * nb;
  return mb * nb;
}

int swizzle_for(int block_m, int block_n, int num_sms) {
  const int a8 = 8 * block_n + (num_sms + 7) / 8 * block_m, a16 = 16 * block_n + (num_sms + 15) / 16 * block_m;
  return a16 < a8 ? 16 : 8;
}

int persistent_grid(double units, const DeviceSpec& dev, int cluster, bool masked) {
  // A GPC holds whole clusters only: the H200's 132 SMs hold 66 pairs but 30 quads
  // (cuOccupancyMaxActiveClusters at 200-227 KB of shared memory), ~10/11 of the SMs for 4 and up.
  const int sms = std::max(cluster, (cluster >= 4 ? dev.num_sms * 10 / 11 : dev.num_sms) / cluster * cluster);
  if (masked) return sms;  // the tile count is device data (masked_m): every SM takes part
  units = std::max(1.0, units);
  if (units >= sms) {
    // Fewer CTAs for the same number of waves: fewer SMs pull on L2, and the clock holds up.
    const double waves = std::ceil(units / sms);
    const int need = static_cast<int>(std::ceil(units / waves));
    return std::min(sms, (need + cluster - 1) / cluster * cluster);
  }
  return std::max(cluster, static_cast<int>(std::ceil(units) + cluster - 1) / cluster * cluster);
}

int grid_size(const ProblemDesc& p, const DeviceSpec& dev, int block_m, int block_n, int split, int cluster) {
  const double tiles = std::max(1.0, std::min(max_tiles(p, block_m, block_n), planned_tiles(p, block_m, block_n)));
  return persistent_grid(tiles * split, dev, split * cluster, p.layout == Layout::masked);
}

std::string check_cluster(int cluster, int split, int swizzle_n, int share_b, const DeviceSpec& dev) {
  if (cluster != 1 && cluster != 2) return "CLUSTER must be 1 or 2";
  if (share_b != 0 && share_b != 1) return "SHARE_B must be 0 or 1";
  if (cluster == 1) return share_b ? "SHARE_B=1 needs CLUSTER=2 (it says what the pairs share)" : "";
  if (split > 1) return "CLUSTER=2 needs SPLIT_K=1 (a cluster holds multicast pairs or K splits)";
  if (!share_b && swizzle_n % 2 != 0) return "SWIZZLE_N must be even with CLUSTER=2 (pairs share an m-block)";
  if (dev.num_sms < 2) return "CLUSTER=2 needs two SMs";
  return {};
}

void check_tile_range(const ProblemDesc& p, const DeviceSpec& dev, int block_m, int block_n, int swizzle_n,
                      const char* family) {
  // The scheduler counts tiles in int; the grid adds at most its own size on top. (In double:
  // G x M blocks x N blocks can overflow 64 bits.)
  const double mb = std::ceil(double(p.m) / block_m), nb = std::ceil(double(p.n) / block_n);
  const double tiles = (mb + (p.layout == Layout::contiguous_offsets ? p.num_groups : 0)) * nb *
                       (p.layout == Layout::masked ? p.num_groups : 1);
  if (tiles + 2.0 * dev.num_sms > INT_MAX || mb * swizzle_n > INT_MAX || p.m + block_m > INT_MAX ||
      p.n + block_n > INT_MAX)
    throw Unsupported(fmt::format("jit: {}: {:.3g} tiles of {}x{} overflow the scheduler's int tile index", family,
                                  tiles, block_m, block_n));
}

}  // namespace jit::detail::sm90_common
