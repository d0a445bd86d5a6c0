// Utility kernels for tests and benchmarks (JIT-compiled like everything else): random fill and
// the output check (calc_diff, NaN, unwritten and wrongly written elements).
#pragma once

#include <cuda.h>

#include <cstdint>
#include <string>

#include "jit/types.hpp"

namespace jit::testing {

// Reproducible uniform values in [lo, hi) converted to `dtype` (e4m3 saturates, s8 rounds).
void fill_random(CUstream s, void* data, DType dtype, i64 count, std::uint64_t seed, float lo = -1.f,
                 float hi = 1.f);
void fill_bytes(CUstream s, void* data, unsigned char byte, std::size_t bytes);

// The byte every output is filled with before a call: 0xFF... is a NaN in bf16, fp16 and fp32, so no
// correct result can equal it (0xCD was tried first: 0xCDCD is -23.2 in fp16, a value fp16 results
// hit). The check counts poison before NaN, so an unwritten element is never mistaken for a NaN.
constexpr unsigned char kPoison = 0xFF;

struct CheckResult {
  double diff = 1.0;         // calc_diff = 1 - 2Σxy / Σ(x² + y²), over valid, finite elements
  double max_abs_err = 0;
  std::uint64_t nan_out = 0, nan_ref = 0;  // NaN/Inf among valid elements
  std::uint64_t unwritten = 0;             // valid elements still holding the poison
  std::uint64_t written_padding = 0;       // elements of invalid rows that lost the poison
  std::int64_t checked = 0;                // valid elements compared
  // No NaN, nothing unwritten, padding untouched, and diff below `tol`.
  bool ok(double tol) const {
    return nan_out == 0 && nan_ref == 0 && unwritten == 0 && written_padding == 0 && diff < tol &&
           diff == diff;
  }
  std::string summary() const;
};

// Compares `rows` x `cols` elements of `out` and `ref` (both `dtype`, row strides ld_out/ld_ref).
// row_valid: device bytes per row, null = all valid. Synchronises `s`.
CheckResult check_output(CUstream s, const void* out, i64 ld_out, const void* ref, i64 ld_ref,
                         DType dtype, i64 rows, i64 cols, const unsigned char* row_valid);

// calc_diff of two host arrays, as PEERS.md defines it (in double).
double calc_diff(const float* x, const float* y, std::size_t n);

}  // namespace jit::testing
