// Makes a CUDA context current for a scope when it is not already (module loads and allocations
// need a current context; a stream names its own).
#pragma once

#include <cuda.h>

#include "runtime/cuda_check.hpp"
#include "runtime/driver.hpp"

namespace jit::detail {

class ScopedContext {
 public:
  explicit ScopedContext(CUcontext ctx) {
    CUcontext cur = nullptr;
    JIT_CU(cuCtxGetCurrent)(&cur);
    if (cur != ctx) {
      CU_CHECK(JIT_CU(cuCtxPushCurrent)(ctx), "making the stream's context current");
      pushed_ = true;
    }
  }
  ~ScopedContext() {
    if (pushed_) {
      CUcontext dummy;
      JIT_CU(cuCtxPopCurrent)(&dummy);
    }
  }
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  bool pushed_ = false;
};

}  // namespace jit::detail
