// The SM80 performance model's calibration for Hopper (tools/fit-sm80-model builds and runs this):
// a copy of runtime/sm80_gemm.cpp whose Hopper Machine constants read gFit[] is included, and those
// eight constants are fitted to a tile sweep (bench/sweeps_sm80_h200.txt) by coordinate descent on
// the RMS of the log run-time error plus penalties on choices below 0.97 of the fastest measured
// tile. Prints the Machine line and every shape's choice. Usage: fit <sweep file> <iterations>
#include <array>
std::array<double, 8> gFit = FIT_START;
#include "runtime/_fit_sm80_model.cpp"
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include "bench/suite.hpp"

using namespace jit;
using namespace jit::detail::sm80_gemm;

struct Shape {
  ProblemDesc p;
  std::string name;
  std::map<std::string, double> us;  // forced config -> measured us
};

int main(int argc, char** argv) {
  std::ifstream in(argv[1]);
  std::map<std::pair<std::string, int>, std::map<std::string, double>> meas;  // (suite, index)
  std::map<std::string, TileConfig> cfgs;
  static const std::regex re(R"(^(\S+) (\S+) \[(\d+)/\d+\] (.+?)\s+sm80\s+([\d.]+) us\s+([\d.]+) TFLOP)");
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_search(l, m, re)) continue;
    const std::string c = m[2];
    TileConfig t{};
    std::sscanf(c.c_str(), "%dx%d,BLOCK_K=%d,WARPS_M=%d,WARPS_N=%d,STAGES=%d,CTAS_PER_SM=%d,SWIZZLE_N=%d,OVERLAP=%d",
                &t.block_m, &t.block_n, &t.block_k, &t.warps_m, &t.warps_n, &t.stages, &t.ctas_per_sm, &t.swizzle_n,
                &t.overlap);
    if (const auto at = c.find("SPLIT_K="); at != std::string::npos) t.split_k = std::atoi(c.c_str() + at + 8);
    cfgs[c] = t;
    meas[{m[1], std::stoi(m[3])}][c] = std::stod(m[5]);
  }
  const DeviceSpec dev = flagship_device("sm_90a");
  const bench::Recipe recipe = bench::parse_recipe("bf16");
  std::vector<Shape> data;
  for (const char* suite : {"deepgemm-dense", "moe-decode", "moe-contiguous", "moe-masked"}) {
    int i = 0;
    for (const auto& shape : bench::load_suite(suite).shapes) {
      const auto it = meas.find({suite, ++i});
      if (it == meas.end()) continue;
      data.push_back({bench::make_desc(bench::make_spec(shape, recipe)),
                      std::string(suite) + " " + bench::shape_label(shape) + " #" + std::to_string(i), it->second});
    }
  }
  bool verbose = false;
  const auto objective = [&](double* rms, double* geo) {
    double e2 = 0, lg = 0, pen = 0;
    int n = 0;
    for (const Shape& s : data) {
      double best = 1e30;
      for (const auto& [c, us] : s.us) best = std::min(best, us);
      const TileConfig* chosen = nullptr;
      double chosen_cycles = 0;
      for (const TileConfig& c : candidate_configs()) {
        if (!check_config(c, s.p, dev).empty() || occupancy(c, dev) < 1) continue;
        const double cy = estimate_cycles(c, s.p, dev);
        if (!chosen || cy < chosen_cycles * 0.999) chosen = &c, chosen_cycles = cy;
      }
      double chosen_us = 0;
      for (const auto& [c, us] : s.us)
        if (cfgs[c] == *chosen) chosen_us = us;
      const double ratio = chosen_us > 0 ? best / chosen_us : 0.85;  // unmeasured: assume a poor pick
      lg += std::log(ratio);
      if (ratio < 0.97) pen += 0.97 - ratio;
      for (const auto& [c, us] : s.us) {
        const double e = std::log(estimate_cycles(cfgs[c], s.p, dev) / (us * 1755));
        e2 += e * e, ++n;
      }
      if (verbose) std::printf("  %-40s %.3f  %s\n", s.name.c_str(), ratio, to_string(*chosen).c_str());
    }
    *rms = std::sqrt(e2 / n), *geo = std::exp(lg / data.size());
    return *rms + 50 * pen / data.size() + 2 * (1 - *geo);
  };
  double rms, geo, f = objective(&rms, &geo);
  std::printf("start: obj %.4f rms %.3f geo %.4f over %zu shapes\n", f, rms, geo, data.size());
  const int iters = argc > 2 ? std::atoi(argv[2]) : 0;
  for (int it = 0; it < iters; ++it) {
    bool improved = false;
    for (double& x : gFit)
      for (double step : {1.3, 1 / 1.3, 1.1, 1 / 1.1, 1.03, 1 / 1.03}) {
        const double old = x;
        x = old * step;
        double r2, g2;
        const double f2 = objective(&r2, &g2);
        if (f2 < f - 1e-5) f = f2, rms = r2, geo = g2, improved = true;
        else x = old;
      }
    std::printf("iter %d: obj %.4f rms %.3f geo %.4f\n", it, f, rms, geo);
    if (!improved) break;
  }
  std::printf("  return {%g, %g, %g, %g, %g, %g, %g, %g};  // Hopper (fitted)\n", gFit[0], gFit[1], gFit[2], gFit[3],
              gFit[4], gFit[5], gFit[6], gFit[7]);
  verbose = true;
  objective(&rms, &geo);
}
