// jit::transpose_a_scales: validation, then the small JIT kernel of
// kernel_src/jit/util/transpose_scales.cuh through the global runtime's auxiliary-kernel path.
#include "jit/scales.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "jit/errors.hpp"
#include "jit/runtime.hpp"
#include "jit/util/transpose_scales_params.cuh"
#include "runtime/codegen.hpp"
#include "runtime/launcher.hpp"

namespace jit {

namespace {

constexpr int kTile = 32;

[[noreturn]] void fail(const char* arg, const std::string& rule) { throw InvalidArgument(arg, rule); }

// Elements spanned by `groups` matrices of `rows` x `cols` (row stride ld, group stride batch).
i64 span(int groups, i64 batch, i64 rows, i64 ld, i64 cols) {
  if (groups == 0 || rows == 0) return 0;
  return (groups - 1) * batch + (rows - 1) * ld + cols;
}

}  // namespace

void transpose_a_scales(const float* in, float* out, i64 rows, i64 k, CUstream stream, i64 in_ld, i64 out_ld,
                        int num_groups, i64 in_batch, i64 out_batch) {
  constexpr i64 kMax = std::numeric_limits<int>::max();
  if (rows < 0 || rows > kMax) fail("rows", fmt::format("must be in [0, {}] (got {})", kMax, rows));
  if (k < 1 || k > kMax) fail("k", fmt::format("must be in [1, {}] (got {})", kMax, k));
  if (num_groups < 1) fail("num_groups", fmt::format("must be at least 1 (got {})", num_groups));
  if (!in) fail("in", "must not be null");
  if (!out) fail("out", "must not be null");
  if (reinterpret_cast<std::uintptr_t>(in) % 4 != 0) fail("in", "must be 4-byte aligned");
  if (reinterpret_cast<std::uintptr_t>(out) % 16 != 0)
    fail("out", "must be 16-byte aligned (the FP8 kernels load each K block's scales with TMA)");
  const i64 kb = (k + kScaleBlock - 1) / kScaleBlock;
  if (in_ld == 0) in_ld = kb;
  if (in_ld < kb) fail("in_ld", fmt::format("must be at least ceil(k/128) = {} (got {})", kb, in_ld));
  if (out_ld == 0) out_ld = a_scales_ld(rows);
  if (out_ld < rows || out_ld % 4 != 0)
    fail("out_ld", fmt::format("must be at least rows ({}) and a multiple of 4 (got {})", rows, out_ld));
  if (out_ld == 0) return;  // no rows: nothing to write
  if (rows > 0 && in_ld > std::numeric_limits<i64>::max() / 4 / rows) fail("in_ld", "rows x in_ld overflows");
  if (out_ld > std::numeric_limits<i64>::max() / 4 / kb) fail("out_ld", "ceil(k/128) x out_ld overflows");
  if (in_batch == 0) in_batch = rows * in_ld;
  if (out_batch == 0) out_batch = kb * out_ld;
  if (in_batch < rows * in_ld) fail("in_batch", fmt::format("must be at least rows x in_ld = {}", rows * in_ld));
  if (out_batch < kb * out_ld || out_batch % 4 != 0)
    fail("out_batch", fmt::format("must be at least ceil(k/128) x out_ld = {} and a multiple of 4", kb * out_ld));
  if (num_groups > 1 && (in_batch > std::numeric_limits<i64>::max() / 4 / num_groups ||
                         out_batch > std::numeric_limits<i64>::max() / 4 / num_groups))
    fail("num_groups", "the group strides overflow");
  // The byte ranges the kernel reads and writes must be disjoint (it is not an in-place transpose).
  const auto lo_in = reinterpret_cast<std::uintptr_t>(in), lo_out = reinterpret_cast<std::uintptr_t>(out);
  const std::uintptr_t hi_in = lo_in + 4 * static_cast<std::uintptr_t>(span(num_groups, in_batch, rows, in_ld, kb));
  const std::uintptr_t hi_out = lo_out + 4 * static_cast<std::uintptr_t>(span(num_groups, out_batch, kb, out_ld, out_ld));
  if (rows > 0 && lo_in < hi_out && lo_out < hi_in) fail("out", "must not overlap in");

  util::TransposeScalesParams p{};
  p.in = in;
  p.out = out;
  p.rows = rows;
  p.kb = kb;
  p.ld_in = in_ld;
  p.batch_in = in_batch;
  p.ld_out = out_ld;
  p.batch_out = out_batch;
  p.groups = num_groups;

  detail::TemplateArgs args;
  args.add("TILE", kTile);
  static const detail::KernelSource src = detail::render_instantiation(
      "jit/util/transpose_scales.cuh", "jit::util::transpose_scales_kernel", "jit::util::TransposeScalesParams", args);
  CUfunction fn = Runtime::global().load_kernel(stream, src.stub, src.name_expr);
  const i64 tiles = ((out_ld + kTile - 1) / kTile) * ((kb + kTile - 1) / kTile) * num_groups;
  detail::LaunchDims d;
  d.grid[0] = static_cast<unsigned>(std::clamp<i64>(tiles, 1, 1 << 20));
  d.block[0] = kTile;
  d.block[1] = 8;
  detail::launch_kernel(fn, d, p, stream, "transpose_a_scales");
}

}  // namespace jit
