// Parameters and shared-memory sizing of the sm80 GEMM (cp.async + ldmatrix + mma.sync). Plain
// C++: the host runtime includes this header too, so launch code, the smem opt-in and the kernel's
// SharedStorage agree by construction (the kernel static_asserts its sizeof against smem_bytes).
#pragma once

#include <jit/types.hpp>

namespace jit::sm80 {

using u16 = unsigned short;  // raw bf16/fp16 bits: the operands are only moved, never converted

struct Params {
  const void* a;  // bf16/fp16, K-major; masked: [G][m][K]
  const void* b;  // [G][N][K]
  const void* c;  // optional accumulator input (HAS_C), D's shape, fp32 or D's dtype
  void* d;
  const int* groups;  // m_indices, group_offsets or masked_m, by layout; null for dense
  i64 lda, ldb, ldc, ldd;                  // elements between rows
  i64 batch_a, batch_b, batch_c, batch_d;  // elements between groups (A/C/D: masked only)
  int m, n, k, num_groups;                 // m: total rows, or max_m when masked
  // SPLIT_K > 1: counters and partial sums (split_k.cuh, split_workspace_bytes); else null. One
  // pointer: at 136 bytes of Params ptxas spilled the 255-register kernels (8 bytes, 128x128).
  void* workspace;
};

// Every operand row of a stage is BLOCK_K 16-bit elements; the epilogue stages fp32 accumulators
// of one 16-row slice per warp row, padded by 8 floats so fragment stores hit distinct banks.
constexpr int kElemBytes = 2;
constexpr int kSmemAlign = 128;

constexpr int stage_bytes(int block_m, int block_n, int block_k) {
  return (block_m + block_n) * block_k * kElemBytes;
}
constexpr int epilogue_row_floats(int block_n) { return (block_n + 31) / 32 * 32 + 8; }
constexpr int epilogue_bytes(int warps_m, int block_n) {
  return warps_m * 16 * epilogue_row_floats(block_n) * 4;
}
constexpr int round_up_smem(int bytes) { return (bytes + kSmemAlign - 1) / kSmemAlign * kSmemAlign; }
// The dynamic shared memory of one CTA. The epilogue staging either reuses the pipeline's space, or
// (OVERLAP) has its own, so the next tile's first K blocks load while this tile is stored.
constexpr int smem_bytes(int block_m, int block_n, int block_k, int warps_m, int stages, bool overlap) {
  const int pipe = stages * stage_bytes(block_m, block_n, block_k);
  const int epi = epilogue_bytes(warps_m, block_n);
  return round_up_smem(overlap ? pipe + epi : (pipe > epi ? pipe : epi));
}

// Split-K (split_k.cuh): which tiles are split, and in how many parts. Host and kernel compute it
// from the same numbers (the kernel from gridDim.x), so it needs no parameter. The full waves of
// `grid` CTAs run whole tiles; the last wave's `tail` tiles are split in `parts` = SPLIT_K or fewer,
// as many as the idle CTAs of that wave can take (at least 2, else nothing is split) and never more
// than the K blocks. Fewer tiles than CTAs: every tile is split.
struct SplitPlan {
  int whole = 0;  // tiles [0, whole) unsplit; tiles [whole, tiles) split
  int parts = 1;
  int units = 0;  // whole + (tiles - whole) x parts
};
#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
__host__ __device__
#endif
constexpr SplitPlan split_plan_for(int split_k, int tiles, int grid, int num_kb) {
  const int tail = tiles % grid;
  int parts = tail == 0 ? 1 : grid / tail;
  parts = parts < split_k ? parts : split_k;
  parts = parts < num_kb ? parts : num_kb;
  if (parts < 2) return {tiles, 1, tiles};
  return {tiles - tail, parts, tiles - tail + tail * parts};
}

// The split-K workspace (split_k.cuh): a fixed region of per-tile counters, so that they stay
// where they are whatever the next call's tile count (they must be zero before the first call and
// every call leaves them zero), then the partial-sum slots of every split tile (at most SPLIT_K
// each). Split tiles are fewer than the grid's CTAs. 0 without a split.
constexpr int kSplitMaxTiles = 16384;
constexpr i64 kSplitCountersBytes = kSplitMaxTiles * 4;
constexpr i64 split_workspace_bytes(i64 split_tiles, int block_m, int block_n, int parts) {
  return parts > 1 ? kSplitCountersBytes + split_tiles * parts * block_m * block_n * 4 : 0;
}

}  // namespace jit::sm80
