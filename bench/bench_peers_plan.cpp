// Peer planning (what each cuBLAS peer computes for a problem, or why it cannot run) and the host-side
// scale repacks into cuBLASLt's layouts. No GPU and no cuBLAS call here: all of it is CPU-tested.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "bench/bench_peers.hpp"
#include "jit/errors.hpp"

namespace jit::bench {

namespace {

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }
i64 round_up(i64 a, i64 b) { return ceil_div(a, b) * b; }

i64 effective_max_m(const testing::ProblemSpec& spec) {
  if (spec.max_m > 0) return spec.max_m;
  return std::max(1, *std::max_element(spec.rows.begin(), spec.rows.end()));
}

// Index of A row `r` (as the problem stores A) in a per-row (batch) or M-major block (ld, batch) array.
i64 a_scale_index(const testing::ProblemSpec& spec, i64 r, i64 kb, i64 ld, i64 batch) {
  if (spec.layout == Layout::masked) {
    const i64 max_m = effective_max_m(spec);
    return (r / max_m) * batch + kb * ld + r % max_m;
  }
  return kb * ld + r;
}

std::string math_of(PeerId id, const Recipe& r) {
  const char* t = dtype_name(r.ab);
  switch (id) {
    case PeerId::cublas:
      return fmt::format("cublasGemmEx {0} TN: D^T[N,M] = B·A^T (cuBLAS A = our B, op T; cuBLAS B = our A, op N), "
                         "m=N n=M k=K, fp32 compute, {0} out, CUBLAS_GEMM_DEFAULT", t);
    case PeerId::cublaslt:
      return fmt::format("cublasLtMatmul {0} TN (cuBLAS A = our B, op T; cuBLAS B = our A, op N), fp32 compute, "
                         "{0} out, first heuristic algo, 32 MiB workspace", t);
    case PeerId::cublas_grouped:
      return fmt::format("cublasGemmGroupedBatchedEx {0}: one group (size 1) per non-empty expert g, "
                         "D_g^T = B_g·A_g^T TN, pointer arrays on the device, D rows at the same positions as ours", t);
    case PeerId::cublaslt_grouped: return "grouped cublasLtMatmul";
    case PeerId::fp8_blk:
      return "cublasLtMatmul e4m3 TN, BF16 out, fp32 compute: cuBLAS A = our B with BLK128x128_32F scales (our "
             "[N/128][K/128] blocks, ld padded to a multiple of 4), cuBLAS B = our A with VEC128_32F scales "
             "(our M-major 1x128 scales, ld = rows)";
    case PeerId::fp8_row:
      return "cublasLtMatmul e4m3 TN, BF16 out, fp32 compute, no fast accumulation: OUTER_VEC_32F, cuBLAS A "
             "scale = our per-column B scales [N], cuBLAS B scale = our per-row A scales [M]";
  }
  return "?";
}

}  // namespace

std::vector<GroupSlice> group_slices(const testing::ProblemSpec& spec) {
  std::vector<GroupSlice> out;
  const int G = static_cast<int>(spec.rows.size());
  i64 at = 0;
  for (int g = 0; g < G; ++g) {
    const i64 r = std::max(0, spec.rows[g]);
    switch (spec.layout) {
      case Layout::dense: out.push_back({0, 0, r}); return out;
      case Layout::contiguous_indices:
        if (r > 0) out.push_back({g, at, r});
        at += round_up(r, contiguous_alignment());
        break;
      case Layout::contiguous_offsets:
        if (r > 0) out.push_back({g, at, r});
        at += r;
        break;
      case Layout::masked: {
        const i64 max_m = effective_max_m(spec);
        const i64 valid = std::min(r, max_m);
        if (valid > 0) out.push_back({g, g * max_m, valid});
        break;
      }
    }
  }
  return out;
}

DenseEquivalent dense_equivalent(const testing::ProblemSpec& spec) {
  DenseEquivalent d;
  const std::vector<GroupSlice> slices = group_slices(spec);
  if (slices.empty()) return d;
  d.group = slices.front().group;
  d.a_row0 = slices.front().row0;
  d.check_rows = slices.front().rows;
  for (const GroupSlice& s : slices) d.rows += s.rows;
  return d;
}

testing::ProblemSpec peer_spec(const testing::ProblemSpec& spec, const Recipe& r) {
  testing::ProblemSpec p = spec;
  p.ab = r.ab;
  p.d = r.d;
  p.sa = r.sa;
  p.sb = r.sb;
  return p;
}

PeerPlan plan_peer(PeerId id, const Recipe& bench_recipe, const testing::ProblemSpec& spec, int cc_major,
                   int cc_minor) {
  PeerPlan p;
  p.id = id;
  p.name = peer_name(id);
  const bool moe = spec.layout != Layout::dense;
  const bool half = bench_recipe.ab == DType::bf16 || bench_recipe.ab == DType::fp16;
  const bool fp8 = id == PeerId::fp8_blk || id == PeerId::fp8_row;
  p.recipe = id == PeerId::fp8_blk ? parse_recipe("fp8")
             : id == PeerId::fp8_row ? parse_recipe("fp8-row")
             : half                  ? bench_recipe
                                     : parse_recipe("bf16");
  p.dense_eq = moe && !peer_is_grouped(id);
  p.scope = p.dense_eq ? CheckScope::group_rows : CheckScope::full;
  p.same_math = p.recipe.name == bench_recipe.name && !p.dense_eq;

  p.computes = math_of(id, p.recipe);
  const DenseEquivalent de = dense_equivalent(spec);
  if (p.dense_eq)
    p.computes += fmt::format("; MoE dense-equivalent: ONE GEMM over the V={} valid rows, A rows from {}, "
                              "expert {}'s B (same FLOPs, not the grouped math; checked on expert {}'s {} rows)",
                              de.rows, de.a_row0, de.group, de.group, de.check_rows);
  if (p.recipe.name != bench_recipe.name)
    p.computes += fmt::format("; on a {} copy of the problem (speed reference, checked against its own reference)",
                              p.recipe.name);

  const int cc = cc_major * 10 + cc_minor;
  if (!have_cublas()) p.unsupported = "built without cuBLAS (JITGEMM_HAVE_CUBLAS off)";
  else if (peer_is_grouped(id) && !moe) p.unsupported = "dense shape (grouped peers run MoE layouts)";
  else if (id == PeerId::cublaslt_grouped)
    p.unsupported = "no grouped cublasLtMatmul in this cuBLAS (" + cublas_version() + ")";
  else if (fp8 && cc < 90) p.unsupported = "cuBLASLt block/outer-vector FP8 scaling needs Hopper (sm_90)";
  else if (cc < 80) p.unsupported = "BF16 tensor cores need sm_80";
  else if (de.rows == 0) p.unsupported = "no valid rows";
  return p;
}

double peer_bytes(const PeerPlan& plan, const testing::GpuProblem& problem) {
  if (!plan.dense_eq) return problem.bytes();
  const DenseEquivalent de = dense_equivalent(problem.spec());
  const double es = dtype_size(plan.recipe.ab), ds = dtype_size(plan.recipe.d);
  const double n = problem.spec().n, k = problem.spec().k, v = de.rows;
  double b = v * k * es + n * k * es + v * n * ds;
  const double kb = ceil_div(problem.spec().k, kScaleBlock);
  if (plan.recipe.sa == ScaleKind::block_1x128) b += v * kb * 4 + ceil_div(problem.spec().n, kScaleBlock) * kb * 4;
  if (plan.recipe.sa == ScaleKind::per_row) b += (v + n) * 4;
  return b;
}

std::vector<float> vec128_for_cublas(const std::vector<float>& sfa, const testing::ProblemSpec& spec, i64 sfa_ld,
                                     i64 sfa_batch, i64 a_row0, i64 rows) {
  const i64 kb = ceil_div(spec.k, kScaleBlock);
  std::vector<float> out(static_cast<std::size_t>(kb * rows));
  for (i64 b = 0; b < kb; ++b)
    for (i64 i = 0; i < rows; ++i) {
      const i64 idx = a_scale_index(spec, a_row0 + i, b, sfa_ld, sfa_batch);
      if (idx < 0 || idx >= static_cast<i64>(sfa.size())) throw Error("bench: A scale index out of range");
      out[b * rows + i] = sfa[idx];
    }
  return out;
}

std::vector<float> blk128_for_cublas(const std::vector<float>& sfb_group, i64 n, i64 k, i64 sfb_ld) {
  const i64 nb = ceil_div(n, kScaleBlock), kb = ceil_div(k, kScaleBlock), l4 = round_up(kb, 4);
  if (sfb_ld < kb || static_cast<i64>(sfb_group.size()) < (nb - 1) * sfb_ld + kb)
    throw Error("bench: B scales smaller than their shape");
  std::vector<float> out(static_cast<std::size_t>(nb * l4), 1.0f);  // padding K blocks scale nothing
  for (i64 i = 0; i < nb; ++i)
    for (i64 b = 0; b < kb; ++b) out[i * l4 + b] = sfb_group[i * sfb_ld + b];
  return out;
}

std::vector<float> rows_for_cublas(const std::vector<float>& sfa, const testing::ProblemSpec& spec, i64 sfa_batch,
                                   i64 a_row0, i64 rows) {
  std::vector<float> out(static_cast<std::size_t>(rows));
  for (i64 i = 0; i < rows; ++i) {
    const i64 idx = a_scale_index(spec, a_row0 + i, 0, 0, sfa_batch);
    if (idx < 0 || idx >= static_cast<i64>(sfa.size())) throw Error("bench: A scale index out of range");
    out[i] = sfa[idx];
  }
  return out;
}

}  // namespace jit::bench
