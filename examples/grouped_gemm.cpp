// A minimal jitgemm user: a masked MoE grouped GEMM (bf16) on the current device, checked against
// the reference family. Build: part of the project (build/example_grouped_gemm).
#include <cstdio>
#include <vector>

#include "jit/jitgemm.hpp"
#include "testing/device.hpp"
#include "testing/problem.hpp"

int main() {
  if (!jit::testing::gpu_available()) {
    std::printf("no GPU: %s\n", jit::testing::gpu_unavailable_reason().c_str());
    return 0;
  }
  jit::testing::use_device(0);
  jit::testing::Stream stream;

  // 4 experts, up to 256 rows each; the valid rows per expert live on the device (masked_m).
  jit::testing::ProblemSpec spec;
  spec.layout = jit::Layout::masked;
  spec.rows = {200, 17, 0, 256};
  spec.max_m = 256;
  spec.n = 4096;
  spec.k = 7168;
  jit::testing::GpuProblem problem(spec, stream);

  // The call a serving engine makes: every pointer is on the device, nothing synchronises.
  jit::GroupedGemmArgs args = problem.grouped_args();
  try {
    jit::grouped_gemm(args, stream);
  } catch (const jit::Unsupported& e) {
    std::printf("%s\n", e.what());
    return 0;
  }
  problem.run_reference(stream);
  const auto check = problem.check(stream);
  std::printf("%s: %s\n", spec.describe().c_str(), check.summary().c_str());
  return check.ok(1e-5) ? 0 : 1;
}
