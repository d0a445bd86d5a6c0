// Timer: the L2-flushed, event-timed, one-call-per-sample method, and order statistics.
#include "bench/bench_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace jit::bench {

namespace {

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

// Synchronise every so many timed calls so the host never runs so far ahead that an enqueue
// blocks on a full launch queue (that would count as host overhead).
constexpr int kSyncEvery = 16;

}  // namespace

Stats summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.n = static_cast<int>(v.size());
  s.min = v.front();
  s.max = v.back();
  s.median = quantile(v, 0.5);
  s.p10 = quantile(v, 0.1);
  s.p90 = quantile(v, 0.9);
  return s;
}

Timer::Timer(CUstream stream, std::size_t flush_bytes, int warmup, int iters)
    : stream_(stream), warmup_(warmup), iters_(iters), flush_(std::max<std::size_t>(flush_bytes, 16)) {
  for (int i = 0; i < iters_; ++i) {
    start_.emplace_back();
    end_.emplace_back();
  }
}

void Timer::flush() { TEST_CU(cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(flush_.get()), 0, flush_.size(), stream_)); }

double Timer::first_call_ms(const Call& call) {
  TEST_CU(cuStreamSynchronize(stream_));
  const auto t0 = Clock::now();
  call(stream_);
  TEST_CU(cuStreamSynchronize(stream_));
  return us_since(t0, Clock::now()) / 1000.0;
}

std::pair<int, int> plan_calls(int warmup, int iters, double budget_s, double per_call_ms) {
  const double per_call_s = per_call_ms / 1000.0;
  if (budget_s <= 0 || per_call_s <= 0 || per_call_s * iters <= budget_s) return {warmup, iters};
  const int n = std::clamp(static_cast<int>(budget_s / per_call_s), 1, iters);
  return {per_call_s * 10 > budget_s ? 0 : warmup, n};
}

std::pair<int, int> Timer::plan(double first_ms) const { return plan_calls(warmup_, iters_, budget_s_, first_ms); }

double Timer::estimate_ms(const Call& call, double first_ms) {
  if (plan(first_ms) == std::make_pair(warmup_, iters_)) return first_ms;
  return first_call_ms(call);
}

Timing Timer::measure(const Call& call, double first_ms) {
  const auto [warmup, iters] = plan(first_ms);
  for (int i = 0; i < warmup; ++i) {
    flush();
    call(stream_);
  }
  TEST_CU(cuStreamSynchronize(stream_));
  Timing t;
  t.host_us.resize(iters);
  for (int i = 0; i < iters; ++i) {
    if (i > 0 && i % kSyncEvery == 0) TEST_CU(cuStreamSynchronize(stream_));
    flush();
    start_[i].record(stream_);
    const auto t0 = Clock::now();
    call(stream_);
    const auto t1 = Clock::now();
    end_[i].record(stream_);
    t.host_us[i] = us_since(t0, t1);
  }
  TEST_CU(cuStreamSynchronize(stream_));
  t.gpu_us.resize(iters);
  for (int i = 0; i < iters; ++i) t.gpu_us[i] = end_[i].since(start_[i]) * 1000.0;
  t.gpu = summarize(t.gpu_us);
  t.host = summarize(t.host_us);
  return t;
}

}  // namespace jit::bench
