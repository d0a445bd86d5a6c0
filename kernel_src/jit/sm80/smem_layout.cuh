// Shared-memory layout of the sm80 GEMM: the swizzle of the operand stages, the cp.async tile
// loader (global -> one stage) and the per-lane ldmatrix offsets (stage -> fragments).
//
// NOTES: a stage holds [rows][BLOCK_K] 16-bit elements, BLOCK_K 32 or 64 (64 or 128 bytes per row).
// Viewed as 128-byte lines of eight 16-byte chunks, chunk c of line l is stored at c ^ (l % 8).
// ldmatrix reads one chunk column of 8 consecutive rows per 8x8 matrix: those rows cover 8 (or,
// at 64-byte rows, 4 lines x 2 halves) distinct chunk slots, so all 32 banks are hit once. A
// cp.async phase of 8 threads writes one whole line (a permutation of its slots): no conflicts either.
#pragma once

#include <jit/ptx/cp_async.cuh>
#include <jit/sm80/params.cuh>
#include <jit/types.hpp>

namespace jit::sm80 {

// Byte offset of 16-byte chunk `chunk` of row `row` within a swizzled [rows][BLOCK_K] tile.
template <int BLOCK_K>
__device__ __forceinline__ u32 swizzled_offset(int row, int chunk) {
  static_assert(BLOCK_K == 32 || BLOCK_K == 64, "the swizzle covers 64- and 128-byte rows");
  const u32 off = static_cast<u32>(row * BLOCK_K * 2 + chunk * 16);
  return off ^ (((off >> 7) & 7u) << 4);
}

// Copies a [ROWS][BLOCK_K] tile of a K-major operand into a swizzled stage: THREADS threads, one
// 16-byte chunk each per iteration, consecutive threads on consecutive chunks of a row (coalesced).
// Chunks at or past K are zero-filled (src-size 0), since both operands' K tails meet in every
// MMA. Rows at or past `rows` are not copied at all: whatever the stage held there meets only
// output rows (A) or columns (B) that are never stored, as no MMA mixes rows or columns. That
// keeps the per-chunk work to a pointer step and a predicated copy (no address select).
template <int ROWS, int BLOCK_K, int THREADS>
class TileLoader {
  static constexpr int kChunksPerRow = BLOCK_K / 8;
  static constexpr int kChunks = ROWS * kChunksPerRow;
  static constexpr int kIters = (kChunks + THREADS - 1) / THREADS;
  static constexpr int kRowsPerIter = THREADS / kChunksPerRow;
  static constexpr bool kPartial = kChunks % THREADS != 0;  // some threads have no chunk
  static_assert(THREADS % kChunksPerRow == 0, "a thread's chunk column must not change");
  static_assert(!kPartial || kIters == 1, "partial coverage only for tiles smaller than one pass");
  static_assert(kIters == 1 || kRowsPerIter % 16 == 0, "the swizzle must repeat every iteration");
  static_assert(kIters <= 31, "row mask is 31 bits");

 public:
  // base: element (row 0, k 0) of the tile; rows: rows that exist from base.
  __device__ __forceinline__ TileLoader(const u16* base, i64 ld, int rows, int tid) {
    const int row = tid / kChunksPerRow, chunk = tid % kChunksPerRow;
    src_ = base + row * ld + chunk * 8;
    dst_ = swizzled_offset<BLOCK_K>(row, chunk);
    k_ = chunk * 8;
    mask_ = 0;
    if (!kPartial || tid < kChunks) {  // else this thread has no chunk in the tile
#pragma unroll
      for (int i = 0; i < kIters; ++i)
        if (row + i * kRowsPerIter < rows) mask_ |= 1u << i;
    }
  }

  // Issues the copies of K block [k0, k0 + BLOCK_K) into the stage at shared address `stage`, if
  // `enable` (a predicate rather than a branch around the call, so that the copies stay
  // predicated instructions among the MMAs). ld comes from the kernel parameters on every call
  // rather than living in a register across the main loop.
  __device__ __forceinline__ void load(u32 stage, int k0, int k, i64 ld, bool enable = true) const {
    // K is a multiple of 8: a chunk is all in or all out. One out reads nothing, at the row's
    // start (a valid address for every row that is copied).
    const bool k_ok = k0 + k_ < k;
    const u32 bytes = k_ok ? 16u : 0u;
    // Walk the rows with one running pointer. The empty asm makes the step opaque, so the compiler
    // cannot hoist kIters precomputed row addresses (2 registers each) out of the main loop.
    i64 step = kRowsPerIter * ld;
    asm volatile("" : "+l"(step));
    const u16* row = src_ + (k_ok ? k0 : 0);
    const u32 rows = enable ? mask_ : 0u;
#pragma unroll
    for (int i = 0; i < kIters; ++i, row += step)
      ptx::cp_async_16_if((rows >> i) & 1u, stage + dst_ + i * kRowsPerIter * BLOCK_K * 2, row, bytes);
  }

 private:
  const u16* src_;  // this thread's first chunk
  u32 dst_, mask_;  // its swizzled offset in a stage; bit i: iteration i's row exists (none: no chunk)
  int k_;           // its K offset within a block
};

// Per-lane ldmatrix offsets (bytes within a stage's A or B part) for each 16-wide K step.
//   A (x4 = one 16x16 fragment): lane l reads row l % 16, chunk 2*ks + l / 16.
//   B (x4 = two n8 fragments):  lane l reads row l % 8 + 8 * (l / 16), chunk 2*ks + (l / 8) % 2.
// Further 16-row fragments are at +16 rows, which keeps (row / 2) % 8 and so the swizzle: plain adds.
// (Deriving step ks from step 0 by XOR saves registers on paper but costs more in practice.)
template <int BLOCK_K>
struct FragmentOffsets {
  static constexpr int kSteps = BLOCK_K / 16;
  u32 a_[kSteps], b_[kSteps];

  __device__ __forceinline__ FragmentOffsets(int warp_row0, int warp_col0, int lane) {
#pragma unroll
    for (int ks = 0; ks < kSteps; ++ks) {
      a_[ks] = swizzled_offset<BLOCK_K>(warp_row0 + lane % 16, 2 * ks + lane / 16);
      b_[ks] = swizzled_offset<BLOCK_K>(warp_col0 + lane % 8 + 8 * (lane / 16), 2 * ks + (lane / 8) % 2);
    }
  }
  __device__ __forceinline__ u32 a(int ks) const { return a_[ks]; }
  __device__ __forceinline__ u32 b(int ks) const { return b_[ks]; }
};

}  // namespace jit::sm80
