// Argument checking for every public entry point. Runs before anything touches the GPU; a broken
// rule throws InvalidArgument naming the argument and the rule.
#pragma once

#include "jit/gemm.hpp"
#include "jit/runtime.hpp"

namespace jit::detail {

// Dense args as the single-group case of the grouped form.
GroupedGemmArgs as_grouped(const GemmArgs& a);

// Fills the packed defaults (ld, batch strides, scale strides) and checks every rule.
GroupedGemmArgs normalize(const GroupedGemmArgs& in);

// Whether two normalized calls are the same call (every pointer, size, stride and count): lets a
// family reuse the parameters it built last time (e.g. tensor maps) when a loop repeats a call.
bool same_call(const GroupedGemmArgs& x, const GroupedGemmArgs& y);

// Rows of A whose scales are addressed by m: total rows (contiguous, dense) or max_m (masked).
inline i64 scale_rows_padded(i64 rows) { return (rows + 3) / 4 * 4; }
inline i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }

}  // namespace jit::detail
