// `jitgemm bench`: what to run (suite, recipe, layout, our families, cuBLAS peers, method) and the
// entry point the CLI calls. Everything here is plain C++ that runs and is tested without a GPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/suite.hpp"
#include "jit/options.hpp"

namespace jit::bench {

// --layout: run a suite's grouped shapes in another MoE layout (dense shapes stay dense).
enum class LayoutChoice { as_suite, contiguous, contiguous_offsets, masked };
LayoutChoice parse_layout_choice(const std::string& name);  // throws InvalidArgument
const char* layout_choice_name(LayoutChoice c);
// The shape with its layout replaced. A shape turned masked gets max_m = the rows its groups can draw.
SuiteShape apply_layout(const SuiteShape& s, LayoutChoice c);

// --families: our kernel families by name ("auto" = what the heuristics pick).
struct FamilyChoice {
  std::string name;
  Family family = Family::automatic;
};
std::vector<FamilyChoice> parse_families(const std::string& csv);  // throws InvalidArgument

// --peers: cuBLAS/cuBLASLt implementations run in-process beside ours.
enum class PeerId {
  cublas,            // cublasGemmEx, BF16/FP16 (dense, or dense-equivalent on MoE layouts)
  cublaslt,          // cublasLtMatmul, BF16/FP16, heuristic algo
  cublas_grouped,    // cublasGemmGroupedBatchedEx, one group per non-empty expert
  cublaslt_grouped,  // grouped cublasLtMatmul (needs a cuBLAS that has it)
  fp8_blk,           // cuBLASLt e4m3, VEC128 (A) / BLK128x128 (B) scales
  fp8_row,           // cuBLASLt e4m3, outer-vector (per-row A / per-column B) scales
};
struct PeerInfo {
  PeerId id;
  const char* name;     // as typed on the command line
  const char* summary;  // one line for --help and the table legend
};
const std::vector<PeerInfo>& peer_catalog();
const char* peer_name(PeerId id);
bool peer_is_grouped(PeerId id);
// "all" (the peers that fit the recipe; grouped ones only if the suite has MoE shapes), "none",
// or a comma list of names. Throws InvalidArgument on an unknown name.
std::vector<PeerId> parse_peers(const std::string& spec, const Recipe& recipe, bool suite_has_moe);

struct BenchConfig {
  std::string suite;                 // suite name or .shapes path; may be empty with --ceilings
  std::string dtype = "fp8";
  LayoutChoice layout = LayoutChoice::as_suite;
  std::string families = "auto";
  std::string peers = "all";
  int warmup = 3;
  int iters = 20;
  double budget_s = 5.0;             // cap on timed calls of a slow implementation (>= 1 call)
  std::string json_path;             // JSON lines out ("" = none)
  std::uint64_t seed = 2026;
  bool check = true;                 // check every output against the reference family
  double tol = 1e-3;                 // calc_diff above this (or any NaN/unwritten/padding write) = wrong
  bool ceilings = false;             // measure the device ceilings first
  std::string ceilings_from;         // else read the last ceiling records of this JSON-lines file
  std::size_t flush_bytes = std::size_t{512} << 20;  // memset before each timed call (L2 flush)
  std::string command_line;          // recorded in the environment record
};

// Throws InvalidArgument for values no run could use (iters < 1, nothing to do, ...).
void validate(const BenchConfig& c);

// Runs the benchmark: tables on stdout, JSON lines to c.json_path. Returns the exit code: 0 when
// everything ran (or there is no GPU: nothing to time), 1 when an implementation gave a wrong result.
int run_bench(const BenchConfig& c);

}  // namespace jit::bench
