// The CUDA driver API, loaded at run time (dlopen libcuda.so.1 + cuGetProcAddress) so that the
// library, its tests and `jitgemm precompile` start on machines without a GPU driver.
// Call sites read like the API: JIT_CU(cuLaunchKernelEx)(...).
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>

#include <string>

// Every driver entry point the project uses, with the ABI version (cudaTypedefs.h's PFN_<name>_v<N>)
// whose signature cuda.h declares: cuGetProcAddress must be asked for exactly that version, since
// a newer one may change the signature (cuStreamGetCtx at 12050 takes a third argument).
#define JIT_DRIVER_FUNCTIONS(X) \
  X(cuInit, 2000) X(cuDriverGetVersion, 2020) X(cuGetErrorName, 6000) \
  X(cuGetErrorString, 6000) X(cuDeviceGet, 2000) X(cuDeviceGetCount, 2000) \
  X(cuDeviceGetAttribute, 2000) X(cuDeviceGetName, 2000) X(cuDevicePrimaryCtxRetain, 7000) \
  X(cuDevicePrimaryCtxRelease, 11000) X(cuCtxGetCurrent, 4000) X(cuCtxSetCurrent, 4000) \
  X(cuCtxPushCurrent, 4000) X(cuCtxPopCurrent, 4000) X(cuCtxGetDevice, 2000) \
  X(cuCtxGetId, 12000) X(cuCtxSynchronize, 2000) X(cuStreamGetCtx, 9020) \
  X(cuModuleLoadData, 2000) X(cuModuleUnload, 2000) X(cuModuleGetFunction, 2000) \
  X(cuFuncSetAttribute, 9000) X(cuFuncGetAttribute, 2020) X(cuLaunchKernel, 4000) \
  X(cuLaunchKernelEx, 11060) X(cuTensorMapEncodeTiled, 12000) X(cuMemAlloc, 3020) \
  X(cuMemFree, 3020) X(cuMemGetInfo, 3020) X(cuMemcpyHtoD, 3020) \
  X(cuMemcpyDtoH, 3020) X(cuMemcpyHtoDAsync, 3020) X(cuMemcpyDtoHAsync, 3020) \
  X(cuMemcpyDtoDAsync, 3020) X(cuMemsetD8Async, 3020) X(cuMemsetD32Async, 3020) \
  X(cuStreamCreate, 2000) X(cuStreamDestroy, 4000) X(cuStreamSynchronize, 2000) \
  X(cuStreamQuery, 2000) X(cuEventCreate, 2000) X(cuEventDestroy, 4000) \
  X(cuEventRecord, 2000) X(cuEventSynchronize, 2000) X(cuEventElapsedTime, 12080) \
  X(cuStreamBeginCapture, 10010) X(cuStreamEndCapture, 10000) X(cuGraphInstantiateWithFlags, 11040) \
  X(cuGraphLaunch, 10000) X(cuGraphDestroy, 10000) X(cuGraphExecDestroy, 10000) \
  X(cuDeviceGetUuid, 11040) X(cuStreamGetId, 12000) X(cuStreamIsCapturing, 10000) \
  X(cuOccupancyMaxActiveClusters, 11070)

namespace jit::detail {

struct Driver {
  bool loaded = false;
  std::string error;  // why it is not loaded
#define JIT_DRIVER_MEMBER(name, version) PFN_##name##_v##version name = nullptr;
  JIT_DRIVER_FUNCTIONS(JIT_DRIVER_MEMBER)
#undef JIT_DRIVER_MEMBER
};

// Loaded on first use; thread-safe. Never throws: check `loaded`.
const Driver& driver();
// The driver, or CudaError(CUDA_ERROR_NO_DEVICE-like) saying why it could not be loaded.
const Driver& require_driver();

}  // namespace jit::detail

#define JIT_CU(name) (::jit::detail::require_driver().name)
