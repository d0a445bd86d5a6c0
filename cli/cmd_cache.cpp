// jitgemm cache list|verify|prune|clear: inspect and maintain the disk cache.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cache/store.hpp"
#include "cli/commands.hpp"
#include "jit/errors.hpp"
#include "jit/options.hpp"

namespace jit::cli {

namespace {

// "30d", "12h", "45m", "10s", or plain seconds.
std::chrono::seconds parse_duration(const std::string& s) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    throw InvalidArgument("--older-than", "'" + s + "' is not a duration like 30d, 12h, 45m, 10s");
  }
  const std::string unit = s.substr(used);
  const double mult = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : -1;
  if (mult < 0 || v < 0) throw InvalidArgument("--older-than", "'" + s + "' is not a duration like 30d, 12h, 45m, 10s");
  return std::chrono::seconds(static_cast<long long>(v * mult));
}

// "1G", "500M", "64K", or plain bytes.
std::uint64_t parse_bytes(const std::string& s) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    throw InvalidArgument("--max-bytes", "'" + s + "' is not a size like 1G, 500M, 64K");
  }
  const std::string unit = s.substr(used);
  const double mult = unit.empty() || unit == "B" ? 1 : unit == "K" ? 1024.0 : unit == "M" ? 1048576.0 : unit == "G" ? 1073741824.0 : -1;
  if (mult < 0 || v < 0) throw InvalidArgument("--max-bytes", "'" + s + "' is not a size like 1G, 500M, 64K");
  return static_cast<std::uint64_t>(v * mult);
}

std::string when(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
  return buf;
}

const detail::Logger& quiet() {
  static const detail::Logger log(LogLevel::warn);
  return log;
}

cache::DiskCache open_cache(CacheMode mode) {
  const Options opts = Options::from_env();
  return cache::DiskCache(opts.resolved_cache_dir(), mode, quiet());
}

}  // namespace

void add_cache(CLI::App& app) {
  auto* cmd = app.add_subcommand("cache", "inspect and maintain the kernel cache");
  cmd->require_subcommand(1);

  static bool json = false;
  auto* list = cmd->add_subcommand("list", "one line per entry");
  list->add_flag("--json", json, "JSON lines");
  list->callback([] {
    auto disk = open_cache(CacheMode::read);
    std::uint64_t total = 0;
    for (const auto& e : disk.list(false)) {
      total += e.bytes;
      if (json) {
        nlohmann::ordered_json j = {{"key", e.key}, {"ok", e.ok}, {"family", e.meta.family},
                                    {"config", e.meta.config}, {"arch", e.meta.arch}, {"bytes", e.bytes},
                                    {"compile_ms", e.meta.compile_ms}, {"registers", e.meta.registers},
                                    {"spill_bytes", e.meta.spill_stores + e.meta.spill_loads},
                                    {"last_used", when(e.last_used)}};
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf("%s %-7s %-9s %7.1f KB %6.0f ms %3d regs  %s  %s\n", e.key.c_str(), e.meta.arch.c_str(),
                    e.meta.family.c_str(), e.bytes / 1024.0, e.meta.compile_ms, e.meta.registers,
                    when(e.last_used).c_str(), e.ok ? e.meta.config.c_str() : ("BAD: " + e.problem).c_str());
      }
    }
    if (!json) std::printf("%s: %.1f MB\n", disk.root().c_str(), total / 1048576.0);
  });

  auto* verify = cmd->add_subcommand("verify", "check every entry's metadata, size and checksum");
  verify->callback([] {
    auto disk = open_cache(CacheMode::read);
    std::size_t bad = 0, n = 0;
    for (const auto& e : disk.list(true)) {
      ++n;
      if (!e.ok) {
        ++bad;
        std::printf("BAD %s: %s\n", e.path.c_str(), e.problem.c_str());
      }
    }
    std::printf("%zu entries, %zu bad\n", n, bad);
    exit_with(bad ? 1 : 0);
  });

  static std::string older, max_bytes;
  auto* prune = cmd->add_subcommand("prune", "remove entries unused for a while and/or beyond a size");
  prune->add_option("--older-than", older, "e.g. 30d, 12h");
  prune->add_option("--max-bytes", max_bytes, "e.g. 1G, 500M (least recently used go first)");
  prune->callback([] {
    if (older.empty() && max_bytes.empty()) throw CLI::ValidationError("prune", "give --older-than and/or --max-bytes");
    std::optional<std::chrono::seconds> o;
    std::optional<std::uint64_t> b;
    if (!older.empty()) o = parse_duration(older);
    if (!max_bytes.empty()) b = parse_bytes(max_bytes);
    auto disk = open_cache(CacheMode::readwrite);
    std::printf("removed %zu entries\n", disk.prune(o, b));
  });

  auto* clear = cmd->add_subcommand("clear", "remove every entry");
  clear->callback([] {
    auto disk = open_cache(CacheMode::readwrite);
    std::printf("removed %zu entries from %s\n", disk.clear(), disk.root().c_str());
  });
}

}  // namespace jit::cli
