// NVRTC: rendered stub + embedded headers -> cubin, with the log always captured.
#pragma once

#include <string>
#include <vector>

#include "runtime/log.hpp"

namespace jit::detail {

// What a family's codegen produces for one config.
struct KernelSource {
  std::string stub;       // "#include <jit/...>" + one explicit instantiation with named constants
  std::string name_expr;  // "&jit::reference::gemm_kernel<...>": lowered by NVRTC to the symbol
};

struct CompileOutput {
  std::string cubin, ptx, lowered_name, log;
  double ms = 0;
  int registers = -1, spill_stores = -1, spill_loads = -1, stack_bytes = -1;
};

// The exact NVRTC option list for an arch. Part of the cache key, so keep it deterministic.
std::vector<std::string> nvrtc_options(const std::string& arch);
std::string nvrtc_version();  // "13.0"

// Compiles `src`. On failure throws CompileError carrying the log and the path where the source
// was saved (`failure_dir`, created if needed). `dump_dir` non-empty: also write .cu/.ptx/.cubin/
// .sass/.log there under `tag`.
CompileOutput nvrtc_compile(const KernelSource& src, const std::vector<std::string>& options,
                            const std::string& tag, const std::string& dump_dir,
                            const std::string& failure_dir, const Logger& log);

// Registers, stack and spills of the kernel from ptxas's verbose report.
void parse_ptxas_report(const std::string& log, CompileOutput* out);

}  // namespace jit::detail
