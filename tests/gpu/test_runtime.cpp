// The runtime on a GPU: many threads compiling once per key, disk hits across runtimes, precompiled
// entries found by a real run, the hot path, and CUDA-graph replay with changing masked_m.
#include <set>
#include <thread>

#include "bench/suite.hpp"
#include "testing/host_reference.hpp"
#include "testing/problem.hpp"
#include "test_util.hpp"

using namespace jit;
using testing::GpuProblem;
using testing::ProblemSpec;

namespace {

ProblemSpec mixed_spec(int i) {
  ProblemSpec s;
  const Layout layouts[] = {Layout::dense, Layout::contiguous_indices, Layout::contiguous_offsets, Layout::masked};
  s.layout = layouts[i % 4];
  s.rows = s.layout == Layout::dense ? std::vector<int>{200 + 8 * i} : std::vector<int>{60, 0, 130 + i, 7};
  s.n = 136 + 8 * (i % 3);
  s.k = 256 + 16 * (i % 2);
  s.ab = (i / 4) % 2 ? DType::fp16 : DType::bf16;
  s.d = s.ab;
  s.seed = 100 + i;
  return s;
}

GemmOptions reference_only() {
  GemmOptions o;
  o.family = Family::reference;
  return o;
}

void run(Runtime& rt, const GpuProblem& p, CUstream s, const GemmOptions& o = reference_only()) {
  if (p.spec().layout == Layout::dense) rt.gemm(p.dense_args(), s, o);
  else rt.grouped_gemm(p.grouped_args(), s, o);
}

}  // namespace

TEST_SUITE("test_runtime") {

GPU_CASE("8 threads x mixed shapes: same results, one compile per key") {
  testing::use_device();
  test::TempDir dir("threads");
  Runtime rt(test::quiet_options(dir.path()));
  constexpr int kThreads = 8, kCalls = 20;
  std::vector<std::unique_ptr<GpuProblem>> problems;
  std::set<std::string> configs;
  {
    testing::Stream s;
    for (int i = 0; i < kThreads; ++i) {
      problems.push_back(std::make_unique<GpuProblem>(mixed_spec(i), s));
      problems.back()->run_reference(s);  // the global runtime: rt's stats stay clean
      configs.insert(rt.choice(bench::make_desc(problems.back()->spec()), rt.device_of(s), reference_only()));
    }
    s.sync();
  }
  std::vector<std::thread> threads;
  std::vector<testing::CheckResult> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      testing::use_device();  // the primary context, current on this thread
      testing::Stream s;
      for (int c = 0; c < kCalls; ++c) {
        problems[t]->poison(s);
        run(rt, *problems[t], s);
      }
      results[t] = problems[t]->check(s);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    CAPTURE(problems[t]->spec().describe());
    CHECK(results[t].ok(1e-12));
  }
  const RuntimeStats st = rt.stats();
  CHECK(st.compiles == configs.size());
  CHECK(st.module_loads == configs.size());
  CHECK(st.launches == kThreads * kCalls);
  CHECK(st.memory_hits == kThreads * kCalls - configs.size());
}

GPU_CASE("a second runtime finds the kernels on disk; precompiled entries are what a run looks up") {
  testing::use_device();
  testing::Stream s;
  test::TempDir dir("disk");
  const ProblemSpec spec = mixed_spec(3);
  GpuProblem p(spec, s);
  {
    Runtime rt(test::quiet_options(dir.path()));
    run(rt, p, s);
    s.sync();
    CHECK(rt.stats().compiles == 1);
  }
  {
    Runtime rt(test::quiet_options(dir.path()));
    run(rt, p, s);
    s.sync();
    CHECK(rt.stats().compiles == 0);
    CHECK(rt.stats().disk_hits == 1);
  }
  // Precompile for this device's arch and SM count, without touching the device, then run.
  test::TempDir pre("precompiled");
  Runtime rt0(test::quiet_options(pre.path()));
  const DeviceSpec real = rt0.device_of(s);
  const DeviceSpec flag = flagship_device(real.arch, real.num_sms);
  for (int i = 0; i < 8; ++i) {
    auto r = rt0.precompile(bench::make_desc(mixed_spec(i)), flag, reference_only());
    CHECK(r.status != PrecompileResult::Status::failed);
  }
  Runtime rt(test::quiet_options(pre.path()));
  for (int i = 0; i < 8; ++i) {
    GpuProblem q(mixed_spec(i), s);
    run(rt, q, s);
  }
  s.sync();
  CHECK(rt.stats().compiles == 0);
  CHECK(rt.stats().disk_hits >= 1);
}

GPU_CASE("hot path: a repeated call compiles nothing and loads nothing") {
  testing::use_device();
  testing::Stream s;
  test::TempDir dir("hot");
  Runtime rt(test::quiet_options(dir.path()));
  GpuProblem p(mixed_spec(1), s);
  run(rt, p, s);
  const RuntimeStats before = rt.stats();
  for (int i = 0; i < 100; ++i) run(rt, p, s);
  s.sync();
  const RuntimeStats after = rt.stats();
  CHECK(after.compiles == before.compiles);
  CHECK(after.module_loads == before.module_loads);
  CHECK(after.disk_hits == before.disk_hits);
  CHECK(after.memory_hits == before.memory_hits + 100);
}

GPU_CASE("CUDA graph: capture once, replay while masked_m changes") {
  testing::use_device();
  testing::Stream s;
  ProblemSpec spec;
  spec.layout = Layout::masked;
  spec.rows = {10, 20, 30};
  spec.max_m = 64;
  spec.n = 48;
  spec.k = 128;
  GpuProblem p(spec, s);
  run(Runtime::global(), p, s);  // compile and load before capture
  s.sync();
  TEST_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
  run(Runtime::global(), p, s);
  CUgraph graph;
  TEST_CU(cuStreamEndCapture(s, &graph));
  CUgraphExec exec;
  TEST_CU(cuGraphInstantiateWithFlags(&exec, graph, 0));
  for (const auto& rows : std::vector<std::vector<int>>{{10, 20, 30}, {64, 0, 3}, {0, 0, 0}, {1, 63, 64}, {-5, 100, 7}}) {
    CAPTURE(rows[0]);
    CAPTURE(rows[1]);
    CAPTURE(rows[2]);
    p.set_rows(rows, s);
    p.poison(s);
    TEST_CU(cuGraphLaunch(exec, s));
    s.sync();
    const std::vector<float> cpu = testing::host_gemm(p);
    const std::vector<float> gpu = testing::host_output(p, p.out());
    std::vector<float> a, b;
    for (std::size_t i = 0; i < cpu.size(); ++i)
      if (p.row_valid()[i / spec.n]) {
        a.push_back(gpu[i]);
        b.push_back(cpu[i]);
      }
    if (!a.empty()) CHECK(testing::calc_diff(a.data(), b.data(), a.size()) < 1e-5);
    // Masked-off rows kept the poison.
    testing::CheckResult r = testing::check_output(s, p.out(), spec.n, p.out(), spec.n, spec.d, p.d_rows(), spec.n,
                                                   nullptr);
    CHECK(r.unwritten == static_cast<std::uint64_t>((p.d_rows() - p.valid_rows()) * spec.n));
  }
  TEST_CU(cuGraphExecDestroy(exec));
  TEST_CU(cuGraphDestroy(graph));
}

}  // TEST_SUITE
