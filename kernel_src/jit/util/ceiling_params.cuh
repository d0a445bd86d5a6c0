// Parameters of the device-ceiling kernels (util/ceilings.cuh); plain C++, shared with the host.
#pragma once

#include <jit/types.hpp>

namespace jit::util {

struct MmaRateParams {
  float* out;      // one value per thread, so the mma chains cannot be optimised away
  i64 iters;       // loop trips; each issues CHAINS independent mma.sync per warp
  u32 seed;        // fragment bits derive from it (finite, non-zero values)
};

struct CopyParams {
  const void* src;
  void* dst;
  i64 count16;     // 16-byte vectors to copy
};

}  // namespace jit::util
