// jitgemm: info, precompile, cache, demo, bench.
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "jit/errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{"jitgemm: MoE GEMM kernels compiled at run time (NVRTC) with a persistent cache"};
  app.require_subcommand(1);
  app.set_version_flag("--version", JITGEMM_VERSION);
  jit::cli::add_info(app);
  jit::cli::add_precompile(app);
  jit::cli::add_cache(app);
  jit::cli::add_demo(app);
  jit::cli::add_bench(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "jitgemm: %s\n", e.what());
    return 2;
  }
  return 0;
}
