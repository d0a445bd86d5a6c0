// The `jitgemm` command line: one file per subcommand, each registering itself on the app.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace jit::cli {

void add_info(CLI::App& app);
void add_precompile(CLI::App& app);
void add_cache(CLI::App& app);
void add_demo(CLI::App& app);
void add_bench(CLI::App& app);

// Subcommands end with this to set the process's exit code.
[[noreturn]] inline void exit_with(int code) { throw CLI::RuntimeError(code); }

int run_precompile(const std::vector<std::string>& suites, const std::vector<std::string>& archs,
                   const std::vector<std::string>& dtypes, const std::vector<std::string>& families,
                   int sms, unsigned jobs);

}  // namespace jit::cli
