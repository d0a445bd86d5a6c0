#include "runtime/launcher.hpp"

#include <string>

#include "runtime/cuda_check.hpp"
#include "runtime/driver.hpp"

namespace jit::detail {

void launch_kernel(CUfunction fn, const LaunchDims& d, const void* params, CUstream stream,
                   const char* kernel_name) {
  CUlaunchConfig cfg{};
  cfg.gridDimX = d.grid[0];
  cfg.gridDimY = d.grid[1];
  cfg.gridDimZ = d.grid[2];
  cfg.blockDimX = d.block[0];
  cfg.blockDimY = d.block[1];
  cfg.blockDimZ = d.block[2];
  cfg.sharedMemBytes = d.smem;
  cfg.hStream = stream;
  CUlaunchAttribute attrs[1];
  if (d.cluster[0] * d.cluster[1] * d.cluster[2] > 1) {
    attrs[0].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attrs[0].value.clusterDim.x = d.cluster[0];
    attrs[0].value.clusterDim.y = d.cluster[1];
    attrs[0].value.clusterDim.z = d.cluster[2];
    cfg.attrs = attrs;
    cfg.numAttrs = 1;
  }
  void* args[] = {const_cast<void*>(params)};
  CU_CHECK(JIT_CU(cuLaunchKernelEx)(&cfg, fn, args, nullptr),
           std::string("launching ") + kernel_name);
}

}  // namespace jit::detail
