// `jitgemm bench`: for every shape of the suite, build the random problem, run the reference family,
// then time each of our families and each cuBLAS peer with the same Timer, checking every output.
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <memory>

#include "bench/bench_ceilings.hpp"
#include "bench/bench_config.hpp"
#include "bench/bench_env.hpp"
#include "bench/bench_peers.hpp"
#include "bench/bench_report.hpp"
#include "bench/bench_runner.hpp"
#include "jit/errors.hpp"
#include "testing/device.hpp"
#include "testing/kernels.hpp"
#include "testing/problem.hpp"

namespace jit::bench {

namespace {

// JSON lines, written as results arrive so a run cut short keeps what it measured.
class JsonOut {
 public:
  explicit JsonOut(const std::string& path) {
    if (path.empty()) return;
    out_.open(path, std::ios::trunc);
    if (!out_) throw InvalidArgument("json", "cannot write '" + path + "'");
  }
  void write(const nlohmann::ordered_json& j) {
    if (out_.is_open()) out_ << j.dump() << '\n' << std::flush;
  }

 private:
  std::ofstream out_;
};

struct Ctx {
  const BenchConfig& cfg;
  const Recipe& recipe;
  const std::vector<FamilyChoice>& families;
  const std::vector<PeerId>& peers;
  const DeviceSpec& dev;
  Timer& timer;
  const Ceilings& ceilings;
  JsonOut& json;
  std::vector<Measurement>& all;
  int total = 0;
};

void fill_check(Measurement& m, const testing::CheckResult& r, double tol, const std::string& scope) {
  m.checked = true;
  m.check_scope = scope;
  m.calc_diff = r.diff;
  m.max_abs_err = r.max_abs_err;
  m.nan = r.nan_out;
  m.unwritten = r.unwritten;
  m.written_padding = r.written_padding;
  if (!r.ok(tol)) {
    m.status = Status::wrong;
    m.reason = r.summary();
  }
}

void finish(Ctx& c, Measurement m) {
  std::string line = fmt::format("[{}/{}] {:<22} {:<18} ", m.case_id + 1, c.total, m.shape, m.impl);
  if (m.timing.gpu.n > 0)
    line += fmt::format("{:>10.1f} us {:>8.1f} TFLOP/s ", m.timing.gpu.median,
                        m.flops / (m.timing.gpu.median * 1e-6) / 1e12);
  if (m.checked) line += fmt::format("diff {:.1e} ", m.calc_diff);
  line += status_name(m.status);
  if (m.status != Status::ok) line += ": " + shorten(m.reason, 100);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  c.json.write(to_json(m, c.ceilings));
  c.all.push_back(std::move(m));
}

void run_ours(Ctx& c, const Measurement& base, const testing::GpuProblem& prob, const FamilyChoice& fam) {
  Measurement m = base;
  m.impl = fam.name;
  m.ours = true;
  m.impl_recipe = c.recipe.name;
  m.ab = prob.spec().ab;
  m.bytes = prob.bytes();
  const CUstream s = c.timer.stream();
  Runtime& rt = Runtime::global();
  GemmOptions o;
  o.family = fam.family;
  try {
    m.computes = rt.choice(make_desc(prob.spec()), c.dev, o);
    const bool dense = prob.spec().layout == Layout::dense;
    const GemmArgs dargs = dense ? prob.dense_args() : GemmArgs{};
    const GroupedGemmArgs gargs = dense ? GroupedGemmArgs{} : prob.grouped_args();
    const Call call = [&](CUstream st) {
      if (dense) rt.gemm(dargs, st, o);
      else rt.grouped_gemm(gargs, st, o);
    };
    const RuntimeStats before = rt.stats();
    prob.poison(s);
    m.first_call_ms = c.timer.first_call_ms(call);
    const RuntimeStats after = rt.stats();
    m.first_call = after.compiles > before.compiles     ? "compiled"
                   : after.disk_hits > before.disk_hits ? "disk cache"
                                                        : "loaded";
    if (c.cfg.check) fill_check(m, prob.check(s), c.cfg.tol, "full");
    m.timing = c.timer.measure(call, c.timer.estimate_ms(call, m.first_call_ms));
  } catch (const Unsupported& e) {
    m.status = Status::unsupported;
    m.reason = e.what();
  } catch (const std::exception& e) {
    m.status = Status::error;
    m.reason = e.what();
  }
  finish(c, std::move(m));
}

void run_peer(Ctx& c, const Measurement& base, const testing::GpuProblem& prob, PeerId id,
              std::map<std::string, std::unique_ptr<testing::GpuProblem>>& companions) {
  const MachineBalance balance{c.ceilings.compute_tflops(DType::bf16), c.ceilings.compute_tflops(DType::e4m3),
                               c.ceilings.hbm_gbs};
  const PeerPlan plan = plan_peer(id, c.recipe, prob.spec(), c.dev.cc_major, c.dev.cc_minor, balance);
  Measurement m = base;
  m.impl = plan.name;
  m.ours = false;
  m.impl_recipe = plan.recipe.name;
  m.same_math = plan.same_math;
  m.computes = plan.computes;
  m.ab = plan.recipe.ab;
  if (!plan.unsupported.empty()) {
    m.status = Status::unsupported;
    m.reason = plan.unsupported;
    finish(c, std::move(m));
    return;
  }
  const CUstream s = c.timer.stream();
  try {
    const testing::GpuProblem* pp = &prob;
    if (plan.recipe.name != c.recipe.name) {
      auto& comp = companions[plan.recipe.name];
      if (!comp) {
        comp = std::make_unique<testing::GpuProblem>(peer_spec(prob.spec(), plan.recipe), s);
        if (c.cfg.check) comp->run_reference(s);
      }
      pp = comp.get();
    }
    m.bytes = peer_bytes(plan, *pp);
    std::unique_ptr<PeerRun> run;
    const Call call = [&](CUstream st) { run->enqueue(st); };
    // Prepare, run once on a poisoned output, check. Scale-layout variants (fp8_blk on shapes the
    // documentation leaves open) are tried in turn until one is right; else the first is reported.
    const auto attempt = [&](const PeerPlan& variant, Measurement& t) {
      run = prepare_peer(variant, *pp, s);
      t.algo = run->algo();
      if (!describe_scale_lds(variant).empty()) t.computes = plan.computes + "; " + describe_scale_lds(variant);
      testing::fill_bytes(s, run->out(), testing::kPoison, run->out_bytes());
      t.first_call_ms = c.timer.first_call_ms(call);
      if (!c.cfg.check) return;
      const testing::ProblemSpec& ps = pp->spec();
      if (plan.scope == CheckScope::full) {
        fill_check(t, pp->check(s, run->out()), c.cfg.tol, "full");
      } else {
        const DenseEquivalent de = dense_equivalent(ps);
        const char* ref = static_cast<const char*>(pp->ref()) + de.a_row0 * ps.n * dtype_size(ps.d);
        fill_check(t, testing::check_output(s, run->out(), ps.n, ref, ps.n, ps.d, de.check_rows, ps.n, nullptr),
                   c.cfg.tol, fmt::format("rows of expert {} ({} rows)", de.group, de.check_rows));
      }
    };
    const std::vector<PeerPlan> variants = scale_variants(plan, pp->spec());
    Measurement first = m;
    attempt(variants[0], first);
    Measurement chosen = first;
    for (std::size_t v = 1; v < variants.size() && chosen.status == Status::wrong; ++v) {
      Measurement t = m;
      try {
        attempt(variants[v], t);
      } catch (const std::exception&) {
        continue;  // cuBLAS refusing an alternative layout says nothing about the first one
      }
      if (t.status == Status::ok) {
        t.computes += fmt::format(" (found after {} wrong scale layout(s))", v);
        chosen = t;
      }
    }
    if (variants.size() > 1 && chosen.status == Status::wrong) {
      attempt(variants[0], chosen);  // time the variant the record describes
      chosen.reason += fmt::format(" ({} scale layouts tried)", variants.size());
    }
    m = chosen;
    m.timing = c.timer.measure(call, c.timer.estimate_ms(call, m.first_call_ms));
  } catch (const std::exception& e) {
    const std::string what = e.what();
    // cuBLAS declining a case is "cannot run", not a failure of the benchmark.
    const bool declined = what.find("NOT_SUPPORTED") != std::string::npos ||
                          what.find("no algorithm") != std::string::npos ||
                          what.find("ARCH_MISMATCH") != std::string::npos;
    m.status = declined ? Status::unsupported : Status::error;
    m.reason = what;
  }
  finish(c, std::move(m));
}

void run_case(Ctx& c, const Suite& suite, int index) {
  const SuiteShape shape = apply_layout(suite.shapes[index], c.cfg.layout);
  const testing::ProblemSpec spec = make_spec(shape, c.recipe, c.cfg.seed);
  const CUstream s = c.timer.stream();
  testing::GpuProblem prob(spec, s);
  if (c.cfg.check) prob.run_reference(s);
  Measurement base;
  base.case_id = index;
  base.suite = suite.name;
  base.shape = shape_label(shape);
  base.recipe = c.recipe.name;
  base.layout = spec.layout;
  base.groups = prob.num_groups();
  base.m = prob.m();
  base.n = spec.n;
  base.k = spec.k;
  base.max_m = spec.layout == Layout::masked ? prob.m() : 0;
  base.valid_rows = prob.valid_rows();
  for (const int r : spec.rows) base.group_rows.push_back(spec.layout == Layout::masked ? static_cast<int>(std::min<i64>(r, base.max_m)) : r);
  if (spec.layout == Layout::masked) base.expected_m = prob.grouped_args().expected_m;
  base.flops = prob.flops();
  for (const FamilyChoice& f : c.families) run_ours(c, base, prob, f);
  std::map<std::string, std::unique_ptr<testing::GpuProblem>> companions;  // other recipes, this case only
  for (PeerId id : c.peers) run_peer(c, base, prob, id, companions);
}

std::string peer_names(const std::vector<PeerId>& peers) {
  std::string s;
  for (PeerId p : peers) s += (s.empty() ? "" : ", ") + std::string(peer_name(p));
  return s.empty() ? "none" : s;
}

}  // namespace

int run_bench(const BenchConfig& cfg) {
  validate(cfg);
  const Recipe recipe = parse_recipe(cfg.dtype);
  const std::vector<FamilyChoice> families = parse_families(cfg.families);
  Suite suite;
  bool has_moe = false;
  if (!cfg.suite.empty()) {
    suite = load_suite(cfg.suite);
    for (const SuiteShape& s : suite.shapes) has_moe |= apply_layout(s, cfg.layout).layout != Layout::dense;
  }
  const std::vector<PeerId> peers = parse_peers(cfg.peers, recipe, has_moe);
  std::string fams;
  for (const FamilyChoice& f : families) fams += (fams.empty() ? "" : ",") + f.name;
  const std::string plan =
      cfg.suite.empty() ? std::string("device ceilings only")
                        : fmt::format("suite {} ({} shapes), dtype {}, layout {}, families {}, peers {}{}", suite.name,
                                      suite.shapes.size(), recipe.name, layout_choice_name(cfg.layout), fams,
                                      peer_names(peers), cfg.ceilings ? ", with device ceilings" : "");

  if (!testing::gpu_available()) {
    std::printf("jitgemm bench: no GPU here (%s): nothing to time.\n", testing::gpu_unavailable_reason().c_str());
    std::printf("would run: %s\ncuBLAS: %s\n%s", plan.c_str(), cublas_version().c_str(),
                cfg.json_path.empty() ? "" : "no JSON written.\n");
    return 0;
  }

  testing::use_device(0);
  testing::Stream stream;
  Runtime& rt = Runtime::global();
  const DeviceSpec& dev = rt.device_of(stream);
  if (!peers.empty() && have_cublas()) init_peers(stream);
  const EnvInfo env = collect_env(dev, cfg);
  std::printf("jitgemm bench: %s\n%s", plan.c_str(), format_env(env).c_str());
  JsonOut json(cfg.json_path);
  json.write(to_json(env));

  Timer timer(stream, cfg.flush_bytes, cfg.warmup, cfg.iters);
  Ceilings ceilings;
  if (cfg.ceilings) {
    const std::vector<CeilingRecord> records = measure_ceilings(timer, dev);
    for (const CeilingRecord& r : records) json.write(to_json(r));
    std::printf("%s", format_ceilings(records, env.gpu).c_str());
    ceilings = ceilings_from(records, "measured in this run");
  } else if (!cfg.ceilings_from.empty()) {
    ceilings = load_ceilings(cfg.ceilings_from);
  }
  if (cfg.suite.empty()) return 0;
  timer.set_budget(cfg.budget_s);  // ceilings above always take the full count

  std::vector<Measurement> all;
  Ctx ctx{cfg, recipe, families, peers, dev, timer, ceilings, json, all, static_cast<int>(suite.shapes.size())};
  for (int i = 0; i < ctx.total; ++i) {
    try {
      run_case(ctx, suite, i);
    } catch (const std::exception& e) {  // e.g. out of memory building the problem: record, go on
      Measurement m;
      m.case_id = i;
      m.suite = suite.name;
      m.shape = shape_label(apply_layout(suite.shapes[i], cfg.layout));
      m.recipe = recipe.name;
      m.impl = "(setup)";
      m.status = Status::error;
      m.reason = e.what();
      finish(ctx, std::move(m));
    }
  }

  const std::string title = fmt::format("{} · {} · layout {} · {} · {}", suite.name, recipe.name,
                                        layout_choice_name(cfg.layout), env.gpu, env.git);
  std::printf("%s\n%s", format_suite_table(title, all, ceilings).c_str(), format_ratio_table(all).c_str());
  int bad_ours = 0, bad_peers = 0;
  for (const Measurement& m : all) {
    const bool bad = m.status == Status::wrong || m.status == Status::error;
    (m.ours ? bad_ours : bad_peers) += bad;
  }
  if (bad_peers) std::printf("WARNING: %d peer result(s) wrong or failed (flagged above, not ranked)\n", bad_peers);
  if (bad_ours) std::printf("FAILED: %d result(s) of our families wrong or failed\n", bad_ours);
  if (!cfg.json_path.empty()) std::printf("JSON lines: %s\n", cfg.json_path.c_str());
  return bad_ours ? 1 : 0;
}

}  // namespace jit::bench
