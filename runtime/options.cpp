// Options::from_env: the only place the library reads the environment.
#include <cstdlib>
#include <string>

#include "jit/errors.hpp"
#include "jit/options.hpp"

namespace jit {

const char* family_name(Family f) {
  switch (f) {
    case Family::automatic: return "auto";
    case Family::reference: return "reference";
    case Family::sm80: return "sm80";
    case Family::sm90: return "sm90";
  }
  return "?";
}

Family parse_family(const std::string& name) {
  for (Family f : {Family::automatic, Family::reference, Family::sm80, Family::sm90})
    if (name == family_name(f)) return f;
  if (name.empty() || name == "automatic") return Family::automatic;
  throw InvalidArgument("family", "'" + name + "' is not one of auto, reference, sm80, sm90");
}

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : nullptr;
}

bool env_flag(const char* name) {
  const char* v = env(name);
  if (!v) return false;
  std::string s = v;
  if (s == "1" || s == "true" || s == "on" || s == "yes") return true;
  if (s == "0" || s == "false" || s == "off" || s == "no") return false;
  throw InvalidArgument(name, "'" + s + "' is not a boolean (1/0, true/false, on/off)");
}

}  // namespace

Options Options::from_env() {
  Options o;
  if (const char* v = env("JITGEMM_CACHE_DIR")) o.cache_dir = v;
  if (const char* v = env("JITGEMM_CACHE_MODE")) {
    std::string s = v;
    if (s == "off") o.cache_mode = CacheMode::off;
    else if (s == "read") o.cache_mode = CacheMode::read;
    else if (s == "readwrite") o.cache_mode = CacheMode::readwrite;
    else throw InvalidArgument("JITGEMM_CACHE_MODE", "'" + s + "' is not one of off, read, readwrite");
  }
  if (const char* v = env("JITGEMM_LOG")) {
    std::string s = v;
    if (s == "off") o.log_level = LogLevel::off;
    else if (s == "error") o.log_level = LogLevel::error;
    else if (s == "warn" || s == "warning") o.log_level = LogLevel::warn;
    else if (s == "info") o.log_level = LogLevel::info;
    else if (s == "debug") o.log_level = LogLevel::debug;
    else throw InvalidArgument("JITGEMM_LOG", "'" + s + "' is not one of off, error, warn, info, debug");
  }
  if (const char* v = env("JITGEMM_DUMP_DIR")) o.dump_dir = v;
  o.ptxas_verbose = env_flag("JITGEMM_PTXAS_VERBOSE");
  o.fail_on_spills = env_flag("JITGEMM_FAIL_ON_SPILLS");
  o.no_compile = env_flag("JITGEMM_NO_COMPILE");
  if (const char* v = env("JITGEMM_FORCE_FAMILY")) o.force_family = parse_family(v);
  if (const char* v = env("JITGEMM_FORCE_CONFIG")) o.force_config = v;
  return o;
}

std::string Options::resolved_cache_dir() const {
  if (!cache_dir.empty()) return cache_dir;
  if (const char* v = env("JITGEMM_CACHE_DIR")) return v;
  if (const char* v = env("XDG_CACHE_HOME")) return std::string(v) + "/jitgemm";
  if (const char* v = env("HOME")) return std::string(v) + "/.cache/jitgemm";
  return "/tmp/jitgemm-cache";
}

}  // namespace jit
