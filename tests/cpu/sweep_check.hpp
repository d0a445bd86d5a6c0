// Shared by the SM90 heuristics tests: pins a family's tile choice and run-time model to an H200
// tile sweep (bench/sweeps_*.txt, written by tools/sweep: "<suite> <BMxBN> [i/n] <shape> sm90 <us>
// us <TFLOP/s> TFLOP/s ok" per forced tile and shape; split-K lines, "BMxBN,SPLIT_K=n", are tiles
// of their own; lines of other forced variants, "BMxBN,FIELD=v", and configs a layout rejects,
// "error: ...", do not match and are skipped). For every shape of
// the deepgemm-dense, moe-contiguous and moe-masked suites the chosen tile must have been measured
// and be within 5% of the fastest (draw_bound for the shapes whose best tile depends on the random
// expert sizes), and every measured run time is compared with the model's estimate.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <utility>

#include "bench/suite.hpp"
#include "jit/runtime.hpp"

namespace jit::test {

struct SweepCheck {
  const char* file;    // under bench/
  const char* recipe;  // bench recipe of the sweep: "fp8", "bf16"
  int min_lines;       // matched lines the file must have
  std::set<std::pair<std::string, std::string>> draw_dependent;  // (suite, shape label)
  double draw_bound = 0.95;
};

struct SweepResult {
  int shapes = 0, timed = 0;
  double geomean = 0, rms = 0;  // chosen / best TFLOP/s; log error of the estimates
};

// choose(p) returns the chosen tile as {"BMxBN" or "BMxBN,SPLIT_K=n", printable config} (and may
// CHECK more of it); estimate(bm, bn, p) the model's cycles for the sweep's default config of an
// unsplit tile, compared with the run time at 1755 cycles per us (the clock the models are fitted
// in). Split-K lines take part in the choice
// (the chosen tile must be within 5% of the best of all lines), not in the RMS: the models only
// have to rank them, which the choice check pins. A tile measured more than once (a sweep of
// several reps) counts with its mean run time.
template <class Choose, class Estimate>
SweepResult check_against_sweep(const SweepCheck& s, const Choose& choose, const Estimate& estimate) {
  const std::string path = std::string(JITGEMM_SOURCE_DIR) + "/bench/" + s.file;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path);
  // (suite, shape label) -> tile -> (us, TFLOP/s), and how many runs that mean is of.
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::pair<double, double>>> measured;
  std::map<std::pair<std::string, std::string>, std::map<std::string, int>> runs;
  static const std::regex line_re(
      R"(^(\S+)\s+(\d+x\d+(?:,SPLIT_K=\d+)?)\s+\[\d+/\d+\]\s+(.*?)\s+sm90\s+([\d.]+) us\s+([\d.]+) TFLOP/s ok)");
  int lines = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, line_re)) continue;
    auto& [us, tf] = measured[{m[1], m[3]}][m[2]];
    const int n = runs[{m[1], m[3]}][m[2]]++;
    us = (us * n + std::stod(m[4])) / (n + 1);
    tf = (tf * n + std::stod(m[5])) / (n + 1);
    ++lines;
  }
  REQUIRE(lines >= s.min_lines);

  const bench::Recipe recipe = bench::parse_recipe(s.recipe);
  SweepResult r;
  double log_sum = 0, err2 = 0;
  std::string table;
  for (const char* name : {"deepgemm-dense", "moe-contiguous", "moe-masked"}) {
    for (const bench::SuiteShape& shape : bench::load_suite(name).shapes) {
      const std::string label = bench::shape_label(shape);
      INFO(name << " " << label);
      const auto it = measured.find({name, label});
      REQUIRE_MESSAGE(it != measured.end(), "the sweep has no line for this shape");
      // The bench's default seed draws the same expert sizes as the sweep.
      const ProblemDesc p = bench::make_desc(bench::make_spec(shape, recipe));
      const auto [tile, config] = choose(p);
      double best = 0;
      std::string best_tile;
      for (const auto& [t, run] : it->second) {
        if (run.second > best) best = run.second, best_tile = t;
        if (t.find("SPLIT_K") != std::string::npos) continue;
        int bm = 0, bn = 0;
        REQUIRE(std::sscanf(t.c_str(), "%dx%d", &bm, &bn) == 2);
        const double err = std::log(estimate(bm, bn, p) / (run.first * 1755.0));
        err2 += err * err;
        ++r.timed;
      }
      const auto got = it->second.find(tile);
      INFO("chose " << config << ", best measured " << best_tile);
      REQUIRE_MESSAGE(got != it->second.end(), "the heuristics chose a tile the sweep did not measure");
      const double ratio = got->second.second / best;
      CHECK(ratio >= (s.draw_dependent.count({name, label}) ? s.draw_bound : 0.95));
      log_sum += std::log(ratio);
      ++r.shapes;
      table += fmt::format("\n  {:<15} {:<20} {:>7} ({:6.0f})  best {:>7} ({:6.0f})  {:.3f}", name, label, tile,
                           got->second.second, best_tile, best, ratio);
    }
  }
  r.geomean = std::exp(log_sum / r.shapes);
  r.rms = std::sqrt(err2 / r.timed);
  MESSAGE(fmt::format("estimates vs {} run times: RMS error {:.1f}%; choice vs best measured TFLOP/s (geomean "
                      "{:.3f}):{}", r.timed, 100 * r.rms, r.geomean, table));
  return r;
}

}  // namespace jit::test
