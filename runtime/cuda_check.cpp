#include "runtime/cuda_check.hpp"
#include "runtime/driver.hpp"

namespace jit::detail {

void throw_cuda_error(CUresult r, const std::string& doing) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (const Driver& d = driver(); d.loaded) {
    d.cuGetErrorName(r, &name);
    d.cuGetErrorString(r, &text);
  }
  std::string n = name ? name : ("CUresult " + std::to_string(static_cast<int>(r)));
  if (text) n += std::string(" (") + text + ")";
  throw CudaError(static_cast<int>(r), n, doing);
}

std::string nvrtc_error_string(nvrtcResult r) { return nvrtcGetErrorString(r); }

}  // namespace jit::detail
