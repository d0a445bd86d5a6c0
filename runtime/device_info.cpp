// DeviceSpec: read from a device once, or made up for an arch's flagship part (precompile).
#include <string>

#include "jit/errors.hpp"
#include "jit/runtime.hpp"
#include "runtime/cuda_check.hpp"
#include "runtime/driver.hpp"

namespace jit {

namespace {

std::string arch_for(int major, int minor) {
  // wgmma/setmaxnreg exist only on the arch-specific sm_90a target.
  std::string a = "sm_" + std::to_string(major) + std::to_string(minor);
  if (major == 9 && minor == 0) a += "a";
  return a;
}

int attr(CUdevice dev, CUdevice_attribute a, const char* what) {
  int v = 0;
  CU_CHECK(JIT_CU(cuDeviceGetAttribute)(&v, a, dev), std::string("reading device attribute ") + what);
  return v;
}

}  // namespace

DeviceSpec query_device(CUdevice dev) {
  DeviceSpec s;
  s.cc_major = attr(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability major");
  s.cc_minor = attr(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability minor");
  s.arch = arch_for(s.cc_major, s.cc_minor);
  s.num_sms = attr(dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "multiprocessor count");
  s.smem_per_block_optin =
      attr(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, "shared memory opt-in");
  s.l2_bytes = attr(dev, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, "L2 size");
  s.max_access_window =
      attr(dev, CU_DEVICE_ATTRIBUTE_MAX_ACCESS_POLICY_WINDOW_SIZE, "access policy window size");
  char name[256] = {};
  CU_CHECK(JIT_CU(cuDeviceGetName)(name, sizeof(name), dev), "reading the device name");
  s.name = name;
  return s;
}

DeviceSpec flagship_device(const std::string& arch_in, int num_sms) {
  std::string a = arch_in;
  if (a.rfind("sm_", 0) != 0) a = "sm_" + a;
  if (a == "sm_90") a = "sm_90a";  // the only Hopper target the sm90 families compile for
  DeviceSpec s;
  s.arch = a;
  s.name = "flagship " + a;
  // Every one allows access policy windows of up to 128 MB - 4 KB.
  constexpr std::int64_t window = 134213632;
  if (a == "sm_80") {         // A100: 108 SMs, 163 KB opt-in, 40 MB L2
    s = {8, 0, a, s.name, 108, 166912, 40 << 20, window};
  } else if (a == "sm_86") {  // A40/A10-class: 84 SMs, 99 KB opt-in, 6 MB L2
    s = {8, 6, a, s.name, 84, 101376, 6 << 20, window};
  } else if (a == "sm_89") {  // L40S: 142 SMs, 99 KB opt-in, 96 MB L2
    s = {8, 9, a, s.name, 142, 101376, 96 << 20, window};
  } else if (a == "sm_90a") {  // H100/H200 SXM: 132 SMs, 227 KB opt-in, 50 MB L2
    s = {9, 0, a, s.name, 132, 232448, 50 << 20, window};
  } else {
    throw InvalidArgument("arch", "'" + arch_in + "' is not one of sm_80, sm_86, sm_89, sm_90a");
  }
  if (num_sms < 0) throw InvalidArgument("sms", "must be positive");
  if (num_sms > 0) s.num_sms = num_sms;
  return s;
}

}  // namespace jit
