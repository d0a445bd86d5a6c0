// The sm90 16-bit family's tile configs and heuristics, exposed for tests and tools (the family is
// registered in runtime/families.cpp as "sm90_bf16", Family::sm90). Kernel:
// kernel_src/jit/sm90/bf16_gemm.cuh.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "jit/runtime.hpp"
#include "runtime/tma.hpp"

namespace jit::detail::sm90_bf16_gemm {

// The template constants of one kernel besides dtypes and layout. The printable form is also the
// forced-config syntax: "BLOCK_M=128,BLOCK_N=256,STAGES=3,SWIZZLE_N=8[,SPLIT_K=2][,CLUSTER=2[,SHARE_B=1]]". Fields left out of a
// forced config keep the heuristics' choice; a new tile shape without STAGES gets the deepest
// pipeline that fits.
struct TileConfig {
  int block_m = 0, block_n = 0;
  int stages = 0;
  int swizzle_n = 8;  // scheduler band width in N blocks (L2 reuse)
  int split = 1;      // > 1: split-K over a cluster of `split` CTAs (sm90/split_k.cuh)
  int cluster = 1;    // 2: tile pairs multicast their shared A tiles (sm90/bf16_gemm.cuh); needs split = 1
  int share_b = 0;    // 1 (with cluster = 2): the pairs are two m-blocks sharing their B tile instead
  int l2_hints = 0;   // 1: A loads evict last, B loads first (l2_hints_for)
  bool operator==(const TileConfig&) const = default;
};

std::string to_string(const TileConfig& c);

// The dynamic shared memory of a config (the kernel's own sizeof; an fp32 D needs no staging
// tile), and the deepest pipeline that fits `smem_optin` bytes (capped; 0 if none fits).
int smem_bytes(int block_m, int block_n, DType d, int stages, int split = 1);
int max_stages(int block_m, int block_n, DType d, int smem_optin, int split = 1);

// Every config the heuristics may choose for `layout` and output type `d` on a device with
// `smem_optin` bytes of shared memory per block (default: the H100/H200's 227 KB).
std::span<const TileConfig> candidate_configs(Layout layout, DType d, int smem_optin = 232448);

// Why `c` cannot run `p` on `dev` (block sizes, registers, shared memory, layout rules), or an
// empty string when it can.
std::string check_config(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// The heuristics' estimate of the kernel's run time in SM clock cycles (model in the .cpp).
double estimate_cycles(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// The candidate with the smallest estimate among those check_config accepts.
TileConfig choose_tile(const ProblemDesc& p, const DeviceSpec& dev);

// CTAs launched: the persistent grid, balanced over the waves the tiles need.
int grid_size(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev);

// The TMA maps of a launch for normalized arguments, before encoding: a, b, and d when D is
// 16-bit (an fp32 D is written with plain stores).
std::vector<TmaDesc> tensor_maps(const TileConfig& c, const GroupedGemmArgs& g);

}  // namespace jit::detail::sm90_bf16_gemm
