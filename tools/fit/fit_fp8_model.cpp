// The SM90 FP8 performance model's calibration (tools/fit-fp8-model builds and runs this): a copy
// of runtime/sm90_fp8_gemm.cpp whose `constexpr double k...` model constants are made mutable is
// included, and the constants are fitted to a tile sweep (bench/sweeps_sm90_fp8_*_h200.txt):
// coordinate descent, then a random search, on the RMS of the log run-time error plus penalties
// on choices below 0.97 of the best measured tile. Prints the constants and every shape's choice.
// Usage: fit <sweep file> <descent iterations> [kPlainOneWave start] [random-search steps]
#include "runtime/_fit_fp8_model.cpp"
#ifndef PENW
#define PENW 10.0
#endif
#include <fstream>
#include <regex>
#include <tuple>
#include <random>
#include <cstdio>
#include "bench/suite.hpp"

using namespace jit;
using namespace jit::detail::sm90_fp8_gemm;
using jit::detail::sm90_common::swizzle_for;

struct Run { std::string tile; double us, tf; };
struct ShapeData { ProblemDesc p; std::string name; std::map<std::string, Run> runs; };

int main(int argc, char** argv) {
  std::ifstream in(argv[1]);
  std::map<std::pair<std::string,std::string>, std::map<std::string, Run>> measured;
  std::map<std::tuple<std::string, std::string, std::string>, int> reps;
  static const std::regex re(R"(^(\S+)\s+(\d+x\d+(?:,SPLIT_K=\d+)?)\s+\[\d+/\d+\]\s+(.*?)\s+sm90\s+([\d.]+) us\s+([\d.]+) TFLOP/s ok)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, re)) continue;
    // Repeated runs (several reps in one sweep) are averaged.
    Run& r = measured[{m[1], m[3]}][m[2]];
    const int n = reps[{m[1], m[3], m[2]}]++;
    r = {m[2], (r.us * n + std::stod(m[4])) / (n + 1), (r.tf * n + std::stod(m[5])) / (n + 1)};
  }
  const bench::Recipe recipe = bench::parse_recipe("fp8");
  std::vector<ShapeData> data;
  for (const char* name : {"deepgemm-dense", "moe-contiguous", "moe-masked"})
    for (const bench::SuiteShape& shape : bench::load_suite(name).shapes) {
      const std::string label = bench::shape_label(shape);
      data.push_back({bench::make_desc(bench::make_spec(shape, recipe)), std::string(name) + " " + label, measured[{name, label}]});
    }
  const DeviceSpec dev = flagship_device("sm_90a");
  auto cands = candidate_configs(Layout::dense, dev.smem_per_block_optin);
  // All layouts' candidates.
  std::vector<double*> P = {&kPlainOneWave, &kTwoWgPromote, &kMmaCyclesPerFma, &kOneWgStage, &kTwoWgStage, &kWaveFloor, &kStraddleOneWg, &kStraddleTwoWg,
    &kStraddleTwoWgPerColumn, &kOverlapOneWg, &kOverlapTwoWg, &kOverlapNorm, &kOverlapStraddle,
    &kOverlapStraddleOneWgPerColumn, &kOverlapStraddleTwoWgPerColumn, &kClockBoost, &kSmFeed, &kL2FeedPerSm,
    &kLatencyHit, &kLatencyMiss, &kBFirst, &kStageNorm, &kEpilogueFixed, &kEpilogueBytesPerCycle, &kIndicesPerTile,
    &kKernelFixed, &kHbmBytesPerCycle, &kBRefetch, &kSplitFixed, &kSplitBytesPerCycle, &kSplitStage};
  const char* names[] = {"kPlainOneWave","kTwoWgPromote","kMmaCyclesPerFma","kOneWgStage","kTwoWgStage","kWaveFloor","kStraddleOneWg","kStraddleTwoWg",
    "kStraddleTwoWgPerColumn","kOverlapOneWg","kOverlapTwoWg","kOverlapNorm","kOverlapStraddle",
    "kOverlapStraddleOneWgPerColumn","kOverlapStraddleTwoWgPerColumn","kClockBoost","kSmFeed","kL2FeedPerSm",
    "kLatencyHit","kLatencyMiss","kBFirst","kStageNorm","kEpilogueFixed","kEpilogueBytesPerCycle","kIndicesPerTile",
    "kKernelFixed","kHbmBytesPerCycle","kBRefetch","kSplitFixed","kSplitBytesPerCycle","kSplitStage"};
  // Constants the sweep has no data for (split-K without SPLIT_K lines) keep their values.
  bool has_split = false;
  for (const auto& [key, runs] : measured)
    for (const auto& [tile, run] : runs) has_split |= tile.find("SPLIT") != std::string::npos;
  const auto frozen = [&](const std::string& name) {
    return name == "kOverlapNorm" || name == "kStageNorm" || (!has_split && name.rfind("kSplit", 0) == 0);
  };
  // A sweep label ("128x192", "64x64,SPLIT_K=2") and the sweep's default config of an unsplit tile.
  const auto label_of = [](const TileConfig& c) {
    return std::to_string(c.block_m) + "x" + std::to_string(c.block_n) +
           (c.split > 1 ? ",SPLIT_K=" + std::to_string(c.split) : "");
  };
  const auto config_of = [&](const std::string& k) {
    int bm, bn; sscanf(k.c_str(), "%dx%d", &bm, &bn);
    return TileConfig{bm, bn, max_stages(bm, bn, dev.smem_per_block_optin), 1, 8, overlap_fits(bm, bn) ? 1 : 0};
  };
  bool verbose = false;
  auto objective = [&](double* rms_out, double* geo_out, int* bad_out) {
    double err2 = 0, logsum = 0, pen = 0; int n = 0, bad = 0;
    for (auto& s : data) {
      const auto& cl = candidate_configs(s.p.layout, dev.smem_per_block_optin);
      TileConfig best{}; double bc = 0;
      for (const TileConfig& c : cl) {
        if (c.cluster == 2) continue;
        double cy = estimate_cycles(c, s.p, dev);
        if (best.block_m == 0 || cy < bc * 0.999) best = c, bc = cy;
      }
      std::string t = label_of(best);
      double bt = 0; std::string btile;
      for (auto& [k, r] : s.runs) if (r.tf > bt) bt = r.tf, btile = k;
      auto it = s.runs.find(t);
      double ratio = it == s.runs.end() ? 0.5 : it->second.tf / bt;
      logsum += std::log(ratio);
      if (ratio < 0.97) pen += (0.97 - ratio);
      if (ratio < 0.95) ++bad;
      if (verbose) printf("  %-40s chose %-14s %.3f (best %s)\n", s.name.c_str(), t.c_str(), ratio, btile.c_str());
      if (verbose && ratio < 0.97) {
        for (auto& [k, r] : s.runs) {
          if (k.find("SPLIT") != std::string::npos) continue;
          const TileConfig mc = config_of(k);
          if (r.tf < bt * 0.85) continue;
          printf("      %-10s meas %7.1f us (%6.0f)  est %7.1f us  err %+.3f\n", k.c_str(), r.us, r.tf, estimate_cycles(mc, s.p, dev) / 1755.0, std::log(estimate_cycles(mc, s.p, dev) / (r.us * 1755.0)));
        }
      }
      for (auto& [k, r] : s.runs) {
        if (k.find("SPLIT") != std::string::npos) continue;
        TileConfig mc2 = config_of(k);
        double e = std::log(estimate_cycles(mc2, s.p, dev) / (r.us * 1755.0));
        err2 += e * e; ++n;
      }
    }
    *rms_out = std::sqrt(err2 / n); *geo_out = std::exp(logsum / data.size()); *bad_out = bad;
    return *rms_out + PENW * pen + 2.0 * (1 - *geo_out);
  };
  double rms, geo; int bad;
  double f = objective(&rms, &geo, &bad);
  printf("start: obj %.4f rms %.3f geo %.4f bad %d\n", f, rms, geo, bad);
  if (argc > 3) { for (double x = 0.6; x <= 1.001; x += 0.05) { kPlainOneWave = x; double r2,g2; int b2; double f2 = objective(&r2,&g2,&b2); printf("scan %.2f obj %.4f rms %.3f geo %.4f bad %d\n", x, f2, r2, g2, b2);} kPlainOneWave = atof(argv[3]); f = objective(&rms,&geo,&bad); }
  int iters = argc > 2 ? atoi(argv[2]) : 0;
  for (int it = 0; it < iters; ++it) {
    bool improved = false;
    for (size_t i = 0; i < P.size(); ++i) {
      if (frozen(names[i])) continue;
      for (double step : {1.3, 1 / 1.3, 1.15, 1 / 1.15, 1.04, 1 / 1.04, 1.01, 1 / 1.01}) {
        double old = *P[i];
        *P[i] = old * step;
        double r2, g2; int b2;
        double f2 = objective(&r2, &g2, &b2);
        if (f2 < f - 1e-5) { f = f2; rms = r2; geo = g2; bad = b2; improved = true; }
        else *P[i] = old;
      }
    }
    printf("iter %d: obj %.4f rms %.3f geo %.4f bad %d\n", it, f, rms, geo, bad);
    fflush(stdout);
    if (!improved) break;
  }
  {
    std::mt19937 rng(7);
    std::normal_distribution<double> nd(0, 1);
    const int rs = argc > 4 ? atoi(argv[4]) : 0;
    std::vector<double> cur(P.size());
    for (size_t i = 0; i < P.size(); ++i) cur[i] = *P[i];
    double sigma = 0.08;
    for (int it = 0; it < rs; ++it) {
      std::vector<double> old = cur;
      for (size_t i = 0; i < P.size(); ++i) {
        if (frozen(names[i])) continue;
        if (rng() % 3 == 0) cur[i] = old[i] * std::exp(sigma * nd(rng));
        *P[i] = cur[i];
      }
      double r2, g2; int b2;
      double f2 = objective(&r2, &g2, &b2);
      if (f2 < f) { f = f2; rms = r2; geo = g2; bad = b2; }
      else { cur = old; for (size_t i = 0; i < P.size(); ++i) *P[i] = cur[i]; }
      if (it % 2000 == 0) { printf("rs %d: obj %.4f rms %.3f geo %.4f bad %d\n", it, f, rms, geo, bad); fflush(stdout); }
      if (it % 5000 == 4999) sigma *= 0.7;
    }
  }
  for (size_t i = 0; i < P.size(); ++i) printf("%s = %.6g\n", names[i], *P[i]);
  verbose = true; objective(&rms, &geo, &bad);
}
