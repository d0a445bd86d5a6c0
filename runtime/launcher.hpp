// cuLaunchKernelEx with grid, block, cluster and dynamic shared memory. Every kernel of the library
// takes exactly one parameter: its Params struct, passed by value.
#pragma once

#include <cuda.h>

#include "runtime/family.hpp"
#include "runtime/validate.hpp"

namespace jit::detail {

void launch_kernel(CUfunction fn, const LaunchDims& dims, const void* params, CUstream stream,
                   const char* kernel_name);

template <class Params>
void launch_kernel(CUfunction fn, const LaunchDims& dims, const Params& params, CUstream stream,
                   const char* kernel_name) {
  launch_kernel(fn, dims, static_cast<const void*>(&params), stream, kernel_name);
}

// A serving loop repeats its calls: a thread's last launch of a family (function, config,
// arguments) with the parameters and dims built for it, so a repeat skips rebuilding them -- for
// the TMA families four cuTensorMapEncodeTiled calls, most of a launch's host time.
template <class Params>
class LaunchMemo {
 public:
  const LaunchMemo* find(CUfunction fn, const KernelConfig& c, const GroupedGemmArgs& g) const {
    return valid_ && fn_ == fn && config_ == c && same_call(args_, g) ? this : nullptr;
  }
  // Launches and, once the launch succeeded, remembers it.
  void launch(CUfunction fn, const KernelConfig& c, const GroupedGemmArgs& g, const LaunchDims& d,
              const Params& p, CUstream stream, const char* name) {
    valid_ = false;
    launch_kernel(fn, d, p, stream, name);
    fn_ = fn;
    config_ = c;
    args_ = g;
    dims = d;
    params = p;
    valid_ = true;
  }
  LaunchDims dims;
  Params params;

 private:
  bool valid_ = false;
  CUfunction fn_ = nullptr;
  KernelConfig config_;
  GroupedGemmArgs args_;
};

}  // namespace jit::detail
