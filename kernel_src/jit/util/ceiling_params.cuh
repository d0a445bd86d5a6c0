// Parameters of the device-ceiling kernels (util/ceilings.cuh); plain C++, shared with the host.
#pragma once

#include <jit/types.hpp>

namespace jit::util {

struct MmaRateParams {
  float* out;      // one value per thread, so the mma chains cannot be optimised away
  i64 iters;       // loop trips (even); each issues CHAINS independent mma.sync per warp
  u32 seed;        // fragment bits derive from it (finite, non-zero values)
};

// The sm80 main-loop ceiling (mma_fed_kernel): one 256-thread CTA per SM, 3 stages of 48 KB.
constexpr int kMmaFedThreads = 256, kMmaFedStages = 3;
constexpr unsigned kMmaFedSmem = kMmaFedStages * (256 + 128) * 64 * 2;
struct MmaFedParams {
  float* out;      // one value per thread
  i64 iters;       // K blocks per CTA: 4 K steps of 8 warps x 32 mma.sync m16n8k16 each
  const void* src; // bf16 [384][ld]: rows 0-255 A, 256-383 B (L2-resident)
  i64 ld;          // elements per row: k_blocks x 64
  int k_blocks;
  unsigned long long* clocks;  // per CTA: SM cycles and nanoseconds of its loop (the clock it ran at)
};

// The SM90 FP8 main-loop ceiling (wgmma_fp8_kernel): one 256-thread CTA per SM (two warpgroups of
// 64 x 128), 4 stages of a 128x128 A and B e4m3 tile each, A scales per row; 1024 bytes of slack for
// the 128-byte swizzle's 1024-byte alignment.
constexpr int kWgmmaFp8Threads = 256, kWgmmaFp8Stages = 4;
constexpr unsigned kWgmmaFp8StageBytes = 2 * 128 * 128;
constexpr unsigned kWgmmaFp8Smem = kWgmmaFp8Stages * (kWgmmaFp8StageBytes + 128 * 4 + 16) + 1024;
struct WgmmaFp8Params {
  float* out;      // one value per thread
  i64 iters;       // 128-deep K blocks per CTA (even)
  u32 seed;        // operand and scale bits derive from it
  unsigned long long* clocks;  // per CTA: SM cycles and nanoseconds of its loop
};

struct CopyParams {
  const void* src;
  void* dst;
  i64 count16;     // 16-byte vectors to copy
};

}  // namespace jit::util
