// The run's environment for the JSON record and the table header.
#pragma once

#include <string>

#include "bench/bench_config.hpp"
#include "bench/bench_report.hpp"
#include "jit/runtime.hpp"

namespace jit::bench {

// $JITGEMM_GIT_COMMIT, else `git rev-parse --short HEAD` in the working directory (+"-dirty" when
// tracked files changed), else "unknown".
std::string git_commit();
std::string utc_now();  // "2026-11-21T12:00:00Z"
// Reads the current context's device (needs the driver and a current context).
EnvInfo collect_env(const DeviceSpec& spec, const BenchConfig& c);

}  // namespace jit::bench
