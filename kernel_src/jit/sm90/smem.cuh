// Shared-memory layout of the SM90 FP8 GEMM, as one struct. Plain C++: the host includes it too,
// to size the pipeline (stages) from the device's opt-in limit with the kernel's own sizeof.
#pragma once

#include <jit/types.hpp>

namespace jit::sm90 {

// K per pipeline stage: one 128-byte swizzle row of e4m3, and exactly one scale block, so the
// two-level promotion happens once per stage.
constexpr int kBlockK = 128;

// Threads of the FP8 GEMM: one producer warpgroup plus one consumer warpgroup per 64 rows of
// BLOCK_M = 64, or two for larger tiles (each then owns BLOCK_M / 2 rows in waves of 64).
constexpr int fp8_math_threads(int block_m) { return block_m == 64 ? 128 : 256; }
constexpr int fp8_threads(int block_m) { return fp8_math_threads(block_m) + 128; }
// setmaxnreg budgets with two consumer warpgroups: 128 x 40 + 256 x 232 = 64512 <= 65536.
constexpr int kFp8ProducerRegs = 40;
constexpr int kFp8ConsumerRegs = 232;

constexpr int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }
// A BLOCK_N tile starts at a multiple of BLOCK_N, hence at a multiple of gcd(BLOCK_N, 128) inside
// its 128-wide B scale block; it spans at most two scale blocks iff BLOCK_N <= 128 or
// BLOCK_N - 128 == gcd(BLOCK_N, 128) (144, 160, 192, 256), which the promotion relies on.
constexpr bool fp8_block_n_ok(int block_n) {
  return block_n % 16 == 0 && block_n >= 16 && block_n <= 256 &&
         (block_n <= kBlockK || block_n - kBlockK == gcd(block_n, kBlockK));
}

// The output tile is staged in shared memory as BLOCK_N / chunk column chunks of BLOCK_M rows,
// each chunk `swizzle` bytes wide and swizzled the way TMA swizzles (so one TMA store per chunk
// and conflict-free stmatrix). The widest swizzle that divides a row of the tile is used.
constexpr int d_swizzle_bytes(int block_n) {
  return (block_n * 2) % 128 == 0 ? 128 : (block_n * 2) % 64 == 0 ? 64 : 32;
}

// The TMA swizzle of a byte offset inside a buffer aligned to the pattern's period: 16-byte unit
// bits [4, 4+b) are XORed with bits [7, 7+b), b = log2(swizzle / 16) (CUTLASS's Swizzle<b,4,3>).
constexpr u32 tma_swizzle(u32 offset, int swizzle_bytes) {
  return offset ^ (((offset >> 7) & static_cast<u32>(swizzle_bytes / 16 - 1)) << 4);
}

template <int BLOCK_M, int BLOCK_N, int STAGES>
struct Fp8SharedStorage {
  static constexpr int kABytes = BLOCK_M * kBlockK;  // e4m3: one byte per element
  static constexpr int kBBytes = BLOCK_N * kBlockK;
  static constexpr int kDBytes = BLOCK_M * BLOCK_N * 2;

  // Swizzled tiles start on 1024-byte boundaries: the 128-byte swizzle pattern (TMA and the wgmma
  // descriptors alike) repeats every 8 rows of 128 bytes and is anchored at such boundaries.
  alignas(1024) unsigned char d[kDBytes];
  alignas(1024) unsigned char a[STAGES][kABytes];
  alignas(1024) unsigned char b[STAGES][kBBytes];
  alignas(128) float sfa[STAGES][BLOCK_M];  // a TMA destination: 128-byte aligned
  alignas(8) u64 full[STAGES];
  alignas(8) u64 empty[STAGES];
  alignas(8) u64 tile_full[2];  // the TileInfo ring (sm90/pipeline.cuh)
  alignas(8) u64 tile_empty[2];
  alignas(16) int tiles[2][6];  // TileInfo

  static_assert(kDBytes % 1024 == 0 && kABytes % 1024 == 0 && kBBytes % 1024 == 0,
                "every stage of a swizzled tile must keep the next one 1024-byte aligned");
  static_assert((BLOCK_M * 4) % 128 == 0, "each stage's A scales must stay 128-byte aligned");
};

}  // namespace jit::sm90
