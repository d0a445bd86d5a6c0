// The sm80 family's tile configs and heuristics, exposed for tests and tools (the family itself is
// registered in runtime/families.cpp). Kernel: kernel_src/jit/sm80/gemm.cuh.
#pragma once

#include <span>
#include <string>

#include "jit/runtime.hpp"
#include "runtime/family.hpp"
#include "jit/sm80/params.cuh"

namespace jit::detail::sm80_gemm {

// The template constants of one kernel besides dtypes and layout. The printable form is also the
// forced-config syntax: "BLOCK_M=128,BLOCK_N=256,BLOCK_K=32,WARPS_M=2,WARPS_N=4,STAGES=4,...";
// fields left out of a forced config keep the heuristics' choice (L2_HINTS is printed when 1).
struct TileConfig {
  int block_m = 0, block_n = 0, block_k = 0;
  int warps_m = 0, warps_n = 0;
  int stages = 0;
  int ctas_per_sm = 1;  // __launch_bounds__ minimum: the registers allow this many CTAs per SM
  int swizzle_n = 8;    // scheduler band width in N blocks (L2 reuse)
  int overlap = 0;      // 1: own epilogue smem, the next tile's loads overlap this tile's stores
  int split_k = 1;      // > 1 (dense): up to this many CTAs per tile of the last partial wave (all
                        // tiles when fewer than CTAs), each over a share of K, summed in a workspace
  int l2_hints = 0;     // 1: the launch makes B's L2 lines evict first (l2_hints_for, stream_window)
  bool operator==(const TileConfig&) const = default;
};

std::string to_string(const TileConfig& c);

// Every config the heuristics may choose, on any device and problem.
std::span<const TileConfig> candidate_configs();

// Why `c` cannot run `p` on `dev` (divisibility, loader shape, shared memory, registers, layout),
// or an empty string when it can.
std::string check_config(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// CTAs of `c` resident per SM on `dev` (shared memory, threads and the launch bounds); 0: none fit.
int occupancy(const TileConfig& c, const DeviceSpec& dev);

// The heuristics' estimate of the kernel's run time in SM clock cycles (see sm80_gemm.cpp).
double estimate_cycles(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// The persistent grid of `c` for `p` on `dev`, and (SPLIT_K > 1) which tiles it splits in how
// many parts -- what the kernel derives from its grid size (sm80::split_plan_for).
struct GridPlan {
  std::int64_t grid = 1;
  sm80::SplitPlan split;  // dense with SPLIT_K > 1 only; else every tile whole
};
GridPlan grid_plan(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// Bytes of workspace `c` needs for `p` on `dev` (split tiles only; 0 otherwise).
std::int64_t workspace_bytes(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// The candidate with the smallest estimate among those check_config accepts; without `split_ok`,
// among those that need no workspace. L2_HINTS is the rule's (l2_hints_for) for that tile.
TileConfig choose_tile(const ProblemDesc& p, const DeviceSpec& dev, bool split_ok = true);

// Under L2_HINTS=1, the launch's access policy window: B's bytes this call reads (every expert),
// up to the device's largest window, with the streaming property (evict first). cp.async has no
// usable per-copy hint (ptx/cp_async.cuh), so this stands in for the SM90 TMA hints' B half.
// Sets d.stream_base/stream_bytes; leaves them empty without hints or windows.
void stream_window(const TileConfig& c, const GroupedGemmArgs& g, const DeviceSpec& dev, LaunchDims& d);

}  // namespace jit::detail::sm80_gemm
