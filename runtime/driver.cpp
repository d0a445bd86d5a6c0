#include "runtime/driver.hpp"

#include <dlfcn.h>

#include <type_traits>

#include "jit/errors.hpp"

namespace jit::detail {

namespace {

Driver load() {
  Driver d;
  void* lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = ::dlerror();
    d.error = std::string("cannot load the CUDA driver (libcuda.so.1): ") + (e ? e : "unknown error");
    return d;
  }
  using GetProc = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);
  auto get_proc = reinterpret_cast<GetProc>(::dlsym(lib, "cuGetProcAddress_v2"));
  if (!get_proc) {
    d.error = "the CUDA driver is too old: no cuGetProcAddress_v2 (CUDA 12.0 or newer is needed)";
    return d;
  }
  bool ok = true;
#define JIT_DRIVER_LOAD(name, version)                                                       \
  {                                                                                          \
    void* fn = nullptr;                                                                      \
    CUdriverProcAddressQueryResult status;                                                   \
    if (get_proc(#name, &fn, version, CU_GET_PROC_ADDRESS_DEFAULT, &status) != CUDA_SUCCESS || !fn) { \
      ok = false;                                                                            \
      if (d.error.empty()) d.error = "the CUDA driver lacks " #name " (driver too old?)";    \
    }                                                                                        \
    d.name = reinterpret_cast<decltype(d.name)>(fn);                                         \
  }
  JIT_DRIVER_FUNCTIONS(JIT_DRIVER_LOAD)
#undef JIT_DRIVER_LOAD
  d.loaded = ok;
  return d;
}

}  // namespace

// The version each entry point is requested at must give the signature the call sites use.
#define JIT_DRIVER_CHECK(name, version) \
  static_assert(std::is_same_v<PFN_##name##_v##version, decltype(&::name)>, #name " version mismatch");
JIT_DRIVER_FUNCTIONS(JIT_DRIVER_CHECK)
#undef JIT_DRIVER_CHECK

const Driver& driver() {
  static const Driver d = load();
  return d;
}

const Driver& require_driver() {
  const Driver& d = driver();
  if (!d.loaded) [[unlikely]]
    throw CudaError(CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", d.error);
  return d;
}

}  // namespace jit::detail
