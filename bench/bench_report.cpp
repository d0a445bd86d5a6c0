// Tables and JSON lines for `jitgemm bench`.
#include "bench/bench_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace jit::bench {

namespace {

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

// Three decimals, or three significant digits for small ratios (a reference family is ~0.01x).
std::string ratio_str(double r) { return r >= 0.1 ? fmt::format("{:.3f}", r) : fmt::format("{:.3g}", r); }

bool ranked(const Measurement& m) { return m.status == Status::ok && m.timing.gpu.median > 0; }

// Footnotes for reasons, numbered in order of first use.
class Notes {
 public:
  int add(const std::string& text) {
    for (std::size_t i = 0; i < notes_.size(); ++i)
      if (notes_[i] == text) return static_cast<int>(i + 1);
    notes_.push_back(text);
    return static_cast<int>(notes_.size());
  }
  std::string str() const {
    std::string s;
    for (std::size_t i = 0; i < notes_.size(); ++i) s += fmt::format("  [{}] {}\n", i + 1, notes_[i]);
    return s;
  }

 private:
  std::vector<std::string> notes_;
};

std::string status_cell(const Measurement& m, Notes& notes) {
  switch (m.status) {
    case Status::ok: return m.checked ? "ok" : "ok (unchecked)";
    case Status::wrong: return "WRONG: " + shorten(m.reason, 48);
    case Status::unsupported: return fmt::format("n/a [{}]", notes.add(m.impl + ": " + shorten(m.reason, 200)));
    case Status::error: return fmt::format("error [{}]", notes.add(m.impl + ": " + shorten(m.reason, 200)));
  }
  return "?";
}

std::string first_cell(const Measurement& m) {
  if (m.first_call_ms <= 0) return "";
  return m.first_call.empty() ? fmt::format("{:.1f}", m.first_call_ms)
                              : fmt::format("{:.1f} ({})", m.first_call_ms, m.first_call);
}

}  // namespace

const char* status_name(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::wrong: return "wrong";
    case Status::unsupported: return "unsupported";
    case Status::error: return "error";
  }
  return "?";
}

std::string shorten(const std::string& message, std::size_t max_chars) {
  std::string text = message;
  if (text.rfind("jit: ", 0) == 0) text = text.substr(5);
  std::string first, rest, hints;
  std::size_t nl = text.find('\n');
  first = trim(text.substr(0, nl));
  while (nl != std::string::npos) {
    const std::size_t next = text.find('\n', nl + 1);
    std::string line = trim(text.substr(nl + 1, next == std::string::npos ? std::string::npos : next - nl - 1));
    if (line.size() >= 2 && line.front() == '(' && line.back() == ')') {
      hints += (hints.empty() ? "" : "; ") + line.substr(1, line.size() - 2);
    } else if (!line.empty()) {
      rest += (rest.empty() ? "" : "; ") + line;
    }
    nl = next;
  }
  // Parenthesised continuation lines are hints; the per-family reasons are the plain ones.
  std::string s = !rest.empty() ? rest : !hints.empty() && first.rfind("no fast kernel family", 0) != 0 ? hints : first;
  if (s.size() > max_chars && max_chars > 3) s = s.substr(0, max_chars - 3) + "...";
  return s;
}

double geomean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double sum = 0;
  for (double x : v) sum += std::log(x);
  return std::exp(sum / static_cast<double>(v.size()));
}

double speed_ratio(const Measurement& ours, const Measurement& peer) {
  if (!ranked(ours) || !ranked(peer)) return 0;
  return peer.timing.gpu.median / ours.timing.gpu.median;
}

nlohmann::ordered_json to_json(const Measurement& m, const Ceilings& c) {
  const Stats& g = m.timing.gpu;
  nlohmann::ordered_json j = {
      {"type", "measurement"}, {"suite", m.suite}, {"case", m.case_id}, {"shape", m.shape},
      {"dtype", m.recipe}, {"layout", layout_name(m.layout)}, {"groups", m.groups}, {"m", m.m}, {"n", m.n},
      {"k", m.k}, {"max_m", m.max_m}, {"valid_rows", m.valid_rows}, {"group_rows", m.group_rows},
      {"expected_m", m.expected_m}, {"impl", m.impl},
      {"kind", m.ours ? "ours" : "peer"}, {"impl_dtype", m.impl_recipe}, {"same_math", m.same_math},
      {"computes", m.computes}, {"status", status_name(m.status)}, {"reason", m.reason}};
  if (!m.algo.empty()) j["algo"] = m.algo;
  if (g.n > 0) {
    const double tflops = m.flops / (g.median * 1e-6) / 1e12, gbs = m.bytes / (g.median * 1e-6) / 1e9;
    j["us_median"] = g.median;
    j["us_min"] = g.min;
    j["us_max"] = g.max;
    j["us_p10"] = g.p10;
    j["us_p90"] = g.p90;
    j["iters"] = g.n;
    j["tflops"] = tflops;
    j["gbs"] = gbs;
    j["flops"] = m.flops;
    j["bytes"] = m.bytes;
    const Roof r = roofline(m.flops, m.bytes, g.median, m.ab, c);
    if (r.pct > 0) {
      j["pct_roofline"] = r.pct;
      j["roofline_bound"] = std::string(1, r.bound);
    }
    j["host_us_median"] = m.timing.host.median;
    j["host_us_max"] = m.timing.host.max;
    j["us_all"] = m.timing.gpu_us;
  }
  if (m.first_call_ms > 0) {
    j["first_call_ms"] = m.first_call_ms;
    if (!m.first_call.empty()) j["first_call"] = m.first_call;
  }
  if (m.checked) {
    j["check_scope"] = m.check_scope;
    j["calc_diff"] = m.calc_diff;
    j["max_abs_err"] = m.max_abs_err;
    j["nan"] = m.nan;
    j["unwritten"] = m.unwritten;
    j["written_padding"] = m.written_padding;
  }
  return j;
}

nlohmann::ordered_json to_json(const EnvInfo& e) {
  return {{"type", "env"},
          {"schema", 1},
          {"time", e.time},
          {"gpu", e.gpu},
          {"cc", fmt::format("{}.{}", e.cc_major, e.cc_minor)},
          {"sms", e.sms},
          {"sm_clock_mhz", e.sm_clock_mhz},
          {"mem_clock_mhz", e.mem_clock_mhz},
          {"mem_bus_bits", e.mem_bus_bits},
          {"hbm_peak_gbs", 2.0 * e.mem_clock_mhz * 1e6 * e.mem_bus_bits / 8 / 1e9},
          {"l2_bytes", e.l2_bytes},
          {"memory_bytes", e.memory_bytes},
          {"driver", e.driver},
          {"nvrtc", e.nvrtc},
          {"cublas", e.cublas},
          {"git", e.git},
          {"jitgemm", e.jitgemm},
          {"command", e.command},
          {"method", {{"warmup", e.warmup}, {"iters", e.iters}, {"l2_flush_bytes", e.flush_bytes},
                      {"timing", "memset(flush) -> event -> one call -> event; median of iters"},
                      {"tol_calc_diff", e.tol}}}};
}

std::string format_env(const EnvInfo& e) {
  return fmt::format(
      "GPU {} (sm_{}{}, {} SMs, SM clock {} MHz, memory {} MHz x {} bit = {:.0f} GB/s peak, L2 {} MB)\n"
      "driver {}, NVRTC {}, cuBLAS {}, jitgemm {} @ {}\n"
      "method: {} warm-up, median of {} calls, each after a {} MB memset (L2 flush), CUDA events around one call\n",
      e.gpu, e.cc_major, e.cc_minor, e.sms, e.sm_clock_mhz, e.mem_clock_mhz, e.mem_bus_bits,
      2.0 * e.mem_clock_mhz * 1e6 * e.mem_bus_bits / 8 / 1e9, e.l2_bytes >> 20, e.driver, e.nvrtc, e.cublas, e.jitgemm,
      e.git, e.warmup, e.iters, e.flush_bytes >> 20);
}

std::string format_suite_table(const std::string& title, const std::vector<Measurement>& ms, const Ceilings& c) {
  const bool roof = !c.empty();
  std::string s = fmt::format("\n== {} ==\n", title);
  s += fmt::format("{:<22} {:<18} {:>10} {:>21} {:>8} {:>7} {}{:>9} {:>8} {:>15}  {}\n", "shape", "impl", "us", "p10-p90",
                   "TFLOP/s", "GB/s", roof ? fmt::format("{:>6} ", "%roof") : "", "calc_diff", "host us", "first ms",
                   "status");
  Notes notes;
  int last_case = -1;
  for (const Measurement& m : ms) {
    const std::string shape = m.case_id == last_case ? "" : m.shape;
    last_case = m.case_id;
    std::string us, spread, tf, gb, rf, host;
    if (m.timing.gpu.n > 0) {
      const Stats& g = m.timing.gpu;
      us = fmt::format("{:.1f}", g.median);
      spread = fmt::format("{:.1f}-{:.1f}", g.p10, g.p90);
      tf = fmt::format("{:.1f}", m.flops / (g.median * 1e-6) / 1e12);
      gb = fmt::format("{:.0f}", m.bytes / (g.median * 1e-6) / 1e9);
      const Roof r = roofline(m.flops, m.bytes, g.median, m.ab, c);
      if (r.pct > 0) rf = fmt::format("{:.0f}%{}", r.pct, r.bound);
      host = fmt::format("{:.1f}", m.timing.host.median);
    }
    const std::string diff = m.checked ? fmt::format("{:.1e}", m.calc_diff) : "";
    const std::string impl = m.ours ? m.impl : (m.same_math ? m.impl : m.impl + "*");
    s += fmt::format("{:<22} {:<18} {:>10} {:>21} {:>8} {:>7} {}{:>9} {:>8} {:>15}  {}\n", shape, impl, us, spread, tf,
                     gb, roof ? fmt::format("{:>6} ", rf) : "", diff, host, first_cell(m), status_cell(m, notes));
  }
  s += "* speed reference: another recipe, or one dense GEMM over the valid rows of an MoE case (same FLOPs;\n"
       "  skipped where its roofline floor is under half the case's, i.e. memory-bound MoE: it reads one expert's B)\n";
  if (roof) s += "%roof: roofline floor (C: compute, M: memory) over the measured time; ceilings " + c.source + "\n";
  s += notes.str();
  // The peers' exact math, once each.
  std::map<std::string, std::string> legend;
  for (const Measurement& m : ms)
    if (!m.ours && m.status != Status::unsupported && !legend.count(m.impl)) legend[m.impl] = m.computes;
  if (!legend.empty()) s += "peers (as run on the first case that ran them):\n";
  for (const auto& [name, what] : legend) s += fmt::format("  {}: {}\n", name, what);
  return s;
}

std::string format_ratio_table(const std::vector<Measurement>& ms) {
  std::vector<std::string> ours, peers;
  std::vector<int> cases;
  for (const Measurement& m : ms) {
    auto& list = m.ours ? ours : peers;
    if (std::find(list.begin(), list.end(), m.impl) == list.end()) list.push_back(m.impl);
    if (std::find(cases.begin(), cases.end(), m.case_id) == cases.end()) cases.push_back(m.case_id);
  }
  if (ours.empty() || peers.empty()) return {};
  const auto find = [&](int id, const std::string& impl) -> const Measurement* {
    for (const Measurement& m : ms)
      if (m.case_id == id && m.impl == impl) return &m;
    return nullptr;
  };
  std::string s = "ratio ours/peer = peer time / our time (> 1: ours faster; '-': not ranked)\n";
  s += fmt::format("{:<22} {:<12}", "shape", "ours");
  for (const std::string& p : peers) s += fmt::format(" {:>18}", p);
  s += "\n";
  for (const std::string& o : ours) {
    std::vector<std::vector<double>> per_peer(peers.size());
    for (int id : cases) {
      const Measurement* mo = find(id, o);
      if (!mo) continue;
      s += fmt::format("{:<22} {:<12}", mo->shape, o);
      for (std::size_t i = 0; i < peers.size(); ++i) {
        const Measurement* mp = find(id, peers[i]);
        const double r = mp ? speed_ratio(*mo, *mp) : 0;
        std::string cell = "-";
        if (r > 0) {
          cell = ratio_str(r);
          per_peer[i].push_back(r);
        } else if (mo->status == Status::wrong || (mp && mp->status == Status::wrong)) {
          cell = "wrong";
        } else if (mp && mp->status == Status::unsupported) {
          cell = "n/a";
        }
        s += fmt::format(" {:>18}", cell);
      }
      s += "\n";
    }
    s += fmt::format("{:<22} {:<12}", "geomean", o);
    for (const auto& v : per_peer) s += fmt::format(" {:>18}", v.empty() ? "-" : ratio_str(geomean(v)) + fmt::format(" (n={})", v.size()));
    s += "\n";
  }
  return s;
}

}  // namespace jit::bench
