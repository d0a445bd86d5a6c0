// jitgemm demo: the main job. On a GPU: a contiguous and a masked grouped GEMM with the best
// family available, checked against the reference family, timed. Without a GPU: precompiles the
// demo's kernels for sm_80 and sm_90a.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "bench/suite.hpp"
#include "cli/commands.hpp"
#include "jit/errors.hpp"
#include "jit/runtime.hpp"
#include "testing/device.hpp"
#include "testing/problem.hpp"

namespace jit::cli {

namespace {

int run_demo_gpu() {
  testing::use_device(0);
  testing::Stream stream;
  Runtime& rt = Runtime::global();
  const DeviceSpec& dev = rt.device_of(stream);
  std::printf("device: %s (%s, %d SMs)\n", dev.name.c_str(), dev.arch.c_str(), dev.num_sms);
  const bench::Suite suite = bench::load_suite("demo");
  int failures = 0;
  for (const char* recipe_name : {"bf16", "fp8"}) {
    const bench::Recipe recipe = bench::parse_recipe(recipe_name);
    for (const auto& shape : suite.shapes) {
      const testing::ProblemSpec spec = bench::make_spec(shape, recipe);
      const std::string label = std::string(layout_name(spec.layout)) + " " + bench::shape_label(shape) + " " + recipe_name;
      std::string chosen;
      try {
        chosen = rt.choice(bench::make_desc(spec), dev);
      } catch (const Unsupported& e) {
        std::string why = e.what();
        std::printf("%-44s skipped: %s\n", label.c_str(), why.substr(0, why.find('\n')).c_str());
        continue;
      }
      testing::GpuProblem p(spec, stream);
      auto call = [&] { rt.grouped_gemm(p.grouped_args(), stream); };
      p.poison(stream);
      auto t0 = std::chrono::steady_clock::now();
      call();  // the first call compiles (or loads from the disk cache)
      stream.sync();
      const double first_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      p.run_reference(stream);
      const testing::CheckResult check = p.check(stream);
      const double tol = recipe.ab == DType::e4m3 ? 2e-5 : 1e-5;
      std::vector<float> ms;
      for (int i = 0; i < 10; ++i) {
        testing::Event start, end;
        start.record(stream);
        call();
        end.record(stream);
        ms.push_back(end.since(start));
      }
      std::sort(ms.begin(), ms.end());
      const double med = ms[ms.size() / 2];
      const bool ok = check.ok(tol);
      failures += !ok;
      std::printf("%-44s %s\n    %.3f ms, %.0f TFLOP/s, %.0f GB/s; first call %.0f ms; %s %s\n", label.c_str(),
                  chosen.c_str(), med, p.flops() / med / 1e9, p.bytes() / med / 1e6, first_ms,
                  check.summary().c_str(), ok ? "OK" : "WRONG");
    }
  }
  return failures ? 1 : 0;
}

}  // namespace

void add_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "run (GPU) or precompile (no GPU) the demo's MoE GEMMs");
  cmd->callback([] {
    if (!testing::gpu_available()) {
      std::printf("no GPU here (%s): precompiling the demo's kernels for sm_80 and sm_90a instead\n",
                  testing::gpu_unavailable_reason().c_str());
      exit_with(run_precompile({"demo"}, {"sm_80", "sm_90a"}, {"bf16", "fp8"}, {"auto", "reference"}, 0, 0));
    }
    exit_with(run_demo_gpu());
  });
}

}  // namespace jit::cli
