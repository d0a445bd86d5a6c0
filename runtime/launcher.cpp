#include "runtime/launcher.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "runtime/cuda_check.hpp"
#include "runtime/driver.hpp"

namespace jit::detail {

namespace {

// The driver's view of `d` on `stream`; `attr` holds the cluster dimension when there is one.
CUlaunchConfig launch_config(const LaunchDims& d, CUstream stream, CUlaunchAttribute& attr) {
  CUlaunchConfig cfg{};
  cfg.gridDimX = d.grid[0];
  cfg.gridDimY = d.grid[1];
  cfg.gridDimZ = d.grid[2];
  cfg.blockDimX = d.block[0];
  cfg.blockDimY = d.block[1];
  cfg.blockDimZ = d.block[2];
  cfg.sharedMemBytes = d.smem;
  cfg.hStream = stream;
  if (d.cluster[0] * d.cluster[1] * d.cluster[2] > 1) {
    attr = CUlaunchAttribute{};
    attr.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attr.value.clusterDim.x = d.cluster[0];
    attr.value.clusterDim.y = d.cluster[1];
    attr.value.clusterDim.z = d.cluster[2];
    cfg.attrs = &attr;
    cfg.numAttrs = 1;
  }
  return cfg;
}

}  // namespace

void launch_kernel(CUfunction fn, const LaunchDims& d, const void* params, CUstream stream,
                   const char* kernel_name) {
  CUlaunchAttribute attr;
  CUlaunchConfig cfg = launch_config(d, stream, attr);
  void* args[] = {const_cast<void*>(params)};
  CU_CHECK(JIT_CU(cuLaunchKernelEx)(&cfg, fn, args, nullptr),
           std::string("launching ") + kernel_name);
}

int cap_grid_to_resident_clusters(CUfunction fn, LaunchDims& d) {
  const unsigned cs = d.cluster[0] * d.cluster[1] * d.cluster[2];
  if (cs <= 1) return 0;
  using Key = std::tuple<CUfunction, unsigned, unsigned, unsigned>;
  static std::mutex mu;
  static std::map<Key, int> known;  // a few entries per kernel: functions live as long as the process
  const Key key{fn, cs, d.block[0], d.smem};
  int clusters = 0;
  bool asked = false;
  {
    std::lock_guard lk(mu);
    if (auto it = known.find(key); it != known.end()) clusters = it->second, asked = true;
  }
  if (!asked) {
    CUlaunchAttribute attr;
    const CUlaunchConfig cfg = launch_config(d, nullptr, attr);
    CU_CHECK(JIT_CU(cuOccupancyMaxActiveClusters)(&clusters, fn, &cfg), "querying the co-resident clusters");
    std::lock_guard lk(mu);
    known[key] = clusters;
  }
  // 0: the occupancy calculator sees no fit (it may assume another shared-memory carveout than
  // the launch gets); then launch as planned.
  if (clusters > 0) d.grid[0] = std::min(d.grid[0], static_cast<unsigned>(clusters) * d.cluster[0]);
  return clusters;
}

}  // namespace jit::detail
