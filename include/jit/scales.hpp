// Scale-factor layout helpers for the FP8 recipe (block_1x128 A scales, see jit::Scales).
#pragma once

#include <cuda.h>

#include "jit/types.hpp"

namespace jit {

// The default (packed) M-major row stride of block_1x128 A scales: rows rounded up to 4, so that
// each K block's column of scales starts 16-byte aligned (the SM90 kernel loads it with TMA).
constexpr i64 a_scales_ld(i64 rows) { return (rows + 3) / 4 * 4; }

// Converts A scales stored row-major -- in[g * in_batch + m * in_ld + k / 128], i.e.
// [num_groups][rows][ceil(k / 128)] -- into the M-major layout block_1x128 expects:
// out[g * out_batch + (k / 128) * out_ld + m]. Padding rows [rows, out_ld) are set to 0.
//   in_ld      0: ceil(k / 128) (packed); else >= ceil(k / 128)
//   out_ld     0: a_scales_ld(rows); else >= rows and a multiple of 4
//   in_batch   0: rows * in_ld;  out_batch  0: ceil(k / 128) * out_ld (a multiple of 4)
// `out` must be 16-byte aligned and must not overlap `in`. num_groups > 1 is the masked layout's
// [G, max_m, ...] stack (then pass the results as Scales::ld / batch_stride).
// Asynchronous on `stream` (0: the current context's default stream): no host synchronisation,
// so it can be captured in a CUDA graph. Throws InvalidArgument before any GPU work.
void transpose_a_scales(const float* in, float* out, i64 rows, i64 k, CUstream stream = nullptr, i64 in_ld = 0,
                        i64 out_ld = 0, int num_groups = 1, i64 in_batch = 0, i64 out_batch = 0);

}  // namespace jit
