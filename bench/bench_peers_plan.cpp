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

double grouped_bytes(const testing::ProblemSpec& spec, const Recipe& r) {
  const double es = dtype_size(r.ab), ds = dtype_size(r.d), n = spec.n, k = spec.k;
  const double kb = ceil_div(spec.k, kScaleBlock), nb = ceil_div(spec.n, kScaleBlock);
  double rows = 0, experts = 0;
  for (const GroupSlice& s : group_slices(spec)) {
    rows += s.rows;
    experts += 1;
  }
  double b = rows * k * es + experts * n * k * es + rows * n * ds;
  if (r.sa == ScaleKind::block_1x128) b += rows * kb * 4;
  if (r.sb == ScaleKind::block_128x128) b += experts * nb * kb * 4;
  return b;
}

double dense_equivalent_bytes(const testing::ProblemSpec& spec, const Recipe& r) {
  testing::ProblemSpec one = spec;  // the same valid rows, one expert: a dense problem of V rows
  one.layout = Layout::dense;
  one.rows = {static_cast<int>(dense_equivalent(spec).rows)};
  return grouped_bytes(one, r);
}

double MachineBalance::flop_per_byte(DType ab) const {
  const bool eight = ab == DType::e4m3 || ab == DType::s8;
  const double t = eight ? (tflops_8 > 0 ? tflops_8 : 1450.0) : (tflops_16 > 0 ? tflops_16 : 800.0);
  return t * 1e12 / ((hbm_gbs > 0 ? hbm_gbs : 4300.0) * 1e9);
}

std::string dense_equivalent_skip_reason(const testing::ProblemSpec& spec, const Recipe& r, const MachineBalance& mb) {
  if (spec.layout == Layout::dense) return {};
  const DenseEquivalent de = dense_equivalent(spec);
  if (de.rows == 0) return {};
  const double flops = 2.0 * de.rows * spec.n * spec.k, bal = mb.flop_per_byte(r.ab);
  const double real = grouped_bytes(spec, r), dense = dense_equivalent_bytes(spec, r);
  // Roofline floors in units of bytes at HBM speed.
  const double floor_real = std::max(flops / bal, real), floor_dense = std::max(flops / bal, dense);
  if (floor_dense >= 0.5 * floor_real) return {};
  return fmt::format("dense-equivalent skipped: memory-bound MoE case; with one expert's B it moves {:.0f} of the "
                     "{:.0f} MB ({} experts with rows), roofline floor {:.0f}% of the case's; see grouped peers",
                     dense / 1e6, real / 1e6, group_slices(spec).size(), 100.0 * floor_dense / floor_real);
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
                   int cc_minor, const MachineBalance& mb) {
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
  else if (p.dense_eq) p.unsupported = dense_equivalent_skip_reason(spec, p.recipe, mb);
  return p;
}

double peer_bytes(const PeerPlan& plan, const testing::GpuProblem& problem) {
  return plan.dense_eq ? dense_equivalent_bytes(problem.spec(), plan.recipe) : problem.bytes();
}

std::vector<PeerPlan> scale_variants(const PeerPlan& plan, const testing::ProblemSpec& spec) {
  std::vector<PeerPlan> out = {plan};
  if (plan.id != PeerId::fp8_blk) return out;
  const i64 rows = dense_equivalent(spec).rows;
  const bool rows4 = rows % 4 == 0, kb4 = ceil_div(spec.k, kScaleBlock) % 4 == 0;
  for (const bool pad_rows : {plan.pad_rows, !plan.pad_rows})
    for (const bool pad_kb : {plan.pad_kblocks, !plan.pad_kblocks}) {
      if ((pad_rows != plan.pad_rows && rows4) || (pad_kb != plan.pad_kblocks && kb4)) continue;
      if (pad_rows == plan.pad_rows && pad_kb == plan.pad_kblocks) continue;
      PeerPlan v = plan;
      v.pad_rows = pad_rows;
      v.pad_kblocks = pad_kb;
      out.push_back(v);
    }
  return out;
}

std::string describe_scale_lds(const PeerPlan& plan) {
  if (plan.id != PeerId::fp8_blk) return {};
  return fmt::format("VEC128 ld = rows{}, BLK128x128 ld = K blocks{}", plan.pad_rows ? " rounded up to 4" : "",
                     plan.pad_kblocks ? " rounded up to 4" : "");
}

std::vector<float> vec128_for_cublas(const std::vector<float>& sfa, const testing::ProblemSpec& spec, i64 sfa_ld,
                                     i64 sfa_batch, i64 a_row0, i64 rows, i64 ld_out) {
  const i64 kb = ceil_div(spec.k, kScaleBlock);
  const i64 ld = std::max(ld_out, rows);
  std::vector<float> out(static_cast<std::size_t>(kb * ld), 1.0f);
  for (i64 b = 0; b < kb; ++b)
    for (i64 i = 0; i < rows; ++i) {
      const i64 idx = a_scale_index(spec, a_row0 + i, b, sfa_ld, sfa_batch);
      if (idx < 0 || idx >= static_cast<i64>(sfa.size())) throw Error("bench: A scale index out of range");
      out[b * ld + i] = sfa[idx];
    }
  return out;
}

std::vector<float> blk128_for_cublas(const std::vector<float>& sfb_group, i64 n, i64 k, i64 sfb_ld, bool pad_to_4) {
  const i64 nb = ceil_div(n, kScaleBlock), kb = ceil_div(k, kScaleBlock), l4 = pad_to_4 ? round_up(kb, 4) : kb;
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

DenseCall dense_call(const PeerPlan& plan, const testing::ProblemSpec& spec) {
  DenseCall c;
  c.n = spec.n;
  c.k = spec.k;
  if (plan.dense_eq) {
    const DenseEquivalent de = dense_equivalent(spec);
    c.rows = de.rows;
    c.a_row0 = de.a_row0;
    c.group = de.group;
  } else {
    if (spec.layout != Layout::dense) throw Error("bench: a grouped problem has no single dense call");
    c.rows = spec.rows.at(0);
  }
  return c;
}

LtScales lt_scales(const PeerPlan& plan, const testing::ProblemSpec& spec, const HostScales& h) {
  const DenseCall c = dense_call(plan, spec);
  LtScales out;
  if (plan.id == PeerId::fp8_blk) {
    if (spec.sa != ScaleKind::block_1x128 || spec.sb != ScaleKind::block_128x128)
      throw Error("bench: the block-scaled peer needs a 1x128 / 128x128 problem");
    const i64 nb = ceil_div(spec.n, kScaleBlock), kb = ceil_div(spec.k, kScaleBlock);
    const i64 b_off = static_cast<i64>(c.group) * h.sfb_batch, per_group = nb * h.sfb_ld;
    if (b_off + per_group > static_cast<i64>(h.sfb.size())) throw Error("bench: B scales smaller than the problem");
    out.a = blk128_for_cublas(std::vector<float>(h.sfb.begin() + b_off, h.sfb.begin() + b_off + per_group), spec.n,
                              spec.k, h.sfb_ld, plan.pad_kblocks);
    const i64 ld_b = plan.pad_rows ? round_up(c.rows, 4) : c.rows;
    out.b = vec128_for_cublas(h.sfa, spec, h.sfa_ld, h.sfa_batch, c.a_row0, c.rows, ld_b);
    out.a_reads = nb * (plan.pad_kblocks ? round_up(kb, 4) : kb);
    out.b_reads = kb * ld_b;
  } else if (plan.id == PeerId::fp8_row) {
    if (spec.sa != ScaleKind::per_row || spec.sb != ScaleKind::per_col)
      throw Error("bench: the outer-vector peer needs a per-row / per-column problem");
    const i64 b_off = static_cast<i64>(c.group) * h.sfb_batch;
    if (b_off + c.n > static_cast<i64>(h.sfb.size())) throw Error("bench: B scales smaller than the problem");
    out.a.assign(h.sfb.begin() + b_off, h.sfb.begin() + b_off + c.n);           // cuBLAS m = our N
    out.b = rows_for_cublas(h.sfa, spec, h.sfa_batch, c.a_row0, c.rows);        // cuBLAS n = our rows
    out.a_reads = c.n;
    out.b_reads = c.rows;
  } else {
    throw Error(std::string("bench: ") + peer_name(plan.id) + " takes no scales");
  }
  return out;
}

}  // namespace jit::bench
