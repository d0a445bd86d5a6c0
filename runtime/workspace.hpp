// The library's own workspaces (jit::Workspace) for calls that pass none: in each CUDA context, one
// buffer per stream, so that calls queued on different streams never share one, while calls on one
// stream reuse it in stream order. Graph capture does not use them (the runtime checks first): a
// captured kernel would keep the buffer's address and could run beside later work on the stream.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace jit::detail {

class StreamWorkspaces {
 public:
  StreamWorkspaces() = default;
  StreamWorkspaces(const StreamWorkspaces&) = delete;
  StreamWorkspaces& operator=(const StreamWorkspaces&) = delete;

  // A buffer of at least `bytes` for work queued on `stream` of context `ctx`. A new buffer is
  // zero-filled on `stream` (so before anything queued after this call); an outgrown one is kept
  // until release(), since work queued before may still use it. Thread-safe; a short lock.
  void* get(CUcontext ctx, CUstream stream, std::int64_t bytes);

  // Frees every buffer; `ctx` must be alive and no work using them may be pending.
  void release(CUcontext ctx);

 private:
  struct Buffer {
    CUdeviceptr ptr = 0;
    std::int64_t bytes = 0;
  };
  std::mutex mu_;
  std::unordered_map<unsigned long long, Buffer> by_stream_;  // by cuStreamGetId: unique per process
  std::vector<CUdeviceptr> retired_;
};

// Whether `stream` is being captured into a CUDA graph.
bool stream_capturing(CUstream stream);

}  // namespace jit::detail
