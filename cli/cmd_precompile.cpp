// jitgemm precompile: fill the disk cache without a GPU, for the arches and shapes given. What it
// writes is exactly what a later run on such a GPU looks up (same heuristics, same keys).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>

#include "bench/suite.hpp"
#include "cli/commands.hpp"
#include "jit/errors.hpp"
#include "jit/runtime.hpp"

namespace jit::cli {

namespace {

struct Job {
  DeviceSpec device;
  std::string label;  // "sm_90a fp8 deepgemm-dense 64x2112x7168"
  ProblemDesc desc;
  Family family;
};

struct Args {
  std::string archs = "sm_80,sm_90a", preset, shapes, dtypes = "bf16,fp8", families = "auto";
  int sms = 0;
  unsigned jobs = 0;
};

}  // namespace

// Shared with `jitgemm demo` (no GPU): compiles a suite's kernels for some arches.
int run_precompile(const std::vector<std::string>& suites, const std::vector<std::string>& archs,
                   const std::vector<std::string>& dtypes, const std::vector<std::string>& families,
                   int sms, unsigned jobs) {
  std::vector<Job> work;
  for (const auto& arch : archs) {
    DeviceSpec dev = flagship_device(arch, sms);
    for (const auto& suite_name : suites) {
      bench::Suite suite = bench::load_suite(suite_name);
      for (const auto& dt : dtypes) {
        bench::Recipe recipe = bench::parse_recipe(dt);
        for (const auto& shape : suite.shapes) {
          ProblemDesc desc = bench::make_desc(bench::make_spec(shape, recipe));
          for (const auto& fam : families)
            work.push_back({dev, dev.arch + " " + dt + " " + suite.name + " " + bench::shape_label(shape) +
                                     (fam == "auto" ? "" : " [" + fam + "]"),
                            desc, parse_family(fam)});
        }
      }
    }
  }

  Runtime rt(Options::from_env());
  if (rt.options().cache_mode != CacheMode::readwrite)
    std::fprintf(stderr, "jitgemm precompile: warning: JITGEMM_CACHE_MODE is not readwrite; nothing will be stored\n");
  std::printf("precompiling %zu kernels into %s\n", work.size(), rt.options().resolved_cache_dir().c_str());
  std::vector<PrecompileResult> results(work.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex print_mu;
  const bool tty = ::isatty(STDOUT_FILENO);
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < work.size();) {
      GemmOptions o;
      o.family = work[i].family;
      results[i] = rt.precompile(work[i].desc, work[i].device, o);
      std::lock_guard lk(print_mu);
      const std::size_t d = ++done;
      static const char* names[] = {"compiled", "cached", "unsupported", "FAILED"};
      const auto& r = results[i];
      const int width = 30, filled = static_cast<int>(width * d / work.size());
      std::printf("%s[%s%s] %zu/%zu %-11s %5.2fs %s%s", tty ? "\r\033[K" : "", std::string(filled, '#').c_str(),
                  std::string(width - filled, ' ').c_str(), d, work.size(),
                  names[static_cast<int>(r.status)], r.seconds, work[i].label.c_str(), tty && d < work.size() ? "" : "\n");
      std::fflush(stdout);
    }
  };
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::min<std::size_t>(jobs, work.size()); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  std::vector<double> compile_s;
  std::size_t cached = 0, unsupported = 0, failed = 0;
  for (std::size_t i = 0; i < work.size(); ++i) {
    const auto& r = results[i];
    switch (r.status) {
      case PrecompileResult::Status::compiled: compile_s.push_back(r.seconds); break;
      case PrecompileResult::Status::cached: ++cached; break;
      case PrecompileResult::Status::unsupported: ++unsupported; break;
      case PrecompileResult::Status::failed:
        ++failed;
        std::fprintf(stderr, "FAILED %s:\n%s\n", work[i].label.c_str(), r.error.c_str());
        break;
    }
  }
  std::sort(compile_s.begin(), compile_s.end());
  double total = 0;
  for (double s : compile_s) total += s;
  std::printf("summary: %zu compiled (median %.2fs, total %.1fs), %zu already cached, %zu unsupported, %zu failed\n",
              compile_s.size(), compile_s.empty() ? 0.0 : compile_s[compile_s.size() / 2], total, cached,
              unsupported, failed);
  for (std::size_t i = 0; i < work.size() && unsupported; ++i)
    if (results[i].status == PrecompileResult::Status::unsupported) {
      std::string why = results[i].error.substr(0, results[i].error.find('\n'));
      std::printf("  unsupported: %s (%s)\n", work[i].label.c_str(), why.c_str());
    }
  return failed ? 1 : 0;
}

void add_precompile(CLI::App& app) {
  static Args a;
  auto* cmd = app.add_subcommand("precompile", "compile kernels into the disk cache (no GPU needed)");
  cmd->add_option("--arch", a.archs, "comma-separated: sm_80,sm_86,sm_89,sm_90a")->capture_default_str();
  auto* preset = cmd->add_option("--preset", a.preset, "a suite name (bench/suites): deepgemm-dense, moe-contiguous, ...");
  auto* shapes = cmd->add_option("--shapes", a.shapes, "a .shapes file");
  preset->excludes(shapes);
  cmd->add_option("--dtype", a.dtypes, "comma-separated recipes: bf16,fp16,fp8,fp8-row,int8")->capture_default_str();
  cmd->add_option("--family", a.families, "comma-separated: auto,reference,sm80,sm90")->capture_default_str();
  cmd->add_option("--sms", a.sms, "SM count the heuristics assume (0: the arch's flagship)")->capture_default_str();
  cmd->add_option("--jobs,-j", a.jobs, "parallel compiles (0: one per core)");
  cmd->callback([] {
    if (a.preset.empty() && a.shapes.empty()) throw CLI::ValidationError("precompile", "give --preset NAME or --shapes FILE");
    exit_with(run_precompile({a.preset.empty() ? a.shapes : a.preset}, bench::split_csv(a.archs), bench::split_csv(a.dtypes),
                             bench::split_csv(a.families), a.sms, a.jobs));
  });
}

}  // namespace jit::cli
