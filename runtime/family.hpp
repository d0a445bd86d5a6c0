// The interface every kernel family implements: heuristics (choose), codegen (render) and launch.
// Families are stateless singletons; a KernelConfig is the value passed between the layers.
#pragma once

#include <cuda.h>

#include <array>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "jit/gemm.hpp"
#include "jit/runtime.hpp"
#include "runtime/nvrtc_compiler.hpp"

namespace jit::detail {

// A family's chosen kernel: which family and kernel template (`kernel`), and up to 30 integer
// constants the family defines. Trivially copyable: it is the in-memory table's key.
struct KernelConfig {
  Family family = Family::automatic;
  int kernel = 0;
  std::array<int, 30> v{};
  bool operator==(const KernelConfig&) const = default;
};

struct KernelConfigHash {
  std::size_t operator()(const KernelConfig& c) const noexcept;
};

struct LaunchDims {
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  unsigned cluster[3] = {1, 1, 1};
  unsigned smem = 0;  // dynamic shared memory bytes
  // stream_bytes > 0: the L2 lines of [stream_base, + stream_bytes) evict first -- an access policy
  // window with the streaming property (at most DeviceSpec::max_access_window bytes).
  const void* stream_base = nullptr;
  std::size_t stream_bytes = 0;
};

class KernelFamily {
 public:
  virtual ~KernelFamily() = default;
  virtual Family family() const = 0;
  virtual const char* name() const = 0;  // "reference", "sm80", "sm90_fp8", ...
  // nullptr when this family can run `p` on `dev`, else why not (a static string).
  virtual const char* unsupported(const ProblemDesc& p, const DeviceSpec& dev) const = 0;
  // Heuristics. Cheap, no allocation unless `forced` (a "NAME=value,..." config) is given.
  virtual KernelConfig choose(const ProblemDesc& p, const DeviceSpec& dev, const char* forced,
                              const GemmOptions& opts) const = 0;
  virtual std::string describe(const KernelConfig& c) const = 0;  // printable, for logs and metadata
  virtual KernelSource render(const KernelConfig& c) const = 0;   // codegen
  virtual unsigned dynamic_smem(const KernelConfig& c) const = 0;
  // Bytes of workspace (GroupedGemmArgs::workspace) the kernel needs for `p`; launch then finds
  // at least that much, zeroed as its contract says. 0: none.
  virtual std::int64_t workspace_bytes(const KernelConfig&, const ProblemDesc&, const DeviceSpec&) const {
    return 0;
  }
  // Builds the kernel's parameters from normalized args and launches on `stream`.
  virtual void launch(CUfunction fn, const KernelConfig& c, const GroupedGemmArgs& args,
                      const DeviceSpec& dev, CUstream stream) const = 0;
};

// The device array that maps rows to experts in normalized args: m_indices, group_offsets or
// masked_m by layout; null for dense.
inline const i32* group_data(const GroupedGemmArgs& g) {
  switch (g.layout) {
    case Layout::contiguous_indices: return g.m_indices;
    case Layout::contiguous_offsets: return g.group_offsets;
    case Layout::masked: return g.masked_m;
    case Layout::dense: break;
  }
  return nullptr;
}

// The fields every family's Params has under the same names: the sizes, the rows-to-experts
// array and the output. Each family's launch fills the rest (operands, scales, tensor maps).
template <class Params>
void fill_problem(Params& p, const GroupedGemmArgs& g) {
  p.groups = group_data(g);
  p.d = g.d.data;
  p.ldd = g.d.ld;
  p.batch_d = g.d.batch_stride;
  p.m = static_cast<int>(g.m);
  p.n = static_cast<int>(g.n);
  p.k = static_cast<int>(g.k);
  p.num_groups = g.num_groups;
}

// Every family, in order of preference for Family::automatic.
std::span<const KernelFamily* const> kernel_families();

// "A=1,B=2" -> calls set(name, value) for each; throws InvalidArgument("config", ...) on bad syntax.
void parse_forced_config(const char* text,
                         const std::function<bool(const std::string&, int)>& set);

}  // namespace jit::detail
