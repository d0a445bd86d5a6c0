// Shared-memory layouts of the SM90 GEMMs (FP8 and 16-bit), one struct each, and the thread and
// register budgets they share. Plain C++: the host includes it too, to size the pipeline (stages)
// from the device's opt-in limit with the kernel's own sizeof.
#pragma once

#include <jit/types.hpp>

namespace jit::sm90 {

// K per pipeline stage: one 128-byte swizzle row of e4m3, and exactly one scale block, so the
// two-level promotion happens once per stage.
constexpr int kBlockK = 128;

// K per pipeline stage of the 16-bit GEMM: 64 bf16/fp16 elements, again one 128-byte swizzle row,
// so its A and B stages have exactly the FP8 stages' byte layout.
constexpr int kBlockK16 = 64;
constexpr int kStageRowBytes = 128;  // bytes of K per operand row in a stage, either family

// Threads of the SM90 GEMMs: one producer warpgroup plus one consumer warpgroup for BLOCK_M = 64,
// or two for larger tiles (each then owns BLOCK_M / 2 rows in waves of 64).
constexpr int math_threads(int block_m) { return block_m == 64 ? 128 : 256; }
constexpr int gemm_threads(int block_m) { return math_threads(block_m) + 128; }
// Rows of the output tile each consumer warpgroup stores on its own, one TMA box (epilogue.cuh).
constexpr int epilogue_box_rows(int block_m) { return block_m / (math_threads(block_m) / 128); }
// setmaxnreg budgets with two consumer warpgroups: 128 x 40 + 256 x 232 = 64512 <= 65536.
constexpr int kProducerRegs = 40;
constexpr int kConsumerRegs = 232;
// The FP8 family's names for the same budgets.
constexpr int fp8_math_threads(int block_m) { return math_threads(block_m); }
constexpr int fp8_threads(int block_m) { return gemm_threads(block_m); }
constexpr int kFp8ProducerRegs = kProducerRegs;
constexpr int kFp8ConsumerRegs = kConsumerRegs;

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

// Steps the producer may publish ahead of the consumers.
constexpr int kTileRing = 4;

// A-scale rows per stage beyond BLOCK_M. TMA wants the innermost coordinate of a box 16-byte
// aligned, and the A scales are M-major, so where a tile may start on any row (the offsets layout)
// the box starts at row0 rounded down to 4 and spans 4 more rows; 32 keeps stages 128-byte aligned.
constexpr int kSfaPad = 32;
constexpr int sfa_box_rows(Layout l, int block_m) { return block_m + (l == Layout::contiguous_offsets ? 4 : 0); }

// Floats of a CTA's split-K partials buffer (sm90/split_k.cuh: SPLIT - 1 slots of a whole tile;
// only rank 0's is written), and a 16-byte placeholder without split-K.
constexpr int split_partial_floats(int split, int block_m, int block_n) {
  return split > 1 ? (split - 1) * block_m * block_n : 4;
}

// The barriers of a pipeline of STAGES slots and of its TileInfo ring (sm90/pipeline.cuh, GemmSync).
template <int STAGES>
struct PipelineStorage {
  u64 full[STAGES];
  u64 empty[STAGES];
  u64 tile_full[kTileRing];
  u64 tile_empty[kTileRing];
  u64 split_full, split_empty;  // split-K partial sums (sm90/split_k.cuh)
  alignas(16) int tiles[kTileRing][8];  // TileInfo
};

template <int BLOCK_M, int BLOCK_N, int STAGES, int SPLIT = 1>
struct Fp8SharedStorage {
  static constexpr int kABytes = BLOCK_M * kBlockK;  // e4m3: one byte per element
  static constexpr int kBBytes = BLOCK_N * kBlockK;
  static constexpr int kDBytes = BLOCK_M * BLOCK_N * 2;

  // Swizzled tiles start on 1024-byte boundaries: the 128-byte swizzle pattern (TMA and the wgmma
  // descriptors alike) repeats every 8 rows of 128 bytes and is anchored at such boundaries.
  alignas(1024) unsigned char d[kDBytes];
  alignas(1024) unsigned char a[STAGES][kABytes];
  alignas(1024) unsigned char b[STAGES][kBBytes];
  alignas(128) float sfa[STAGES][BLOCK_M + kSfaPad];  // a TMA destination: 128-byte aligned
  // The stage's B scales (its K block's, for the tile's first and second 128-column scale block),
  // copied in by the producer with the stage, so that the consumers' only scale loads are ld.shared.
  alignas(16) float sfb[STAGES][4];
  alignas(16) float partials[split_partial_floats(SPLIT, BLOCK_M, BLOCK_N)];
  PipelineStorage<STAGES> sync;

  static_assert(kDBytes % 1024 == 0 && kABytes % 1024 == 0 && kBBytes % 1024 == 0,
                "every stage of a swizzled tile must keep the next one 1024-byte aligned");
  static_assert(((BLOCK_M + kSfaPad) * 4) % 128 == 0, "each stage's A scales must stay 128-byte aligned");
};

// The 16-bit GEMM's D staging tile: BLOCK_M x BLOCK_N bf16/fp16 values; an fp32 D is stored from
// registers and needs none (a 1 KB placeholder keeps the struct's layout the same).
constexpr int bf16_d_tile_bytes(int block_m, int block_n, DType d) {
  return d == DType::fp32 ? 1024 : block_m * block_n * 2;
}

template <int BLOCK_M, int BLOCK_N, int STAGES, int D_BYTES, int SPLIT = 1>
struct Bf16SharedStorage {
  static constexpr int kABytes = BLOCK_M * kStageRowBytes;  // BLOCK_M x 64 16-bit elements
  static constexpr int kBBytes = BLOCK_N * kStageRowBytes;

  alignas(1024) unsigned char d[D_BYTES];  // as in Fp8SharedStorage: swizzled tiles on 1 KB
  alignas(1024) unsigned char a[STAGES][kABytes];
  alignas(1024) unsigned char b[STAGES][kBBytes];
  alignas(16) float partials[split_partial_floats(SPLIT, BLOCK_M, BLOCK_N)];
  PipelineStorage<STAGES> sync;

  static_assert(D_BYTES % 1024 == 0 && kABytes % 1024 == 0 && kBBytes % 1024 == 0,
                "every stage of a swizzled tile must keep the next one 1024-byte aligned");
};

}  // namespace jit::sm90
