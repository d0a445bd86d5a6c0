#include "testing/device.hpp"

#include <mutex>

namespace jit::testing {

namespace {

struct Probe {
  bool ok = false;
  std::string why;
};

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    const auto& d = detail::driver();
    if (!d.loaded) {
      r.why = d.error;
      return r;
    }
    if (CUresult e = d.cuInit(0); e != CUDA_SUCCESS) {
      const char* name = nullptr;
      d.cuGetErrorName(e, &name);
      r.why = std::string("cuInit failed: ") + (name ? name : "?");
      return r;
    }
    int n = 0;
    if (d.cuDeviceGetCount(&n) != CUDA_SUCCESS || n == 0) {
      r.why = "no CUDA device";
      return r;
    }
    r.ok = true;
    return r;
  }();
  return p;
}

}  // namespace

bool gpu_available() { return probe().ok; }
const std::string& gpu_unavailable_reason() { return probe().why; }

CUcontext use_device(int ordinal) {
  if (!gpu_available()) throw CudaError(CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", gpu_unavailable_reason());
  CUdevice dev;
  TEST_CU(cuDeviceGet(&dev, ordinal));
  CUcontext ctx;
  TEST_CU(cuDevicePrimaryCtxRetain(&ctx, dev));  // retained for the process: never released
  TEST_CU(cuCtxSetCurrent(ctx));
  return ctx;
}

DeviceBuffer::DeviceBuffer(std::size_t bytes) : size_(bytes) {
  if (bytes) TEST_CU(cuMemAlloc(&ptr_, bytes));
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) JIT_CU(cuMemFree)(ptr_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_) JIT_CU(cuMemFree)(ptr_);
    ptr_ = std::exchange(o.ptr_, 0);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

// The plain copies run on the legacy stream, which our non-blocking streams do not wait for, and a
// pageable upload may return before its DMA lands: synchronise the context on both sides so a copy
// is ordered with every stream's work (tests and benchmarks only; speed does not matter here).
void DeviceBuffer::upload(const void* host, std::size_t bytes, std::size_t offset) {
  if (!bytes) return;
  TEST_CU(cuCtxSynchronize());
  TEST_CU(cuMemcpyHtoD(ptr_ + offset, host, bytes));
  TEST_CU(cuCtxSynchronize());
}

void DeviceBuffer::download(void* host, std::size_t bytes, std::size_t offset) const {
  if (!bytes) return;
  TEST_CU(cuCtxSynchronize());
  TEST_CU(cuMemcpyDtoH(host, ptr_ + offset, bytes));
}

Stream::Stream() { TEST_CU(cuStreamCreate(&s_, CU_STREAM_NON_BLOCKING)); }
Stream::~Stream() {
  if (s_) JIT_CU(cuStreamDestroy)(s_);
}
void Stream::sync() const { TEST_CU(cuStreamSynchronize(s_)); }

Event::Event() { TEST_CU(cuEventCreate(&e_, CU_EVENT_DEFAULT)); }
Event::~Event() {
  if (e_) JIT_CU(cuEventDestroy)(e_);
}
void Event::record(CUstream s) { TEST_CU(cuEventRecord(e_, s)); }
float Event::since(const Event& start) const {
  TEST_CU(cuEventSynchronize(e_));
  float ms = 0;
  TEST_CU(cuEventElapsedTime(&ms, start.e_, e_));
  return ms;
}

}  // namespace jit::testing
