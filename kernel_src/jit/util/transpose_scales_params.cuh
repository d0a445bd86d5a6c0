// Parameters of the A-scale transpose (util/transpose_scales.cuh); plain C++, shared with the host.
#pragma once

#include <jit/types.hpp>

namespace jit::util {

struct TransposeScalesParams {
  const float* in;
  float* out;
  i64 rows, kb;                 // rows of each group; K blocks
  i64 ld_in, batch_in;          // elements: between rows / between groups of `in`
  i64 ld_out, batch_out;        // elements: between K blocks / between groups of `out`
  int groups;
};

}  // namespace jit::util
