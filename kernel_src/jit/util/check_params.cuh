// Parameters of the output check (util/check.cuh); plain C++, shared with the host.
#pragma once

#include <jit/types.hpp>

namespace jit::util {

struct CheckParams {
  const void* out;
  const void* ref;
  const unsigned char* row_valid;  // per row; null: every row is valid
  i64 rows, cols, ld_out, ld_ref;
  double* sums;                    // [0] sum(x*y), [1] sum(x*x), [2] sum(y*y), [3] max |x-y|
  unsigned long long* counts;      // [0] NaN/Inf in out, [1] in ref, [2] unwritten, [3] written padding
  unsigned char poison;
};

}  // namespace jit::util
