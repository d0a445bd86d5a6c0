// jitgemm: mixture-of-experts GEMMs compiled at run time (NVRTC) and launched with the driver API.
#pragma once

#include "jit/errors.hpp"
#include "jit/gemm.hpp"
#include "jit/options.hpp"
#include "jit/runtime.hpp"
#include "jit/scales.hpp"
#include "jit/types.hpp"
