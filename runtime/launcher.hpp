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

// A persistent grid of clusters larger than the device can hold at once would run its last
// clusters as a second wave: caps d.grid[0] at the co-resident clusters of `fn` with these dims
// (cuOccupancyMaxActiveClusters: a GPC holds whole clusters only, so 132 SMs may hold fewer than
// 33 clusters of 4). Asked once per function and dims, then remembered; a no-op without clusters.
// Returns what the driver said (0 without clusters, or when it sees no fit and the grid is kept).
int cap_grid_to_resident_clusters(CUfunction fn, LaunchDims& d);

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
