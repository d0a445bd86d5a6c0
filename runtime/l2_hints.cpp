#include "runtime/l2_hints.hpp"

namespace jit::detail {

bool l2_hints_for(const ProblemDesc& p, const DeviceSpec& dev, int block_m) {
  if (p.layout != Layout::dense || p.m > 2 * static_cast<std::int64_t>(block_m)) return false;
  const double a_bytes = double(p.m) * double(p.k) * dtype_size(p.a);
  return a_bytes <= double(dev.l2_bytes > 0 ? dev.l2_bytes : 50 << 20) / 4;
}

}  // namespace jit::detail
