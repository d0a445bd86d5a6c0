// The environment record: device, clocks, driver/NVRTC/cuBLAS versions, git commit, method.
#include <nvrtc.h>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "bench/bench_env.hpp"
#include "bench/bench_peers.hpp"
#include "testing/device.hpp"

namespace jit::bench {

namespace {

std::string run_command(const char* cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd, "r")) {
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    if (::pclose(p) != 0) return {};
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

int attribute(CUdevice dev, CUdevice_attribute a) {
  int v = 0;
  if (JIT_CU(cuDeviceGetAttribute)(&v, a, dev) != CUDA_SUCCESS) return 0;
  return v;
}

}  // namespace

std::string git_commit() {
  if (const char* v = std::getenv("JITGEMM_GIT_COMMIT"); v && *v) return v;
  std::string head = run_command("git rev-parse --short HEAD 2>/dev/null");
  if (head.empty()) return "unknown";
  if (!run_command("git status --porcelain --untracked-files=no 2>/dev/null").empty()) head += "-dirty";
  return head;
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

EnvInfo collect_env(const DeviceSpec& spec, const BenchConfig& c) {
  EnvInfo e;
  CUdevice dev = 0;
  TEST_CU(cuCtxGetDevice(&dev));
  char name[256] = {};
  if (JIT_CU(cuDeviceGetName)(name, sizeof(name), dev) == CUDA_SUCCESS) e.gpu = name;
  else e.gpu = spec.name;
  e.cc_major = spec.cc_major;
  e.cc_minor = spec.cc_minor;
  e.sms = spec.num_sms;
  e.sm_clock_mhz = attribute(dev, CU_DEVICE_ATTRIBUTE_CLOCK_RATE) / 1000;
  e.mem_clock_mhz = attribute(dev, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE) / 1000;
  e.mem_bus_bits = attribute(dev, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
  e.l2_bytes = attribute(dev, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
  std::size_t free_b = 0, total_b = 0;
  if (JIT_CU(cuMemGetInfo)(&free_b, &total_b) == CUDA_SUCCESS) e.memory_bytes = static_cast<std::int64_t>(total_b);
  int drv = 0;
  if (JIT_CU(cuDriverGetVersion)(&drv) == CUDA_SUCCESS) e.driver = fmt::format("{}.{}", drv / 1000, drv % 1000 / 10);
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) == NVRTC_SUCCESS) e.nvrtc = fmt::format("{}.{}", major, minor);
  e.cublas = cublas_version();
  e.git = git_commit();
  e.jitgemm = JITGEMM_VERSION;
  e.command = c.command_line;
  e.time = utc_now();
  e.warmup = c.warmup;
  e.iters = c.iters;
  e.flush_bytes = c.flush_bytes;
  e.tol = c.tol;
  return e;
}

}  // namespace jit::bench
