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

// The driver's view of `d` on `stream`; `attr` holds its attributes: the cluster dimension and the
// streaming window, where there are.
CUlaunchConfig launch_config(const LaunchDims& d, CUstream stream, CUlaunchAttribute (&attr)[2]) {
  CUlaunchConfig cfg{};
  cfg.gridDimX = d.grid[0];
  cfg.gridDimY = d.grid[1];
  cfg.gridDimZ = d.grid[2];
  cfg.blockDimX = d.block[0];
  cfg.blockDimY = d.block[1];
  cfg.blockDimZ = d.block[2];
  cfg.sharedMemBytes = d.smem;
  cfg.hStream = stream;
  cfg.attrs = attr;
  if (d.cluster[0] * d.cluster[1] * d.cluster[2] > 1) {
    CUlaunchAttribute& a = attr[cfg.numAttrs++];
    a = CUlaunchAttribute{};
    a.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    a.value.clusterDim.x = d.cluster[0];
    a.value.clusterDim.y = d.cluster[1];
    a.value.clusterDim.z = d.cluster[2];
  }
  if (d.stream_bytes > 0) {
    CUlaunchAttribute& a = attr[cfg.numAttrs++];
    a = CUlaunchAttribute{};
    a.id = CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW;
    a.value.accessPolicyWindow.base_ptr = const_cast<void*>(d.stream_base);
    a.value.accessPolicyWindow.num_bytes = d.stream_bytes;
    a.value.accessPolicyWindow.hitRatio = 1.0f;
    a.value.accessPolicyWindow.hitProp = CU_ACCESS_PROPERTY_STREAMING;
    a.value.accessPolicyWindow.missProp = CU_ACCESS_PROPERTY_NORMAL;
  }
  return cfg;
}

}  // namespace

void launch_kernel(CUfunction fn, const LaunchDims& d, const void* params, CUstream stream,
                   const char* kernel_name) {
  CUlaunchAttribute attr[2];
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
    CUlaunchAttribute attr[2];
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
