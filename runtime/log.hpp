// Leveled logging to stderr. The level comes from Options (read once); formatting happens only when
// the level is enabled, so disabled log lines cost one comparison.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <string_view>

#include "jit/options.hpp"

namespace jit::detail {

class Logger {
 public:
  explicit Logger(LogLevel level) : level_(level) {}
  bool enabled(LogLevel l) const { return l != LogLevel::off && l <= level_; }
  template <class... Args>
  void log(LogLevel l, fmt::format_string<Args...> f, Args&&... args) const {
    if (enabled(l)) write(l, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) const {
    log(LogLevel::warn, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void info(fmt::format_string<Args...> f, Args&&... args) const {
    log(LogLevel::info, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) const {
    log(LogLevel::debug, f, std::forward<Args>(args)...);
  }
  void write(LogLevel l, std::string_view line) const;

 private:
  LogLevel level_;
};

// Warns at most once per flag (e.g. "cache directory unwritable").
class OnceFlag {
 public:
  bool first() { return !done_.exchange(true); }

 private:
  std::atomic<bool> done_{false};
};

}  // namespace jit::detail
