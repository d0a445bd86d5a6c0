// The runtime behind jit::gemm: device info, kernel selection, the JIT cache, launch.
// jit::gemm/grouped_gemm use Runtime::global(); tests and tools build their own with explicit Options.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jit/gemm.hpp"
#include "jit/options.hpp"

namespace jit {

// What the heuristics know of a GPU. Read from the device (cached per device), or, for
// precompiling without a GPU, a flagship part of an arch (flagship_device).
struct DeviceSpec {
  int cc_major = 0, cc_minor = 0;
  std::string arch;                 // NVRTC target: sm_80, sm_86, sm_89, sm_90a, ...
  std::string name;                 // "NVIDIA H200", or "flagship sm_90a"
  int num_sms = 0;
  int smem_per_block_optin = 0;     // bytes of dynamic shared memory a block may opt into
  std::int64_t l2_bytes = 0;
  std::int64_t max_access_window = 0;  // bytes an L2 access policy window may span (0: none)
};

// arch: "sm_80", "sm_86", "sm_89", "sm_90a" (also "80", "90a", "sm_90"). num_sms 0: the flagship's
// (A100 108, A10/A40-class 84, L40S 142, H100/H200 132). Throws InvalidArgument for other arches.
DeviceSpec flagship_device(const std::string& arch, int num_sms = 0);
// The spec of a real device (needs the driver).
DeviceSpec query_device(CUdevice device);

// A GEMM problem without its pointers: what the heuristics and the precompiler need.
struct ProblemDesc {
  Layout layout = Layout::dense;
  int num_groups = 1;
  std::int64_t m = 0, n = 0, k = 0;  // m: total rows (contiguous) or max_m (masked)
  std::int64_t expected_m = 0;       // masked: the hint; else 0
  DType a = DType::bf16, b = DType::bf16, d = DType::bf16;
  ScaleKind a_scale = ScaleKind::none, b_scale = ScaleKind::none;
  bool has_c = false;
  DType c = DType::fp32;
};
ProblemDesc describe(const GemmArgs& args);
ProblemDesc describe(const GroupedGemmArgs& args);

struct RuntimeStats {
  std::uint64_t launches = 0;
  std::uint64_t memory_hits = 0;   // kernel found loaded in this context
  std::uint64_t disk_hits = 0;     // cubin read from the disk cache
  std::uint64_t compiles = 0;      // NVRTC runs
  std::uint64_t module_loads = 0;  // cuModuleLoadData calls
};

struct PrecompileResult {
  enum class Status { compiled, cached, unsupported, failed };
  Status status = Status::failed;
  std::string family;       // "sm90"
  std::string config;       // the printable config the heuristics chose
  std::string key;          // cache key (hex)
  double seconds = 0;       // compile or lookup time
  std::string error;        // unsupported/failed: the message (with the NVRTC log)
  int registers = -1, spill_bytes = -1;
};

class Runtime {
 public:
  explicit Runtime(Options options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // The process-wide runtime, built on first use from Options::from_env().
  static Runtime& global();

  const Options& options() const;
  RuntimeStats stats() const;

  void gemm(const GemmArgs& args, CUstream stream = nullptr, const GemmOptions& opts = {});
  void grouped_gemm(const GroupedGemmArgs& args, CUstream stream = nullptr,
                    const GemmOptions& opts = {});
  // See jit::workspace_bytes.
  std::size_t workspace_bytes(const GemmArgs& args, CUstream stream = nullptr, const GemmOptions& opts = {});
  std::size_t workspace_bytes(const GroupedGemmArgs& args, CUstream stream = nullptr,
                              const GemmOptions& opts = {});

  // Compiles into the disk cache, without a GPU, the kernel the heuristics would choose for
  // `problem` on `device` -- exactly the entry a later run on such a device looks up.
  PrecompileResult precompile(const ProblemDesc& problem, const DeviceSpec& device,
                              const GemmOptions& opts = {});

  // The family and config the heuristics pick for `problem` on `device` ("sm80 BLOCK_M=128 ...").
  // Throws Unsupported like a call would.
  std::string choice(const ProblemDesc& problem, const DeviceSpec& device, const GemmOptions& opts = {});

  // The spec of the device behind `stream`'s context (cached).
  const DeviceSpec& device_of(CUstream stream);

  // Auxiliary kernels (test and benchmark utilities) through the same NVRTC + disk-cache path:
  // `source` includes embedded headers and instantiates the kernel that `name_expr` names. The
  // function is loaded in the stream's context and memoized there. Not for hot paths.
  CUfunction load_kernel(CUstream stream, const std::string& source, const std::string& name_expr,
                         unsigned dynamic_smem = 0);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace jit
