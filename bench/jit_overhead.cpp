// jitgemm-overhead: what the JIT costs. A program, not a test.
//   1. cold compile time per kernel (median over distinct configs; NVRTC, cache off) -- no GPU needed
//   2. disk-hit time: read + verify an entry (no GPU), and a first call in a fresh runtime that
//      finds its kernel on disk (GPU: includes cuModuleLoadData)
//   3. in-memory-hit host overhead per call, entry to cuLaunchKernelEx return, next to a bare
//      cuLaunchKernel of an empty kernel (GPU)
//   4. what an event-timed call costs on the GPU beyond its kernel (the bench's method: L2 flushed,
//      events around one launch): an empty kernel on every SM with and without a 2-CTA cluster,
//      and a kernel streaming 32 MB, each with and without the 512 MB flush before it (GPU)
// Usage: build/jitgemm-overhead [--families reference,sm80,sm90] [--launch-costs (section 4 only)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>
#include <tuple>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/suite.hpp"
#include "cache/store.hpp"
#include "jit/jitgemm.hpp"
#include "testing/device.hpp"
#include "testing/problem.hpp"

using namespace jit;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<Family> parse_families(int argc, char** argv) {
  std::vector<Family> out = {Family::reference, Family::sm80, Family::sm90};
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--families") {
      out.clear();
      std::string s = argv[i + 1];
      for (std::size_t p = 0; p <= s.size();) {
        std::size_t e = s.find(',', p);
        if (e == std::string::npos) e = s.size();
        out.push_back(parse_family(s.substr(p, e - p)));
        p = e + 1;
      }
    }
  return out;
}

// Distinct problems: the demo, moe and dense suites in bf16 and fp8, plus a few reference kinds.
std::vector<ProblemDesc> problems() {
  std::vector<ProblemDesc> out;
  for (const char* suite : {"demo", "deepgemm-dense", "moe-contiguous", "moe-masked", "odd"})
    for (const char* recipe : {"bf16", "fp8"})
      for (const auto& shape : bench::load_suite(suite).shapes)
        out.push_back(bench::make_desc(bench::make_spec(shape, bench::parse_recipe(recipe))));
  return out;
}

void cold_compiles(const std::vector<Family>& families) {
  std::printf("\n1. cold compile per kernel (NVRTC, cache off, this machine: %u cores)\n",
              std::thread::hardware_concurrency());
  for (const char* arch : {"sm_80", "sm_90a"}) {
    for (Family fam : families) {
      Options o = Options::from_env();
      o.cache_mode = CacheMode::off;
      o.log_level = LogLevel::error;
      Runtime rt(o);
      GemmOptions go;
      go.family = fam;
      std::vector<double> secs;
      int unsupported = 0;
      for (const auto& p : problems()) {
        auto r = rt.precompile(p, flagship_device(arch), go);
        if (r.status == PrecompileResult::Status::compiled) secs.push_back(r.seconds);
        if (r.status == PrecompileResult::Status::unsupported) ++unsupported;
        if (r.status == PrecompileResult::Status::failed) std::printf("   FAILED: %s\n", r.error.c_str());
      }
      if (secs.empty()) {
        std::printf("   %-7s %-9s nothing to compile (%d unsupported)\n", arch, family_name(fam), unsupported);
        continue;
      }
      std::printf("   %-7s %-9s %3zu distinct kernels: median %.0f ms, min %.0f, max %.0f\n", arch,
                  family_name(fam), secs.size(), 1e3 * median(secs), 1e3 * *std::min_element(secs.begin(), secs.end()),
                  1e3 * *std::max_element(secs.begin(), secs.end()));
    }
  }
}

void disk_reads() {
  std::printf("\n2a. disk hit without a GPU: read + verify one entry\n");
  const std::string dir = (std::filesystem::temp_directory_path() / "jitgemm-overhead-cache").string();
  std::filesystem::remove_all(dir);
  Options o = Options::from_env();
  o.cache_dir = dir;
  o.log_level = LogLevel::error;
  {
    Runtime rt(o);
    GemmOptions go;
    go.family = Family::reference;
    for (const auto& p : problems()) rt.precompile(p, flagship_device("sm_90a"), go);
  }
  detail::Logger log(LogLevel::off);
  cache::DiskCache disk(dir, CacheMode::read, log);
  std::vector<double> ms;
  for (const auto& e : disk.list(false)) {
    cache::Digest key;
    cache::Digest::parse(e.key, &key);
    auto t0 = Clock::now();
    auto loaded = disk.load(key);
    ms.push_back(ms_since(t0));
  }
  std::printf("   %zu entries: median %.3f ms\n", ms.size(), median(ms));
  std::filesystem::remove_all(dir);
}

// Section 4. The small-M GEMMs spend ~5 us of their event time outside the kernel (ncu: 64x2112x7168
// FP8 runs 9.5 us in the kernel, 14.5 us between the events); this separates the launch, the
// cluster launch and the flush's dirty L2 lines (which the next kernel's reads must evict). Each
// sample is queued behind ~100 us of GPU work (the flush, or a spin kernel), so host launch time
// never shows.
void gpu_launch_costs(CUstream stream) {
  const std::string src =
      "extern \"C\" __global__ void jitgemm_empty_grid() {}\n"
      "extern \"C\" __global__ void jitgemm_spin(long long cycles) {\n"
      "  const long long t0 = clock64(); while (clock64() - t0 < cycles) {}\n"
      "}\n"
      "extern \"C\" __global__ void jitgemm_stream_read(const int4* p, long long n, int* out) {\n"
      "  int acc = 0;\n"
      "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;\n"
      "       i += (long long)gridDim.x * blockDim.x) {\n"
      "    const int4 v = __ldcs(p + i); acc ^= v.x ^ v.y ^ v.z ^ v.w; }\n"
      "  if (acc == 0x7f123456) *out = acc;\n"
      "}\n";
  CUfunction empty = Runtime::global().load_kernel(stream, src, "&jitgemm_empty_grid");
  CUfunction spin = Runtime::global().load_kernel(stream, src, "&jitgemm_spin");
  CUfunction reader = Runtime::global().load_kernel(stream, src, "&jitgemm_stream_read");
  CUdevice dev;
  TEST_CU(cuCtxGetDevice(&dev));
  int sms = 0;
  TEST_CU(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
  constexpr std::size_t kFlush = 512u << 20, kRead = 32u << 20;
  testing::DeviceBuffer flush(kFlush), data(kRead), out(16);
  TEST_CU(cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(data.get()), 1, kRead, stream));
  CUdeviceptr data_ptr = reinterpret_cast<CUdeviceptr>(data.get()), out_ptr = reinterpret_cast<CUdeviceptr>(out.get());
  long long n = kRead / 16, spin_cycles = 200000;
  void* read_args[] = {&data_ptr, &n, &out_ptr};
  void* spin_args[] = {&spin_cycles};
  const auto launch = [&](CUfunction f, unsigned grid, int cluster, void** args) {
    CUlaunchConfig cfg{};
    cfg.gridDimX = grid, cfg.gridDimY = cfg.gridDimZ = 1;
    cfg.blockDimX = 384, cfg.blockDimY = cfg.blockDimZ = 1;
    cfg.hStream = stream;
    CUlaunchAttribute attr{};
    attr.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attr.value.clusterDim.x = static_cast<unsigned>(cluster), attr.value.clusterDim.y = attr.value.clusterDim.z = 1;
    cfg.attrs = &attr, cfg.numAttrs = cluster > 1 ? 1 : 0;
    TEST_CU(cuLaunchKernelEx(&cfg, f, args, nullptr));
  };
  const unsigned grid = static_cast<unsigned>(sms / 2 * 2);
  std::printf("\n4.  GPU time between the events around one launch (median of 50, us)\n");
  for (bool flushed : {false, true})
    for (const auto& [what, f, cluster, args] :
         {std::tuple<const char*, CUfunction, int, void**>{"empty kernel, a CTA per SM", empty, 1, nullptr},
          {"empty kernel, 2-CTA clusters", empty, 2, nullptr},
          {"32 MB streaming read", reader, 1, read_args}}) {
      std::vector<double> us;
      for (int i = 0; i < 55; ++i) {
        if (flushed) TEST_CU(cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(flush.get()), 0, kFlush, stream));
        else launch(spin, 1, 1, spin_args);
        testing::Event a, b;
        a.record(stream);
        launch(f, grid, cluster, args);
        b.record(stream);
        if (i >= 5) us.push_back(b.since(a) * 1e3);
      }
      std::printf("   %-30s %-22s %7.2f\n", what, flushed ? "after the 512 MB flush" : "after a spin kernel",
                  median(us));
    }
}

void gpu_overheads(const std::vector<Family>& families) {
  testing::use_device();
  testing::Stream stream;
  const std::string dir = (std::filesystem::temp_directory_path() / "jitgemm-overhead-gpu").string();
  std::filesystem::remove_all(dir);
  Options o = Options::from_env();
  o.cache_dir = dir;
  o.log_level = LogLevel::error;

  // A small problem: the GPU finishes each call in microseconds, so the launch queue never fills.
  auto small = [&](const char* recipe) {
    testing::ProblemSpec spec;
    spec.layout = Layout::masked;
    spec.rows = {64, 64};
    spec.max_m = 64;
    spec.n = 128;
    spec.k = 128;
    const bench::Recipe r = bench::parse_recipe(recipe);
    spec.ab = r.ab;
    spec.d = r.d;
    spec.sa = r.sa;
    spec.sb = r.sb;
    return std::make_unique<testing::GpuProblem>(spec, stream);
  };

  std::printf("\n2b. disk hit with a GPU: first call of a fresh runtime, kernel on disk (ms)\n");
  std::printf("3.  in-memory hit: host time per call, entry to cuLaunchKernelEx return (us)\n");
  for (const char* recipe : {"bf16", "fp8"})
  for (Family fam : families) {
    const auto problem = small(recipe);
    const GroupedGemmArgs args = problem->grouped_args();
    GemmOptions go;
    go.family = fam;
    try {
      Runtime warm(o);
      warm.grouped_gemm(args, stream, go);  // compiles into the disk cache
    } catch (const Unsupported& e) {
      std::printf("   %-9s %-4s unsupported here\n", family_name(fam), recipe);
      continue;
    }
    stream.sync();
    std::vector<double> first;
    for (int i = 0; i < 5; ++i) {
      Runtime fresh(o);
      auto t0 = Clock::now();
      fresh.grouped_gemm(args, stream, go);
      first.push_back(ms_since(t0));
      stream.sync();
    }
    Runtime rt(o);
    // Host time per call (us), 20 reps of 200 calls after a warm-up call with the same options.
    auto hot_calls = [&](const GemmOptions& opts) {
      rt.grouped_gemm(args, stream, opts);
      stream.sync();
      std::vector<double> us;
      for (int rep = 0; rep < 20; ++rep) {
        constexpr int kCalls = 200;
        auto t0 = Clock::now();
        for (int i = 0; i < kCalls; ++i) rt.grouped_gemm(args, stream, opts);
        us.push_back(ms_since(t0) * 1e3 / kCalls);
        stream.sync();
      }
      return us;
    };
    const std::vector<double> per_call = hot_calls(go);
    std::printf("   %-9s %-4s disk-hit first call: median %.2f ms | hot call: median %.2f us (min %.2f)\n",
                family_name(fam), recipe, median(first), median(per_call),
                *std::min_element(per_call.begin(), per_call.end()));
    // The same call with L2_HINTS=1 forced: sm80 then launches with an access policy window.
    if (fam == Family::reference) continue;
    GemmOptions hinted = go;
    hinted.config = "L2_HINTS=1";
    const std::vector<double> per_hinted = hot_calls(hinted);
    std::printf("   %-9s %-4s hot call with L2_HINTS=1: median %.2f us (min %.2f)\n", family_name(fam), recipe,
                median(per_hinted), *std::min_element(per_hinted.begin(), per_hinted.end()));
  }

  // Baseline: a bare driver launch of an empty kernel.
  CUfunction empty = Runtime::global().load_kernel(
      stream, "extern \"C\" __global__ void jitgemm_empty_kernel() {}\n", "&jitgemm_empty_kernel");
  std::vector<double> bare;
  for (int rep = 0; rep < 20; ++rep) {
    constexpr int kCalls = 200;
    auto t0 = Clock::now();
    for (int i = 0; i < kCalls; ++i) TEST_CU(cuLaunchKernel(empty, 1, 1, 1, 32, 1, 1, 0, stream, nullptr, nullptr));
    bare.push_back(ms_since(t0) * 1e3 / kCalls);
    stream.sync();
  }
  std::printf("   bare cuLaunchKernel of an empty kernel: median %.2f us\n", median(bare));
  std::filesystem::remove_all(dir);
  gpu_launch_costs(stream);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto families = parse_families(argc, argv);
    if (std::find(argv + 1, argv + argc, std::string("--launch-costs")) != argv + argc) {
      if (!testing::gpu_available()) throw std::runtime_error("no GPU: " + testing::gpu_unavailable_reason());
      testing::use_device();
      testing::Stream stream;
      gpu_launch_costs(stream);
      return 0;
    }
    cold_compiles(families);
    disk_reads();
    if (!testing::gpu_available()) {
      std::printf("\nno GPU (%s): skipping the GPU measurements (2b, 3)\n", testing::gpu_unavailable_reason().c_str());
      return 0;
    }
    gpu_overheads(families);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "jitgemm-overhead: %s\n", e.what());
    return 1;
  }
  return 0;
}
