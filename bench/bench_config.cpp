// Parsing and validation of `jitgemm bench` choices: layouts, families, peers.
#include "bench/bench_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "jit/errors.hpp"

namespace jit::bench {

namespace {

std::int64_t round_up(std::int64_t a, std::int64_t b) { return (a + b - 1) / b * b; }

}  // namespace

LayoutChoice parse_layout_choice(const std::string& name) {
  if (name == "as-suite" || name.empty()) return LayoutChoice::as_suite;
  if (name == "contiguous" || name == "contiguous_indices") return LayoutChoice::contiguous;
  if (name == "contiguous_offsets" || name == "contiguous-offsets") return LayoutChoice::contiguous_offsets;
  if (name == "masked") return LayoutChoice::masked;
  throw InvalidArgument("layout", "'" + name + "' is not one of as-suite, contiguous, contiguous_offsets, masked");
}

const char* layout_choice_name(LayoutChoice c) {
  switch (c) {
    case LayoutChoice::as_suite: return "as-suite";
    case LayoutChoice::contiguous: return "contiguous";
    case LayoutChoice::contiguous_offsets: return "contiguous_offsets";
    case LayoutChoice::masked: return "masked";
  }
  return "?";
}

SuiteShape apply_layout(const SuiteShape& s, LayoutChoice c) {
  if (c == LayoutChoice::as_suite || s.layout == Layout::dense) return s;
  SuiteShape r = s;
  switch (c) {
    case LayoutChoice::contiguous: r.layout = Layout::contiguous_indices; break;
    case LayoutChoice::contiguous_offsets: r.layout = Layout::contiguous_offsets; break;
    case LayoutChoice::masked: r.layout = Layout::masked; break;
    case LayoutChoice::as_suite: break;
  }
  if (r.layout == Layout::masked && r.max_m <= 0) {
    // make_spec draws [0.7, 1.3] x m (or [0, 2] x m for m <= 32): room for the largest draw.
    r.max_m = s.m <= 32 ? std::max<std::int64_t>(32, round_up(2 * s.m, 32))
                        : round_up((s.m * 13 + 9) / 10 + 1, 128);
  }
  if (r.layout != Layout::masked) r.max_m = 0;
  return r;
}

std::vector<FamilyChoice> parse_families(const std::string& csv) {
  std::vector<FamilyChoice> out;
  for (const std::string& name : split_csv(csv)) {
    FamilyChoice f;
    f.family = parse_family(name);  // throws InvalidArgument with the valid names
    f.name = family_name(f.family);
    const bool dup = std::any_of(out.begin(), out.end(), [&](const FamilyChoice& o) { return o.family == f.family; });
    if (!dup) out.push_back(f);
  }
  if (out.empty()) throw InvalidArgument("families", "name at least one of auto, reference, sm80, sm90");
  return out;
}

const std::vector<PeerInfo>& peer_catalog() {
  static const std::vector<PeerInfo> all = {
      {PeerId::cublas, "cublas", "cublasGemmEx BF16/FP16 (MoE: one GEMM over the valid rows)"},
      {PeerId::cublaslt, "cublaslt", "cublasLtMatmul BF16/FP16, heuristic algo (MoE: over the valid rows)"},
      {PeerId::cublas_grouped, "cublas-grouped", "cublasGemmGroupedBatchedEx BF16/FP16, one group per expert"},
      {PeerId::cublaslt_grouped, "cublaslt-grouped", "grouped cublasLtMatmul (where the installed cuBLAS has it)"},
      {PeerId::fp8_blk, "cublaslt-fp8-blk", "cuBLASLt e4m3, VEC128_32F (A) / BLK128x128_32F (B) scales, BF16 out"},
      {PeerId::fp8_row, "cublaslt-fp8-row", "cuBLASLt e4m3, OUTER_VEC_32F per-row/per-column scales, BF16 out"},
  };
  return all;
}

const char* peer_name(PeerId id) {
  for (const PeerInfo& p : peer_catalog())
    if (p.id == id) return p.name;
  return "?";
}

bool peer_is_grouped(PeerId id) { return id == PeerId::cublas_grouped || id == PeerId::cublaslt_grouped; }

std::vector<PeerId> parse_peers(const std::string& spec, const Recipe& recipe, bool suite_has_moe) {
  std::vector<PeerId> out;
  if (spec == "none") return out;
  if (spec == "all" || spec.empty()) {
    const bool fp8 = recipe.ab == DType::e4m3;
    if (fp8) out = {PeerId::fp8_blk, PeerId::fp8_row};
    out.push_back(PeerId::cublas);
    if (recipe.ab == DType::bf16 || recipe.ab == DType::fp16) out.push_back(PeerId::cublaslt);
    if (suite_has_moe) {
      out.push_back(PeerId::cublas_grouped);
      out.push_back(PeerId::cublaslt_grouped);
    }
    return out;
  }
  for (const std::string& name : split_csv(spec)) {
    const auto it = std::find_if(peer_catalog().begin(), peer_catalog().end(),
                                 [&](const PeerInfo& p) { return name == p.name; });
    if (it == peer_catalog().end()) {
      std::string known;
      for (const PeerInfo& p : peer_catalog()) known += std::string(" ") + p.name;
      throw InvalidArgument("peers", "'" + name + "' is not all, none or one of" + known);
    }
    if (std::find(out.begin(), out.end(), it->id) == out.end()) out.push_back(it->id);
  }
  return out;
}

void validate(const BenchConfig& c) {
  if (c.suite.empty() && !c.ceilings)
    throw InvalidArgument("suite", "give --suite NAME or --shapes FILE (or --ceilings alone)");
  if (c.iters < 1) throw InvalidArgument("iters", "at least 1 timed call");
  if (c.warmup < 0) throw InvalidArgument("warmup", "cannot be negative");
  if (c.budget_s < 0) throw InvalidArgument("budget-s", "cannot be negative (0: no cap)");
  if (!(c.tol > 0)) throw InvalidArgument("tol", "must be positive");
  parse_recipe(c.dtype);
  parse_families(c.families);
  parse_peers(c.peers, parse_recipe(c.dtype), true);
}

}  // namespace jit::bench
