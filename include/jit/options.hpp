// Every knob of the library, read once (from the environment or set by the caller) into one struct.
#pragma once

#include <string>

namespace jit {

// Kernel families. `automatic` lets the heuristics pick the fastest one the device supports.
enum class Family : int { automatic = 0, reference = 1, sm80 = 2, sm90 = 3 };
const char* family_name(Family f);
Family parse_family(const std::string& name);  // throws InvalidArgument

enum class CacheMode { off, read, readwrite };
enum class LogLevel { off = 0, error = 1, warn = 2, info = 3, debug = 4 };

struct Options {
  // Disk cache. Empty dir: $JITGEMM_CACHE_DIR, else $XDG_CACHE_HOME/jitgemm, else ~/.cache/jitgemm.
  std::string cache_dir;
  CacheMode cache_mode = CacheMode::readwrite;
  // stderr log: warnings by default; info adds compile/disk-hit/miss events with timings.
  LogLevel log_level = LogLevel::warn;
  // Non-empty: every compile writes its source, PTX, cubin and SASS (when cuobjdump is found) here.
  std::string dump_dir;
  bool ptxas_verbose = false;  // print ptxas's resource report of every compile at info level
  bool fail_on_spills = false; // a kernel with local-memory spills is a CompileError
  bool no_compile = false;     // a miss that would need NVRTC throws instead (frozen deployments)
  Family force_family = Family::automatic;  // tests and benchmarks
  std::string force_config;                 // family-specific "BLOCK_M=64,BLOCK_N=128,..."

  // JITGEMM_CACHE_DIR, JITGEMM_CACHE_MODE=off|read|readwrite, JITGEMM_LOG=off|error|warn|info|debug,
  // JITGEMM_DUMP_DIR, JITGEMM_PTXAS_VERBOSE=1, JITGEMM_FAIL_ON_SPILLS=1, JITGEMM_NO_COMPILE=1,
  // JITGEMM_FORCE_FAMILY=reference|sm80|sm90, JITGEMM_FORCE_CONFIG=... Bad values throw InvalidArgument.
  static Options from_env();
  // The cache directory after applying the defaults above.
  std::string resolved_cache_dir() const;
};

}  // namespace jit
