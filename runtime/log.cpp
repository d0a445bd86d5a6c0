#include "runtime/log.hpp"

#include <cstdio>
#include <mutex>

namespace jit::detail {

void Logger::write(LogLevel l, std::string_view line) const {
  static const char* const names[] = {"", "error", "warning", "info", "debug"};
  // One fprintf per line keeps lines from several threads whole.
  std::fprintf(stderr, "[jitgemm %s] %.*s\n", names[static_cast<int>(l)],
               static_cast<int>(line.size()), line.data());
}

}  // namespace jit::detail
