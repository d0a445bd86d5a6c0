// What the benchmark reports: one Measurement per (shape, implementation), formatted as a table per
// suite plus a ratio table (ours vs each peer, with geometric means), and as JSON lines with an
// environment record. Pure functions of the data: tested on the CPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_ceilings.hpp"
#include "bench/bench_runner.hpp"
#include "bench/suite.hpp"

namespace jit::bench {

enum class Status {
  ok,           // ran, output checked and correct (or --no-check)
  wrong,        // ran, output wrong or NaN: flagged and never ranked
  unsupported,  // this implementation cannot run the case (the reason says why)
  error,        // it should have run but failed (the reason holds the error)
};
const char* status_name(Status s);

struct Measurement {
  // The case.
  int case_id = 0;           // the shape's index in the run: groups the rows of one shape
  std::string suite, shape;  // shape: shape_label()
  std::string recipe;        // the bench's --dtype
  Layout layout = Layout::dense;
  int groups = 1;
  i64 m = 0, n = 0, k = 0, max_m = 0, valid_rows = 0;
  std::vector<int> group_rows;  // valid rows per expert (dense: one entry), so that an outside peer can rerun the case
  i64 expected_m = 0;           // masked: the expected_m our call passes
  double flops = 0;          // 2·N·K per valid row
  double bytes = 0;          // what this implementation moves (GpuProblem::bytes or the dense-equivalent's)
  DType ab = DType::bf16;    // operand type this implementation ran (for the compute ceiling)
  // The implementation.
  std::string impl;          // "reference", "auto", "cublaslt-fp8-blk", ...
  bool ours = true;
  std::string impl_recipe;   // the recipe it ran (a peer may run a speed-reference recipe)
  bool same_math = true;
  std::string computes;      // peers: exactly what they compute; ours: the chosen kernel config
  std::string algo;          // cuBLASLt algo, when known
  // The outcome.
  Status status = Status::ok;
  std::string reason;        // unsupported/error: why (full text)
  Timing timing;
  double first_call_ms = 0;  // first call + sync (ours: includes the JIT compile on a cache miss)
  std::string first_call;    // "compiled", "disk cache", "memory" for ours
  bool checked = false;
  std::string check_scope;   // "full" or "rows of expert g"
  double calc_diff = 0, max_abs_err = 0;
  std::uint64_t nan = 0, unwritten = 0, written_padding = 0;
};

// "jit: family sm90 cannot run ...\n  (no such family is built)" -> "no such family is built".
std::string shorten(const std::string& message, std::size_t max_chars = 60);
double geomean(const std::vector<double>& v);  // 0 for an empty vector
// Speed ratio ours/peer = peer time / our time (> 1: ours faster); 0 when either is not ranked.
double speed_ratio(const Measurement& ours, const Measurement& peer);

nlohmann::ordered_json to_json(const Measurement& m, const Ceilings& c);

struct EnvInfo {
  std::string gpu;
  int cc_major = 0, cc_minor = 0, sms = 0;
  int sm_clock_mhz = 0, mem_clock_mhz = 0, mem_bus_bits = 0;
  std::int64_t l2_bytes = 0, memory_bytes = 0;
  std::string driver, nvrtc, cublas, git, jitgemm, command, time;
  int warmup = 0, iters = 0;
  std::size_t flush_bytes = 0;
  double tol = 0;
};
nlohmann::ordered_json to_json(const EnvInfo& e);
std::string format_env(const EnvInfo& e);

// The suite's table: one row per (shape, implementation). `legend`: the peers' exact math.
std::string format_suite_table(const std::string& title, const std::vector<Measurement>& ms, const Ceilings& c);
// Ratio ours/peer per shape (rows: shape x our family; columns: peers) and a geometric-mean row per
// (our family); wrong, unsupported and failed results are left out and said so.
std::string format_ratio_table(const std::vector<Measurement>& ms);

}  // namespace jit::bench
