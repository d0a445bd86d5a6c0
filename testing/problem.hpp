// A complete random GEMM problem on the GPU, in any layout, with the bookkeeping tests and
// benchmarks need: which output rows are valid, the reference result, FLOP and byte counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jit/gemm.hpp"
#include "jit/runtime.hpp"
#include "testing/device.hpp"
#include "testing/kernels.hpp"

namespace jit::testing {

struct ProblemSpec {
  Layout layout = Layout::dense;
  std::vector<int> rows;  // valid rows per group (dense: one entry, M)
  i64 max_m = 0;          // masked: rows allocated per group (0: max of rows)
  i64 n = 0, k = 0;
  DType ab = DType::bf16, d = DType::bf16;
  ScaleKind sa = ScaleKind::none, sb = ScaleKind::none;
  bool with_c = false;
  DType c = DType::fp32;
  int extra_rows = 0;     // contiguous_offsets: rows past the last expert (never written)
  std::uint64_t seed = 1;
  float lo = -1.f, hi = 1.f;  // operand value range

  std::string describe() const;
};

// Random MoE group sizes: uniform in [lo, hi] x expected, from `seed` (PEERS.md's recipe: 0.7-1.3).
std::vector<int> random_group_rows(int groups, int expected, double lo, double hi, std::uint64_t seed);

class GpuProblem {
 public:
  GpuProblem(const ProblemSpec& spec, CUstream s);

  const ProblemSpec& spec() const { return spec_; }
  int num_groups() const { return static_cast<int>(spec_.rows.size()); }
  i64 m() const { return m_; }          // rows argument: total rows, or max_m when masked
  i64 d_rows() const { return d_rows_; }  // rows of D in memory (masked: G x max_m)
  i64 valid_rows() const;               // rows that get computed
  const std::vector<unsigned char>& row_valid() const { return row_valid_; }

  // Arguments with D at `d` (default: the problem's own output buffer).
  GroupedGemmArgs grouped_args(void* d = nullptr) const;
  GemmArgs dense_args(void* d = nullptr) const;

  void* out() const { return d_.get(); }
  void* ref() const { return d_ref_.get(); }
  std::size_t out_bytes() const { return d_.size(); }
  void poison(CUstream s, void* d = nullptr) const;

  // Runs the reference family into ref() (poisoned first).
  void run_reference(CUstream s, Runtime& rt = Runtime::global()) const;
  // Checks `out` (default out()) against ref(): valid rows compared, invalid rows must be poison.
  CheckResult check(CUstream s, const void* out = nullptr) const;

  // masked: new valid rows per group (same max_m). contiguous_offsets: new rows per group with the
  // same total. Rewrites the device-side counts in place (a captured graph sees them on replay).
  void set_rows(const std::vector<int>& rows, CUstream s);

  double flops() const;  // 2·N·K over valid rows
  double bytes() const;  // A (valid rows), B (experts with rows), D (valid rows), scales

  // Host copies for the CPU reference (small problems only).
  std::vector<std::uint8_t> download(const DeviceBuffer& b) const;
  const DeviceBuffer& a() const { return a_; }
  const DeviceBuffer& b() const { return b_; }
  const DeviceBuffer& sfa() const { return sfa_; }
  const DeviceBuffer& sfb() const { return sfb_; }
  const DeviceBuffer& c() const { return c_; }
  const std::vector<int>& host_groups() const { return groups_host_; }

 private:
  void build_groups();
  void upload_groups();

  ProblemSpec spec_;
  i64 m_ = 0, d_rows_ = 0;
  std::vector<int> groups_host_;  // m_indices, offsets or masked_m
  std::vector<unsigned char> row_valid_;
  DeviceBuffer a_, b_, sfa_, sfb_, c_, d_, d_ref_, groups_, row_valid_dev_;
  i64 sfa_ld_ = 0, sfa_batch_ = 0, sfb_ld_ = 0, sfb_batch_ = 0;
};

}  // namespace jit::testing
