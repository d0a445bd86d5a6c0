// The registry of kernel families, in order of preference for Family::automatic.
#include "runtime/family.hpp"

namespace jit::detail {

const KernelFamily& sm90_fp8_family();
const KernelFamily& sm90_bf16_family();
const KernelFamily& sm80_family();
const KernelFamily& reference_family();

std::span<const KernelFamily* const> kernel_families() {
  static const KernelFamily* const all[] = {
      &sm90_fp8_family(),   // e4m3 1x128/128x128 -> bf16 on sm_90a: TMA + wgmma, warp-specialized
      &sm90_bf16_family(),  // BF16/FP16 on sm_90a: TMA + wgmma m64nNk16, warp-specialized
      &sm80_family(),       // BF16/FP16 on sm_80+: cp.async + ldmatrix + mma.sync
      &reference_family(),  // the oracle; never picked automatically
  };
  return all;
}

}  // namespace jit::detail
