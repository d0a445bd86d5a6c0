#include "runtime/family.hpp"

#include <cstring>
#include <string>

#include "jit/errors.hpp"

namespace jit::detail {

std::size_t KernelConfigHash::operator()(const KernelConfig& c) const noexcept {
  // FNV-1a over the config's fields: 32 ints, far below a microsecond.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](int v) {
    h ^= static_cast<std::uint32_t>(v);
    h *= 1099511628211ull;
  };
  mix(static_cast<int>(c.family));
  mix(c.kernel);
  for (int v : c.v) mix(v);
  return static_cast<std::size_t>(h);
}

void parse_forced_config(const char* text, const std::function<bool(const std::string&, int)>& set) {
  std::string s = text ? text : "";
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    std::size_t eq = item.find('=');
    if (eq == std::string::npos) throw InvalidArgument("config", "'" + item + "' is not NAME=value");
    std::string name = item.substr(0, eq);
    int value = 0;
    try {
      std::size_t used = 0;
      value = std::stoi(item.substr(eq + 1), &used);
      if (used != item.size() - eq - 1) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw InvalidArgument("config", "'" + item + "': the value is not an integer");
    }
    if (!set(name, value)) throw InvalidArgument("config", "unknown or out-of-range field '" + item + "'");
  }
}

}  // namespace jit::detail
