// The sm90 FP8 family's tile configs and heuristics, exposed for tests and tools (the family is
// registered in runtime/families.cpp). Kernel: kernel_src/jit/sm90/fp8_gemm.cuh.
#pragma once

#include <array>
#include <span>
#include <string>

#include "jit/runtime.hpp"
#include "runtime/tma.hpp"

namespace jit::detail::sm90_fp8_gemm {

// The template constants of one kernel besides the layout. The printable form is also the
// forced-config syntax: "BLOCK_M=128,BLOCK_N=112,STAGES=6,CLUSTER=2,SWIZZLE_N=8,OVERLAP=1" (and
// ",SPLIT_K=n" when split > 1, ",L2_HINTS=1" and ",SHARE_B=1" when set).
struct TileConfig {
  int block_m = 0, block_n = 0;
  int stages = 0;
  int cluster = 1;     // 2: a 2-CTA cluster that multicasts shared A tiles (B tiles with share_b)
  int swizzle_n = 8;   // scheduler band width in N blocks (L2 reuse); even, for cluster pairs
  int overlap = 0;     // 1: the next stage's wgmma run while a stage is promoted (overlap_fits)
  int split = 1;       // > 1: split-K over a cluster of `split` CTAs (sm90/split_k.cuh)
  int l2_hints = 0;    // 1: A loads evict last, B loads first (l2_hints_for)
  int share_b = 0;     // 1 (with cluster = 2): the pairs are two m-blocks sharing their B tile
  bool operator==(const TileConfig&) const = default;
};

std::string to_string(const TileConfig& c);

// Whether the overlapped K loop fits a tile: one 64-row wave per consumer warpgroup and three
// BLOCK_N / 2-register accumulators within the budget (BLOCK_N <= 128).
constexpr bool overlap_fits(int block_m, int block_n) { return block_m <= 128 && block_n <= 128; }

// The deepest pipeline that fits `smem_bytes` of shared memory (capped; 0 if none fits), and the
// dynamic shared memory of a config (the kernel's own sizeof).
int max_stages(int block_m, int block_n, int smem_bytes, int split = 1);
// The heuristics' stage count for the overlapped loop: at most `max`, for a CTA's `kb` K blocks.
int round_stages(int max, i64 kb);
int smem_bytes(int block_m, int block_n, int stages, int split = 1);

// Every config the heuristics may choose for `layout` on a device with `smem_optin` bytes of
// shared memory per block (default: the H100/H200's 227 KB).
std::span<const TileConfig> candidate_configs(Layout layout, int smem_optin = 232448);

// Why `c` cannot run `p` on `dev` (block sizes, registers, shared memory, layout rules), or an
// empty string when it can.
std::string check_config(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// The heuristics' estimate of the kernel's run time in SM clock cycles (model in the .cpp).
double estimate_cycles(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// The candidate with the smallest estimate among those check_config accepts.
TileConfig choose_tile(const ProblemDesc& p, const DeviceSpec& dev);

// CTAs launched: the persistent grid, balanced over the waves the tiles need, a multiple of the
// cluster size.
int grid_size(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// The four TMA maps of a launch (a, b, a_scales, d) for normalized arguments, before encoding.
std::array<TmaDesc, 4> tensor_maps(const TileConfig& c, const GroupedGemmArgs& g);

}  // namespace jit::detail::sm90_fp8_gemm
