// The epilogues of the SM90 GEMMs. A 16-bit D (bf16, fp16): the consumers' fp32 accumulator
// fragments go to a swizzled shared-memory tile with stmatrix, then out either by TMA stores (tiles
// whose every row may be written) or by a masked copy with 16-byte st.global (tiles with rows that
// must never be written: padding rows, rows past masked_m, rows of the next expert in the offsets
// layout). An fp32 D goes straight from the fragments to global memory. C (D = C + A B^T) is added
// in fp32 to the values as they leave the fragments.
#pragma once

#include <jit/common/numeric.cuh>
#include <jit/common/scheduler.cuh>
#include <jit/ptx/sm90.cuh>
#include <jit/ptx/tma.cuh>
#include <jit/sm90/smem.cuh>

namespace jit::sm90 {

// Named barriers of each consumer warpgroup w's epilogue (0 is __syncthreads): these + 2 w.
constexpr u32 kBarrierEpilogueFree = 1;   // its smem rows free again (+ the all-rows-valid vote)
constexpr u32 kBarrierEpilogueReady = 2;  // its smem rows complete, visible to the TMA unit

// Two fp32 values as a packed pair of T (bf16 or fp16), `lo` at the lower address.
template <DType T>
__device__ __forceinline__ u32 pack2(float lo, float hi) {
  static_assert(T == DType::bf16 || T == DType::fp16, "a 16-bit output type");
  if constexpr (T == DType::bf16) return ptx::pack_bf16x2(lo, hi);
  else return ptx::pack_f16x2(lo, hi);
}

// What the epilogue adds to the accumulators before the conversion: nothing (D = A B^T), or C
// (CAddend below). add(v, j, h, lo, hi) adds to the column pair of 8-column block j, row half h
// (0: the fragment's row l/4, 1: row l/4 + 8) of wave v. The accumulators themselves are never
// written outside wgmma: ptxas would serialize every wgmma (C7515) if they were.
struct NoAddend {
  __device__ __forceinline__ void add(int, int, int, float&, float&) const {}
  __device__ __forceinline__ void fence() const {}
};

template <int BLOCK_M, int BLOCK_N, DType T = DType::bf16>
struct OutputTile {
  static constexpr int kSwizzle = d_swizzle_bytes(BLOCK_N);  // bytes per chunk row
  static constexpr int kChunkCols = kSwizzle / 2;            // 16-bit columns per chunk
  static constexpr int kChunks = BLOCK_N / kChunkCols;
  static constexpr int kPiecesPerRow = BLOCK_N / 8;          // 16-byte pieces
  static_assert(BLOCK_N % 16 == 0 && BLOCK_N % kChunkCols == 0, "BLOCK_N must be a multiple of 16");

  // Byte offset of (row, col) in the tile; col a multiple of 8 (one 16-byte unit).
  __device__ __forceinline__ static u32 offset(int row, int col) {
    const u32 raw = static_cast<u32>((col / kChunkCols) * (BLOCK_M * kSwizzle) + row * kSwizzle +
                                     (col % kChunkCols) * 2);
    return tma_swizzle(raw, kSwizzle);
  }

  // Stores one wave's fragment -- rows [row0, row0 + 64) of the tile, this warp's 16 of them --
  // as T. The fragment is the wgmma accumulator layout (ptx/wgmma.cuh); stmatrix.x4 takes two
  // 8-column blocks j, j+1 at once: matrices (rows 0-7, j), (rows 8-15, j), (0-7, j+1), (8-15, j+1).
  // `add` (NoAddend, CAddend) is applied to the values of wave v first.
  template <class Addend = NoAddend>
  __device__ __forceinline__ static void stage(u32 tile, const float* acc, int row0, const Addend& add = {},
                                               int v = 0) {
    const u32 lane = ptx::lane_id(), warp = (ptx::thread_id_x() / 32) % 4;
    const int row = row0 + static_cast<int>(warp) * 16 + static_cast<int>((lane >> 3) & 1) * 8 +
                    static_cast<int>(lane & 7);
#pragma unroll
    for (int jj = 0; jj < BLOCK_N / 16; ++jj) {
      const int col = (2 * jj + static_cast<int>(lane >> 4)) * 8;
      float f[8];
#pragma unroll
      for (int i = 0; i < 8; ++i) f[i] = acc[8 * jj + i];
      add.fence();
      add.add(v, 2 * jj, 0, f[0], f[1]);
      add.add(v, 2 * jj, 1, f[2], f[3]);
      add.add(v, 2 * jj + 1, 0, f[4], f[5]);
      add.add(v, 2 * jj + 1, 1, f[6], f[7]);
      ptx::stmatrix_x4(tile + offset(row, col), pack2<T>(f[0], f[1]), pack2<T>(f[2], f[3]), pack2<T>(f[4], f[5]),
                       pack2<T>(f[6], f[7]));
    }
  }

  // One thread: the TMA stores of the box of rows [tile_row, tile_row + box rows) of the tile (the
  // map's box), to columns [n0, ...) and rows [row0, ...) of the output map (group `g` for 3-D
  // maps). Rows and columns outside the map are clipped by TMA.
  template <bool kGrouped>
  __device__ __forceinline__ static void store_tma(const void* map, u32 tile, int tile_row, int n0, int row0, int g) {
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const u32 src = tile + static_cast<u32>(c * BLOCK_M * kSwizzle + tile_row * kSwizzle);
      if constexpr (kGrouped) ptx::tma_store_3d(map, src, n0 + c * kChunkCols, row0, g);
      else ptx::tma_store_2d(map, src, n0 + c * kChunkCols, row0);
    }
    ptx::bulk_commit_group();
  }

  // THREADS threads (thread index `t`): copies the rows r of [first, first + count) for which
  // row_ok(r) holds (r < rows, tile-relative) and the columns below n, 16 bytes at a time;
  // consecutive threads take consecutive pieces of a row so the stores coalesce.
  template <int THREADS, class RowOk>
  __device__ __forceinline__ static void store_masked(u32 tile, unsigned short* out, i64 ld, int n0, int n,
                                                      int rows, const RowOk& row_ok, int first, int count, int t) {
#pragma unroll 1
    for (int idx = t; idx < count * kPiecesPerRow; idx += THREADS) {
      const int r = first + idx / kPiecesPerRow;
      const int col = (idx % kPiecesPerRow) * 8;
      if (r >= rows || n0 + col >= n || !row_ok(r)) continue;
      u32 v[4];
      ptx::ld_shared_v4(tile + offset(r, col), v);
      ptx::st_global_v4(out + r * ld + n0 + col, v);
    }
  }
};

// Whether row r (tile-relative) of tile t may be written: inside the tile's rows and, with
// m_indices, one of the tile's expert (not padding).
template <Layout L>
__device__ __forceinline__ bool row_writable(const int* groups, const Tile& t, int r) {
  if (r >= t.rows) return false;
  if constexpr (L == Layout::contiguous_indices) return groups[t.row0 + r] == t.group;
  return true;
}

// The epilogue of one tile with a 16-bit D, by each consumer warpgroup (THREADS consumer threads in
// all) for its own rows -- WAVES waves of 64 from tile row wg_row0 -- on its own: the fragments go
// to those rows of the smem tile at `d_tile`, then out by a TMA store of the warpgroup's box when
// every one of its rows inside the output map may be written (all inside the tile's rows, or the
// tile clipped by the map's end; with m_indices every row must be the expert's), else by the masked
// copy. The warpgroups synchronize only within themselves, so one's epilogue can run beside the
// other's last MMAs. `p` has the output's map_d (box: epilogue_box_rows), d, ldd, batch_d, and
// groups, m, n.
template <Layout L, int BLOCK_M, int BLOCK_N, int THREADS, DType T, int WAVES, int ACC, class Params,
          class Addend = NoAddend>
__device__ __forceinline__ void store_tile(const Params& p, const Tile& t, const float (&acc)[WAVES][ACC], int wg_row0,
                                           u32 d_tile, const Addend& add = {}) {
  using Out = OutputTile<BLOCK_M, BLOCK_N, T>;
  constexpr int kWgRows = BLOCK_M / (THREADS / 128);
  static_assert(kWgRows == WAVES * 64 && kWgRows == epilogue_box_rows(BLOCK_M), "a warpgroup's rows");
  const int wg_tid = static_cast<int>(ptx::thread_id_x()) % 128;
  const u32 bar = 2 * static_cast<u32>(wg_row0 / kWgRows);  // warp-uniform: wg_row0 is
  const int rows = t.rows - wg_row0;                          // this warpgroup's, if positive
  if (rows <= 0) return;                                      // uniform across the warpgroup
  bool row_ok = true;
  if constexpr (L == Layout::contiguous_indices)
    if (wg_tid < rows && wg_tid < kWgRows) row_ok = p.groups[t.row0 + wg_row0 + wg_tid] == t.group;
  if (wg_tid == 0) ptx::bulk_wait_group_read<0>();  // its previous tile's stores have left the smem rows
  const bool all_rows = ptx::named_barrier_and(kBarrierEpilogueFree + bar, 128, row_ok) &&
                        (rows >= kWgRows || t.row0 + t.rows == p.m);
#pragma unroll
  for (int v = 0; v < WAVES; ++v) Out::stage(d_tile, acc[v], wg_row0 + v * 64, add, v);
  ptx::fence_proxy_async_shared();
  ptx::named_barrier_sync(kBarrierEpilogueReady + bar, 128);
  if (all_rows) {
    if (wg_tid == 0)
      Out::template store_tma<L == Layout::masked>(&p.map_d, d_tile, wg_row0, t.n_block * BLOCK_N, t.row0 + wg_row0,
                                                   t.group);
  } else {
    unsigned short* dst = static_cast<unsigned short*>(p.d) +
                          (L == Layout::masked ? static_cast<i64>(t.group) * p.batch_d : 0) +
                          static_cast<i64>(t.row0) * p.ldd;
    Out::template store_masked<128>(
        d_tile, dst, p.ldd, t.n_block * BLOCK_N, p.n, t.rows,
        [&](int r) { return L != Layout::contiguous_indices || p.groups[t.row0 + r] == t.group; }, wg_row0, kWgRows,
        wg_tid);
  }
}

// The fragment's rows and columns (ptx/wgmma.cuh): this thread's row of half h (0: row l/4 of its
// warp's 16, 1: row l/4 + 8) of wave v, and its first column in 8-column block 0.
__device__ __forceinline__ int fragment_row(int wg_row0, int v, int h) {
  return wg_row0 + v * 64 + static_cast<int>((ptx::thread_id_x() / 32) % 4) * 16 +
         static_cast<int>(ptx::lane_id() / 4) + 8 * h;
}
__device__ __forceinline__ int fragment_col() { return 2 * static_cast<int>(ptx::lane_id() % 4); }

// D = C + A B^T: C (fp32, or a 16-bit type) at this thread's fragment positions, added in fp32.
// Rows past the tile's rows are not read (they may be past C's end); padding rows inside it are
// (in bounds, never stored). `p` has c, ldc, batch_c, n.
template <Layout L, int BLOCK_N, DType C>
struct CAddend {
  using Elem = storage_t<C>;
  const Elem* c;  // C at this thread's first fragment row (wave 0, half 0) and column
  i64 ld;
  int rows;       // the tile's rows from that row on
  int cols;       // N's columns from that column on

  template <class Params>
  __device__ __forceinline__ CAddend(const Params& p, const Tile& t, int wg_row0) {
    const int r = fragment_row(wg_row0, 0, 0), col = t.n_block * BLOCK_N + fragment_col();
    c = static_cast<const Elem*>(p.c) + (L == Layout::masked ? static_cast<i64>(t.group) * p.batch_c : 0) +
        static_cast<i64>(t.row0 + r) * p.ldc + col;
    ld = p.ldc;
    rows = t.rows - r;
    cols = p.n - col;
  }

  // Between two column blocks of stores: a warp barrier orders memory, so ptxas cannot hoist the
  // next blocks' loads above it -- hoisting them all next to the 128 live accumulators would spill.
  __device__ __forceinline__ void fence() const { __syncwarp(); }

  __device__ __forceinline__ void add(int v, int j, int h, float& lo, float& hi) const {
    const int r = v * 64 + 8 * h;
    if (r >= rows || 8 * j >= cols) return;  // N is a multiple of 8: a pair is all in or all out
    const Elem* at = c + static_cast<i64>(r) * ld + 8 * j;
    if constexpr (C == DType::fp32) {
      const float2 x = *reinterpret_cast<const float2*>(at);
      lo += x.x;
      hi += x.y;
    } else {
      const u32 x = *reinterpret_cast<const u32*>(at);
      lo += to_float(Elem{static_cast<unsigned short>(x & 0xffffu)});
      hi += to_float(Elem{static_cast<unsigned short>(x >> 16)});
    }
  }
};

// The epilogue of one tile with an fp32 D: straight from the fragments (plus `add`), 8 bytes per
// store (a warp's store covers 8 rows x 32 contiguous bytes: whole sectors), only rows the tile
// may write. `p` has d, ldd, batch_d, groups, n.
template <Layout L, int BLOCK_N, int WAVES, int ACC, class Params, class Addend = NoAddend>
__device__ __forceinline__ void store_tile_fp32(const Params& p, const Tile& t, const float (&acc)[WAVES][ACC],
                                                int wg_row0, const Addend& add = {}) {
  float* d = static_cast<float*>(p.d) + (L == Layout::masked ? static_cast<i64>(t.group) * p.batch_d : 0) +
             static_cast<i64>(t.row0) * p.ldd + t.n_block * BLOCK_N + fragment_col();
  const int cols = p.n - t.n_block * BLOCK_N - fragment_col();
#pragma unroll
  for (int v = 0; v < WAVES; ++v)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = fragment_row(wg_row0, v, h);
      if (!row_writable<L>(p.groups, t, r)) continue;
      float* row = d + static_cast<i64>(r) * p.ldd;
#pragma unroll
      for (int j = 0; j < BLOCK_N / 8; ++j) {
        if (8 * j >= cols) continue;
        float lo = acc[v][4 * j + 2 * h], hi = acc[v][4 * j + 2 * h + 1];
        add.add(v, j, h, lo, hi);
        *reinterpret_cast<float2*>(row + 8 * j) = make_float2(lo, hi);
      }
    }
}

}  // namespace jit::sm90
