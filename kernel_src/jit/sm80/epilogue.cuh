// Epilogue of the sm80 GEMM: fp32 accumulators -> (+ C) -> D, through shared memory so that every
// global access is a 16-byte vector on 8 consecutive columns (N is a multiple of 8, rows are
// 16-byte aligned: a vector is entirely inside or outside the matrix).
//
// NOTES: the tile goes out in MT passes of one 16-row slice per warp row (WARPS_M x 16 rows x
// BLOCK_N), which fits in the pipeline's shared memory for every config, fp32 output included.
// Only rows the scheduler calls valid are written: padding, rows past masked_m or past the last
// offset, and rows of another expert keep whatever D held.
#pragma once

#include <jit/common/numeric.cuh>
#include <jit/common/scheduler.cuh>
#include <jit/sm80/params.cuh>

namespace jit::sm80 {

template <DType T>
__device__ __forceinline__ void load8(const void* p, float (&v)[8]) {
  if constexpr (T == DType::fp32) {
    const float4 x = static_cast<const float4*>(p)[0], y = static_cast<const float4*>(p)[1];
    v[0] = x.x, v[1] = x.y, v[2] = x.z, v[3] = x.w, v[4] = y.x, v[5] = y.y, v[6] = y.z, v[7] = y.w;
  } else {
    const uint4 x = *static_cast<const uint4*>(p);
    const u32 w[4] = {x.x, x.y, x.z, x.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      v[2 * j] = to_float(storage_t<T>{static_cast<unsigned short>(w[j] & 0xffffu)});
      v[2 * j + 1] = to_float(storage_t<T>{static_cast<unsigned short>(w[j] >> 16)});
    }
  }
}

template <DType T>
__device__ __forceinline__ void store8(void* p, const float (&v)[8]) {
  if constexpr (T == DType::fp32) {
    static_cast<float4*>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
    static_cast<float4*>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
  } else {
    u32 w[4];
#pragma unroll
    for (int j = 0; j < 4; ++j)
      w[j] = static_cast<u32>(from_float<T>(v[2 * j]).bits) |
             (static_cast<u32>(from_float<T>(v[2 * j + 1]).bits) << 16);
    *static_cast<uint4*>(p) = make_uint4(w[0], w[1], w[2], w[3]);
  }
}

// Writes the accumulators of tile `t` (acc[mt][nt][4] per lane, m16n8 C-fragment layout).
// `staging` is the CTA's shared memory; the caller has drained the pipeline and synchronised.
template <DType D, Layout L, bool HAS_C, DType C, int BLOCK_M, int BLOCK_N, int WARPS_M,
          int WARPS_N, class Scheduler, int MT, int NT>
__device__ __forceinline__ void store_tile(const Params& p, const Scheduler& sched, const Tile& t,
                                           const float (&acc)[MT][NT][4], float* staging) {
  constexpr int kThreads = WARPS_M * WARPS_N * 32;
  constexpr int WM = BLOCK_M / WARPS_M, WN = BLOCK_N / WARPS_N;
  constexpr int kStride = epilogue_row_floats(BLOCK_N);  // floats per staged row
  constexpr int kChunksPerRow = BLOCK_N / 8;             // 8 output columns per vector
  constexpr int kChunks = WARPS_M * 16 * kChunksPerRow;
  constexpr int kIters = (kChunks + kThreads - 1) / kThreads;
  static_assert(MT * 16 == WM && NT * 8 == WN, "fragment counts do not match the warp tile");

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int warp_m = warp / WARPS_N, warp_n = warp % WARPS_N;
  const i64 batch = L == Layout::masked ? t.group : 0;  // only the masked layout batches C and D
  const int col0 = t.n_block * BLOCK_N;

#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
    // Fragments -> staging rows warp_m*16 + (0..15). Row stride = 8 (mod 32) banks: a half-warp's
    // float2 stores cover rows g..g+3 x 8 columns = 32 distinct banks.
    float* lo = staging + (warp_m * 16 + lane / 4) * kStride + warp_n * WN + (lane % 4) * 2;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      *reinterpret_cast<float2*>(lo + nt * 8) = make_float2(acc[mt][nt][0], acc[mt][nt][1]);
      *reinterpret_cast<float2*>(lo + 8 * kStride + nt * 8) = make_float2(acc[mt][nt][2], acc[mt][nt][3]);
    }
    __syncthreads();

#pragma unroll
    for (int it = 0; it < kIters; ++it) {
      const int idx = tid + it * kThreads;
      if (kChunks % kThreads != 0 && idx >= kChunks) break;
      const int srow = idx / kChunksPerRow, chunk = idx % kChunksPerRow;
      const int r = (srow / 16) * WM + mt * 16 + srow % 16;  // row within the tile
      const int col = col0 + chunk * 8;
      if (r >= t.rows || col >= p.n || !sched.row_valid(t, t.row0 + r)) continue;

      // Read the 8 floats as two 16-byte halves, odd quads of lanes taking the upper half first:
      // a phase of 8 lanes then covers all 32 banks instead of half of them twice.
      const float* s = staging + srow * kStride + chunk * 8;
      const int h = (chunk >> 2) & 1;
      const float4 x = *reinterpret_cast<const float4*>(s + 4 * h);
      const float4 y = *reinterpret_cast<const float4*>(s + 4 - 4 * h);
      const float4 lo4 = h ? y : x, hi4 = h ? x : y;
      float v[8] = {lo4.x, lo4.y, lo4.z, lo4.w, hi4.x, hi4.y, hi4.z, hi4.w};

      const i64 row = t.row0 + r;
      if constexpr (HAS_C) {
        float c[8];
        load8<C>(static_cast<const storage_t<C>*>(p.c) + batch * p.batch_c + row * p.ldc + col, c);
#pragma unroll
        for (int j = 0; j < 8; ++j) v[j] += c[j];
      }
      store8<D>(static_cast<storage_t<D>*>(p.d) + batch * p.batch_d + row * p.ldd + col, v);
    }
    __syncthreads();  // the staging (and, after the last pass, the pipeline) is free again
  }
}

}  // namespace jit::sm80
