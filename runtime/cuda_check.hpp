// One check macro per API: CU_CHECK for the driver, NVRTC_CHECK for NVRTC. Both throw.
#pragma once

#include <cuda.h>
#include <nvrtc.h>

#include <string>

#include "jit/errors.hpp"

namespace jit::detail {

[[noreturn]] void throw_cuda_error(CUresult r, const std::string& doing);
std::string nvrtc_error_string(nvrtcResult r);

}  // namespace jit::detail

// `doing` is only evaluated on failure, so it may build a string.
#define CU_CHECK(call, doing)                                          \
  do {                                                                 \
    CUresult jit_cu_result_ = (call);                                  \
    if (jit_cu_result_ != CUDA_SUCCESS) [[unlikely]]                   \
      ::jit::detail::throw_cuda_error(jit_cu_result_, (doing));        \
  } while (0)
