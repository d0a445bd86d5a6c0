// jitgemm bench: our kernel families and cuBLAS/cuBLASLt side by side in one process (bench/bench_*.cpp).
#include <fmt/format.h>

#include <cstdio>

#include "bench/bench_config.hpp"
#include "cli/commands.hpp"

namespace jit::cli {

namespace {

std::string command_line(const bench::BenchConfig& c, const std::string& shapes) {
  std::string s = "jitgemm bench";
  if (!shapes.empty()) s += " --shapes " + shapes;
  else if (!c.suite.empty()) s += " --suite " + c.suite;
  s += fmt::format(" --dtype {} --layout {} --families {} --peers {} --warmup {} --iters {} --budget-s {} --seed {} --tol {}{}",
                   c.dtype, bench::layout_choice_name(c.layout), c.families, c.peers, c.warmup, c.iters, c.budget_s, c.seed, c.tol,
                   c.check ? "" : " --no-check");
  if (c.ceilings) s += " --ceilings";
  if (!c.ceilings_from.empty()) s += " --ceilings-from " + c.ceilings_from;
  if (!c.json_path.empty()) s += " --json " + c.json_path;
  return s;
}

}  // namespace

void add_bench(CLI::App& app) {
  static bench::BenchConfig cfg;
  static std::string shapes, layout = "as-suite";
  static std::size_t flush_mb = 512;
  static bool list_peers = false;
  auto* cmd = app.add_subcommand(
      "bench", "time our kernel families beside cuBLAS/cuBLASLt (tables, JSON lines; tools/plot-bench draws them)");
  auto* suite = cmd->add_option("--suite", cfg.suite, "a suite name (deepgemm-dense, moe-contiguous, moe-masked, "
                                                      "moe-decode, odd) or a .shapes file");
  auto* file = cmd->add_option("--shapes", shapes, "a .shapes file (layout groups m n k [max_m] per line)");
  suite->excludes(file);
  cmd->add_option("--dtype", cfg.dtype, "recipe: bf16, fp16, fp8 (e4m3, 1x128/128x128 scales), fp8-row, int8")
      ->capture_default_str();
  cmd->add_option("--layout", layout, "as-suite, contiguous, contiguous_offsets or masked (MoE shapes only)")
      ->capture_default_str();
  cmd->add_option("--families", cfg.families, "ours, comma-separated: auto, reference, sm80, sm90")
      ->capture_default_str();
  cmd->add_option("--peers", cfg.peers, "all, none, or comma-separated names (see --list-peers)")->capture_default_str();
  cmd->add_option("--warmup", cfg.warmup, "untimed calls before timing")->capture_default_str();
  cmd->add_option("--iters", cfg.iters, "timed calls (median and spread of these)")->capture_default_str();
  cmd->add_option("--budget-s", cfg.budget_s,
                  "seconds of timed calls for an implementation that is slow (the reference family): "
                  "fewer than --iters (at least 1) when a call takes longer than budget/iters; 0: no cap")
      ->capture_default_str();
  cmd->add_option("--json", cfg.json_path, "write JSON lines here (environment, ceilings, one record per measurement)");
  cmd->add_option("--seed", cfg.seed, "seed of the inputs and of the MoE group sizes")->capture_default_str();
  cmd->add_flag("--check,!--no-check", cfg.check, "check every output against the reference family (default on)");
  cmd->add_option("--tol", cfg.tol, "calc_diff above which a result is wrong")->capture_default_str();
  cmd->add_flag("--ceilings", cfg.ceilings, "measure HBM copy, mma.sync rates and the best cuBLAS GEMMs first");
  cmd->add_option("--ceilings-from", cfg.ceilings_from, "else take the ceilings from this JSON-lines file");
  cmd->add_option("--flush-mb", flush_mb, "MB memset before each timed call (L2 flush)")->capture_default_str();
  cmd->add_flag("--list-peers", list_peers, "list the peers and what each computes");
  cmd->callback([] {
    if (list_peers) {
      for (const bench::PeerInfo& p : bench::peer_catalog()) std::printf("%-18s %s\n", p.name, p.summary);
      return;
    }
    if (!shapes.empty()) cfg.suite = shapes;
    cfg.layout = bench::parse_layout_choice(layout);
    cfg.flush_bytes = flush_mb << 20;
    cfg.command_line = command_line(cfg, shapes);
    const int code = bench::run_bench(cfg);
    if (code != 0) exit_with(code);
  });
}

}  // namespace jit::cli
