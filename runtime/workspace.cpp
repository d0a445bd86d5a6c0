#include "runtime/workspace.hpp"

#include "runtime/cuda_check.hpp"
#include "runtime/driver.hpp"
#include "runtime/scoped_context.hpp"

namespace jit::detail {

namespace {
constexpr std::int64_t kMinBytes = std::int64_t{4} << 20;  // most split-K calls fit; few regrowths
}

void* StreamWorkspaces::get(CUcontext ctx, CUstream stream, std::int64_t bytes) {
  unsigned long long id = 0;
  CU_CHECK(JIT_CU(cuStreamGetId)(stream, &id), "reading the stream's id");
  std::lock_guard lk(mu_);
  Buffer& b = by_stream_[id];
  if (b.bytes >= bytes) return reinterpret_cast<void*>(b.ptr);
  std::int64_t size = kMinBytes;
  while (size < bytes) size *= 2;
  ScopedContext scope(ctx);
  CUdeviceptr ptr = 0;
  CU_CHECK(JIT_CU(cuMemAlloc)(&ptr, static_cast<size_t>(size)), "allocating a split-K workspace");
  if (CUresult r = JIT_CU(cuMemsetD8Async)(ptr, 0, static_cast<size_t>(size), stream); r != CUDA_SUCCESS) {
    JIT_CU(cuMemFree)(ptr);
    CU_CHECK(r, "zeroing a split-K workspace");
  }
  if (b.ptr) retired_.push_back(b.ptr);
  b = {ptr, size};
  return reinterpret_cast<void*>(ptr);
}

void StreamWorkspaces::release(CUcontext ctx) {
  std::lock_guard lk(mu_);
  ScopedContext scope(ctx);
  for (auto& [id, b] : by_stream_) JIT_CU(cuMemFree)(b.ptr);
  for (CUdeviceptr p : retired_) JIT_CU(cuMemFree)(p);
  by_stream_.clear();
  retired_.clear();
}

bool stream_capturing(CUstream stream) {
  CUstreamCaptureStatus s = CU_STREAM_CAPTURE_STATUS_NONE;
  CU_CHECK(JIT_CU(cuStreamIsCapturing)(stream, &s), "asking whether the stream is capturing");
  return s != CU_STREAM_CAPTURE_STATUS_NONE;
}

}  // namespace jit::detail
