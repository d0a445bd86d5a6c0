// cuLaunchKernelEx with grid, block, cluster and dynamic shared memory. Every kernel of the library
// takes exactly one parameter: its Params struct, passed by value.
#pragma once

#include <cuda.h>

#include "runtime/family.hpp"

namespace jit::detail {

void launch_kernel(CUfunction fn, const LaunchDims& dims, const void* params, CUstream stream,
                   const char* kernel_name);

template <class Params>
void launch_kernel(CUfunction fn, const LaunchDims& dims, const Params& params, CUstream stream,
                   const char* kernel_name) {
  launch_kernel(fn, dims, static_cast<const void*>(&params), stream, kernel_name);
}

}  // namespace jit::detail
