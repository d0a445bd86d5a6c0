// GPU plumbing for tests, benchmarks and the demo, on the driver API the library loads at run time.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <string>
#include <utility>

#include "runtime/driver.hpp"
#include "runtime/cuda_check.hpp"

namespace jit::testing {

// True when the driver loads and a device exists. Never throws; the reason is kept for messages.
bool gpu_available();
const std::string& gpu_unavailable_reason();

// Makes device `ordinal`'s primary context current on this thread (retained for the process).
CUcontext use_device(int ordinal = 0);

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, 0)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return reinterpret_cast<void*>(ptr_); }
  template <class T> T* as() const { return reinterpret_cast<T*>(ptr_); }
  std::size_t size() const { return size_; }
  void upload(const void* host, std::size_t bytes, std::size_t offset = 0);
  void download(void* host, std::size_t bytes, std::size_t offset = 0) const;

 private:
  CUdeviceptr ptr_ = 0;
  std::size_t size_ = 0;
};

class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  CUstream get() const { return s_; }
  operator CUstream() const { return s_; }
  void sync() const;

 private:
  CUstream s_ = nullptr;
};

class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(CUstream s);
  CUevent get() const { return e_; }
  // Milliseconds from `start` to this event (both recorded; waits for this one).
  float since(const Event& start) const;

 private:
  CUevent e_ = nullptr;
};

}  // namespace jit::testing

#define TEST_CU(call) CU_CHECK(JIT_CU(call), #call)
