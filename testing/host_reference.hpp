// A CPU GEMM with the library's exact semantics (layouts, scales, two-level accumulation), for
// checking the reference family itself on small problems. Slow on purpose: plain loops in double.
#pragma once

#include <cstdint>
#include <vector>

#include "testing/problem.hpp"

namespace jit::testing {

float host_to_float(DType t, const std::uint8_t* p);

// D for every row of the problem's output (invalid rows: NaN), as float.
std::vector<float> host_gemm(const GpuProblem& p);

// The problem's output `d` (device, p.spec().d) downloaded and converted to float.
std::vector<float> host_output(const GpuProblem& p, const void* d);

}  // namespace jit::testing
