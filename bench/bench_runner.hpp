// The timing method (PEERS.md's): warm-up, then for every timed call a 512 MB memset that flushes
// L2 and keeps the GPU busy, the start event, ONE call, the end event. The host wall time of the
// enqueue is taken while the GPU is still busy with the memset, so it is host overhead alone.
#pragma once

#include <cuda.h>

#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "testing/device.hpp"

namespace jit::bench {

struct Stats {
  int n = 0;
  double median = 0, min = 0, max = 0, p10 = 0, p90 = 0;
};
// Order statistics of `v` (p10/p90 interpolated linearly); all zero for an empty vector.
Stats summarize(std::vector<double> v);

struct Timing {
  std::vector<double> gpu_us;   // event time of each timed call
  std::vector<double> host_us;  // host wall time of each call's enqueue
  Stats gpu, host;
};

using Call = std::function<void(CUstream)>;

// (warm-up, timed) calls for an implementation whose calls take `per_call_ms`: all of them unless
// the timed calls would exceed `budget_s` (0: no cap); then as many as fit, at least one, and no
// warm-up once one call takes a tenth of the budget.
std::pair<int, int> plan_calls(int warmup, int iters, double budget_s, double per_call_ms);

class Timer {
 public:
  Timer(CUstream stream, std::size_t flush_bytes, int warmup, int iters);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Wall time of one call plus a stream sync, in ms: the first call (JIT compile, cuBLAS setup).
  double first_call_ms(const Call& call);
  // Warm-up calls, then the timed calls. `first_ms` (from first_call_ms) caps a slow implementation
  // (the reference family takes seconds per call on large shapes) to what fits `budget_s`: at least
  // one timed call and no warm-up once a call takes a tenth of the budget. 0: no cap.
  Timing measure(const Call& call, double first_ms = 0);
  void set_budget(double seconds) { budget_s_ = seconds; }
  // The (warm-up, timed) calls measure() makes after a first call of `first_ms`.
  std::pair<int, int> plan(double first_ms) const;
  // The per-call time measure() should plan with: `first_ms` when it leaves the full count, else
  // the wall time of a second, warm call (a first call may include a JIT compile or module load).
  double estimate_ms(const Call& call, double first_ms);
  void flush();  // the L2 flush of one timed call, on its own
  CUstream stream() const { return stream_; }
  int iters() const { return iters_; }
  int warmup() const { return warmup_; }
  std::size_t flush_bytes() const { return flush_.size(); }

 private:
  CUstream stream_;
  int warmup_, iters_;
  double budget_s_ = 0;
  testing::DeviceBuffer flush_;
  std::deque<testing::Event> start_, end_;
};

}  // namespace jit::bench
