#include "runtime/validate.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <limits>

#include "jit/errors.hpp"

namespace jit::detail {

namespace {

constexpr i64 kMaxDim = std::numeric_limits<int>::max();
constexpr int kMaxGroups = 65535;  // a grid dimension limit of the reference kernel

[[noreturn]] void fail(const std::string& arg, const std::string& rule) {
  throw InvalidArgument(arg, rule);
}

bool aligned(const void* p, std::uintptr_t bytes) {
  return reinterpret_cast<std::uintptr_t>(p) % bytes == 0;
}

// rows × ld elements (of `esize` bytes) must be addressable without overflow.
void check_extent(const char* arg, i64 rows, i64 ld, int esize) {
  if (rows > 0 && ld > std::numeric_limits<i64>::max() / esize / rows)
    fail(arg, "rows × ld overflows a 64-bit byte offset");
}

bool is_input_dtype(DType t) {
  return t == DType::bf16 || t == DType::fp16 || t == DType::fp32 || t == DType::e4m3 ||
         t == DType::s8;
}

bool is_output_dtype(DType t) { return t == DType::bf16 || t == DType::fp16 || t == DType::fp32; }

void check_dtype_value(const char* arg, DType t) {
  int v = static_cast<int>(t);
  if (v < 0 || v > static_cast<int>(DType::s8)) fail(arg, "not a jit::DType value");
}

// A K-major (or N-wide) matrix stack: pointer, alignment, ld, batch stride.
void check_matrix(const std::string& name, const void* data, DType dtype, i64* ld, i64* batch,
                  i64 rows, i64 cols, int groups, bool batched, bool may_be_null) {
  const int es = dtype_size(dtype);
  if (!data) {
    if (may_be_null) return;
    fail(name + ".data", "must not be null");
  }
  if (!aligned(data, 16)) fail(name + ".data", "must be 16-byte aligned");
  if (*ld == 0) *ld = cols;
  if (*ld < cols) fail(name + ".ld", fmt::format("must be at least the row length {} (got {})", cols, *ld));
  check_extent((name + ".ld").c_str(), rows, *ld, es);
  if (*ld % (16 / es) != 0)
    fail(name + ".ld", fmt::format("rows must be 16-byte aligned: ld × {} bytes must be a multiple of 16 (ld = {})", es, *ld));
  if (batched) {
    if (*batch == 0) *batch = rows * *ld;
    if (*batch < rows * *ld)
      fail(name + ".batch_stride", fmt::format("must be at least rows × ld = {} (got {})", rows * *ld, *batch));
    if (*batch % (16 / es) != 0) fail(name + ".batch_stride", "each group must start 16-byte aligned");
    check_extent((name + ".batch_stride").c_str(), groups, *batch, es);
  }
}

void check_scales(const std::string& name, Scales& s, bool is_a, i64 rows, i64 n, i64 k,
                  bool batched) {
  const int kv = static_cast<int>(s.kind);
  if (kv < 0 || kv > static_cast<int>(ScaleKind::block_128x128)) fail(name + ".kind", "not a jit::ScaleKind value");
  if (s.kind == ScaleKind::none) {
    if (s.data) fail(name + ".data", "must be null when kind is none");
    return;
  }
  const bool row_kind = s.kind == ScaleKind::per_row || s.kind == ScaleKind::block_1x128;
  if (is_a && !row_kind) fail(name + ".kind", "A takes per_row or block_1x128 scales");
  if (!is_a && row_kind) fail(name + ".kind", "B takes per_col or block_128x128 scales");
  if (!s.data) fail(name + ".data", "must not be null when kind is not none");
  const i64 kb = ceil_div(k, kScaleBlock);
  i64 per_group = 0;
  switch (s.kind) {
    case ScaleKind::per_row: per_group = rows; break;
    case ScaleKind::per_col: per_group = n; break;
    case ScaleKind::block_1x128:
      // TMA loads these along M, so each K block's column of scales must be 16-byte aligned.
      if (!aligned(s.data, 16)) fail(name + ".data", "block_1x128 scales must be 16-byte aligned");
      if (s.ld == 0) s.ld = scale_rows_padded(rows);
      if (s.ld < rows || s.ld % 4 != 0)
        fail(name + ".ld", fmt::format("block_1x128 scales are M-major: ld must be ≥ rows ({}) and a multiple of 4 (got {})", rows, s.ld));
      per_group = kb * s.ld;
      break;
    case ScaleKind::block_128x128:
      if (s.ld == 0) s.ld = kb;
      if (s.ld < kb) fail(name + ".ld", fmt::format("must be at least ceil(K/128) = {} (got {})", kb, s.ld));
      per_group = ceil_div(n, kScaleBlock) * s.ld;
      break;
    case ScaleKind::none: break;
  }
  if (!aligned(s.data, 4)) fail(name + ".data", "must be 4-byte aligned");
  if (batched) {
    if (s.batch_stride == 0) s.batch_stride = per_group;
    if (s.batch_stride < per_group)
      fail(name + ".batch_stride", fmt::format("must be at least {} per group (got {})", per_group, s.batch_stride));
    if (s.kind == ScaleKind::block_1x128 && s.batch_stride % 4 != 0)
      fail(name + ".batch_stride", "must be a multiple of 4 for block_1x128 scales");
  }
}

}  // namespace

GroupedGemmArgs as_grouped(const GemmArgs& a) {
  GroupedGemmArgs g;
  g.layout = Layout::dense;
  g.num_groups = 1;
  g.m = a.m;
  g.n = a.n;
  g.k = a.k;
  g.a = a.a;
  g.b = a.b;
  g.a_scales = a.a_scales;
  g.b_scales = a.b_scales;
  g.d = a.d;
  g.c = a.c;
  g.workspace = a.workspace;
  return g;
}

GroupedGemmArgs normalize(const GroupedGemmArgs& in) {
  GroupedGemmArgs g = in;
  const int lv = static_cast<int>(g.layout);
  if (lv < 0 || lv > static_cast<int>(Layout::masked)) fail("layout", "not a jit::Layout value");
  const bool dense = g.layout == Layout::dense;
  const bool masked = g.layout == Layout::masked;

  if (dense && g.num_groups != 1) fail("num_groups", "must be 1 for the dense layout");
  if (g.num_groups < 1 || g.num_groups > kMaxGroups)
    fail("num_groups", fmt::format("must be in [1, {}] (got {})", kMaxGroups, g.num_groups));
  if (g.m < 0 || g.m > kMaxDim) fail("m", fmt::format("must be in [0, {}] (got {})", kMaxDim, g.m));
  if (g.n < 1 || g.n > kMaxDim) fail("n", fmt::format("must be in [1, {}] (got {})", kMaxDim, g.n));
  if (g.k < 1 || g.k > kMaxDim) fail("k", fmt::format("must be in [1, {}] (got {})", kMaxDim, g.k));
  if (masked && g.expected_m < 0) fail("expected_m", "must not be negative");

  check_dtype_value("a.dtype", g.a.dtype);
  check_dtype_value("b.dtype", g.b.dtype);
  check_dtype_value("d.dtype", g.d.dtype);
  if (!is_input_dtype(g.a.dtype)) fail("a.dtype", "unsupported input type");
  if (g.a.dtype != g.b.dtype)
    fail("b.dtype", fmt::format("must match a.dtype ({} vs {})", dtype_name(g.b.dtype), dtype_name(g.a.dtype)));
  if (!is_output_dtype(g.d.dtype)) fail("d.dtype", "must be bf16, fp16 or fp32");

  const int es = dtype_size(g.a.dtype);
  if (g.k % (16 / es) != 0)
    fail("k", fmt::format("rows of A and B must be 16-byte aligned: K must be a multiple of {} for {} (got {})",
                          16 / es, dtype_name(g.a.dtype), g.k));
  if (g.n % 8 != 0) fail("n", fmt::format("must be a multiple of 8 (got {})", g.n));

  const int G = g.num_groups;
  const bool empty = g.m == 0;
  check_matrix("a", g.a.data, g.a.dtype, &g.a.ld, &g.a.batch_stride, g.m, g.k, G, masked, empty);
  check_matrix("b", g.b.data, g.b.dtype, &g.b.ld, &g.b.batch_stride, g.n, g.k, G, true, false);
  check_matrix("d", g.d.data, g.d.dtype, &g.d.ld, &g.d.batch_stride, g.m, g.n, G, masked, empty);
  if (g.c.data) {
    if (g.c.dtype != DType::fp32 && g.c.dtype != g.d.dtype)
      fail("c.dtype", "must be fp32 or the output's dtype");
    check_matrix("c", g.c.data, g.c.dtype, &g.c.ld, &g.c.batch_stride, g.m, g.n, G, masked, true);
  }
  if (g.d.data && (g.d.data == g.a.data || g.d.data == g.b.data))
    fail("d.data", "must not alias A or B");

  check_scales("a_scales", g.a_scales, true, g.m, g.n, g.k, masked);
  check_scales("b_scales", g.b_scales, false, g.m, g.n, g.k, true);

  auto need = [&](const i32* p, const char* name, bool wanted, const char* why) {
    if (wanted && !p && !empty) fail(name, why);
    if (!wanted && p) fail(name, fmt::format("must be null for the {} layout", layout_name(g.layout)));
    if (p && !aligned(p, 4)) fail(name, "must be 4-byte aligned");
  };
  need(g.m_indices, "m_indices", g.layout == Layout::contiguous_indices,
       "the contiguous_indices layout needs m_indices (int32 per row, on the device)");
  need(g.group_offsets, "group_offsets", g.layout == Layout::contiguous_offsets,
       "the contiguous_offsets layout needs group_offsets (int32 per group, on the device)");
  need(g.masked_m, "masked_m", masked, "the masked layout needs masked_m (int32 per group, on the device)");
  if (masked && !g.masked_m) fail("masked_m", "the masked layout needs masked_m (int32 per group, on the device)");
  if (g.workspace.bytes > 0 && !g.workspace.data) fail("workspace.data", "must not be null when workspace.bytes > 0");
  if (g.workspace.data && !aligned(g.workspace.data, 256)) fail("workspace.data", "must be 256-byte aligned");
  return g;
}

namespace {

bool same_operand(const Operand& x, const Operand& y) {
  return x.data == y.data && x.dtype == y.dtype && x.ld == y.ld && x.batch_stride == y.batch_stride;
}

bool same_scales(const Scales& x, const Scales& y) {
  return x.kind == y.kind && x.data == y.data && x.ld == y.ld && x.batch_stride == y.batch_stride;
}

}  // namespace

bool same_call(const GroupedGemmArgs& x, const GroupedGemmArgs& y) {
  return x.layout == y.layout && x.num_groups == y.num_groups && x.m == y.m && x.n == y.n && x.k == y.k &&
         same_operand(x.a, y.a) && same_operand(x.b, y.b) && same_operand(x.c, y.c) && x.d.data == y.d.data &&
         x.d.dtype == y.d.dtype && x.d.ld == y.d.ld && x.d.batch_stride == y.d.batch_stride &&
         same_scales(x.a_scales, y.a_scales) && same_scales(x.b_scales, y.b_scales) &&
         x.m_indices == y.m_indices && x.group_offsets == y.group_offsets && x.masked_m == y.masked_m &&
         x.expected_m == y.expected_m && x.workspace.data == y.workspace.data &&
         x.workspace.bytes == y.workspace.bytes;
}

}  // namespace jit::detail

namespace jit {

ProblemDesc describe(const GroupedGemmArgs& g) {
  ProblemDesc p;
  p.layout = g.layout;
  p.num_groups = g.num_groups;
  p.m = g.m;
  p.n = g.n;
  p.k = g.k;
  p.expected_m = g.layout == Layout::masked ? g.expected_m : 0;
  p.a = g.a.dtype;
  p.b = g.b.dtype;
  p.d = g.d.dtype;
  p.a_scale = g.a_scales.kind;
  p.b_scale = g.b_scales.kind;
  p.has_c = g.c.data != nullptr;
  p.c = p.has_c ? g.c.dtype : DType::fp32;
  return p;
}

ProblemDesc describe(const GemmArgs& a) { return describe(detail::as_grouped(a)); }

}  // namespace jit
