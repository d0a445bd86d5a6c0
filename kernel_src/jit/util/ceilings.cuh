// Device ceilings for `jitgemm bench --ceilings`: register-only mma.sync loops (the tensor-core rate
// an SM80-style kernel can reach at best, with no memory traffic at all), the sm80 family's main
// loop fed from shared memory with and without its stage copies (the rate its data path allows),
// and an HBM copy (the bandwidth a memory-bound GEMM can reach). Compiled through the JIT like
// every other kernel.
#pragma once

#include <jit/ptx/ldmatrix.cuh>
#include <jit/ptx/mma_sm80.cuh>
#include <jit/sm80/smem_layout.cuh>
#include <jit/util/ceiling_params.cuh>

namespace jit::util {

namespace ceiling_ptx {

// PTX ISA 9.7.14.5.14 (mma.sync, m16n8k32, .e4m3 inputs, .f32 accumulators; sm_89 and later).
// Native (QMMA) on sm_89/sm_120 only: on sm_90 ptxas lowers it to F2FP e4m3->f16 unpacks, two
// HMMA.16816.F32 from zero and four FADDs into the accumulator (Hopper's FP8 tensor path is wgmma).
__device__ __forceinline__ void mma_m16n8k32_e4m3(float (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();  // the host only asks for this kernel on sm_89+
#endif
}

// PTX ISA 9.7.14.5.14 (mma.sync, m16n8k32, .s8 inputs, .s32 accumulators).
__device__ __forceinline__ void mma_m16n8k32_s8(int (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace ceiling_ptx

// Per input type: the accumulator, FLOPs of one mma.sync, and fragment bits. Fragments hold small
// finite non-zero values (all-zero operands can run faster than real data, which would flatter us).
template <DType T> struct MmaRate;

template <> struct MmaRate<DType::bf16> {
  using Acc = float;
  static constexpr int kFlops = 2 * 16 * 8 * 16;
  static constexpr u32 kFlip = 0x00010001u;  // lowest mantissa bit of each bf16: stays finite, non-zero
  // Two bf16 of magnitude [2^-7, 2^-6), random sign and mantissa.
  __device__ static u32 bits(u32 h) { return (h & 0x807f807fu) | 0x3c003c00u; }
  __device__ static void mma(Acc (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
    ptx::mma_m16n8k16_f32<DType::bf16>(d, a, b);  // the GEMMs' wrapper
  }
};

template <> struct MmaRate<DType::e4m3> {
  using Acc = float;
  static constexpr int kFlops = 2 * 16 * 8 * 32;
  static constexpr u32 kFlip = 0x01010101u;  // lowest mantissa bit: exponent field stays 4, never NaN
  // Four e4m3 with exponent field 4 (magnitude [1/8, 1/4)): never the NaN code 0x7f.
  __device__ static u32 bits(u32 h) { return (h & 0x87878787u) | 0x20202020u; }
  __device__ static void mma(Acc (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
    ceiling_ptx::mma_m16n8k32_e4m3(d, a, b);
  }
};

template <> struct MmaRate<DType::s8> {
  using Acc = int;
  static constexpr int kFlops = 2 * 16 * 8 * 32;
  static constexpr u32 kFlip = 0x01010101u;  // lowest bit: [0, 7] and [-4, -1] map onto themselves
  // Four int8 in [-4, 7].
  __device__ static u32 bits(u32 h) { return (h & 0x07070707u) | 0xfcfcfcfcu * ((h >> 31) & 1u); }
  __device__ static void mma(Acc (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
    ceiling_ptx::mma_m16n8k32_s8(d, a, b);
  }
};

__device__ __forceinline__ u32 ceiling_hash(u32 x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  return x ^ (x >> 16);
}

// A loop's SM cycles and nanoseconds, for the clock it ran at: started before the loop, stored by
// each CTA's thread 0 after it (clocks[2 b], clocks[2 b + 1]).
struct LoopClock {
  long long c0;
  unsigned long long t0;
  __device__ __forceinline__ static LoopClock start() {
    LoopClock c;
    c.c0 = clock64();
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(c.t0));
    return c;
  }
  __device__ __forceinline__ void store(unsigned long long* clocks) const {
    if (threadIdx.x != 0) return;
    unsigned long long t1;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t1));
    clocks[2 * blockIdx.x] = static_cast<unsigned long long>(clock64() - c0);
    clocks[2 * blockIdx.x + 1] = t1 - t0;
  }
};

// Each warp runs CHAINS independent accumulator chains (one A fragment times CHAINS B fragments, like
// a kernel's N sub-tiles) so the tensor pipe never waits on a previous mma's result; nothing but
// registers is touched until the single store at the end. The A fragment changes every iteration
// (a loop-carried XOR of one mantissa bit): with loop-invariant operands ptxas may compute a product
// once -- it did for e4m3 on sm_90, where mma.sync is an HMMA-from-zero plus FADDs, and the loop
// then timed FADDs (999 "TFLOP/s") instead of the tensor cores. Two A fragments alternate, so the
// XOR of one overlaps the mmas still reading the other: with a single fragment each iteration's XOR
// waited for the previous mmas to read it, and the H200 measured 581 TFLOP/s against the 648 of the
// same loop with fixed operands (bench/NOTES.md v0.17). Runs iters rounded down to even.
template <DType T, int CHAINS>
__global__ void __launch_bounds__(256) mma_rate_kernel(const MmaRateParams p) {
  static_assert(CHAINS >= 1 && CHAINS <= 16, "accumulator chains must fit the register file");
  using R = MmaRate<T>;
  using Acc = typename R::Acc;
  const u32 tid = blockIdx.x * blockDim.x + threadIdx.x;
  const u32 base = p.seed + tid * (8u + 2u * CHAINS);
  u32 a[2][4], b[CHAINS][2];
#pragma unroll
  for (int i = 0; i < 8; ++i) a[i / 4][i % 4] = R::bits(ceiling_hash(base + i));
#pragma unroll
  for (int c = 0; c < CHAINS; ++c)
#pragma unroll
    for (int i = 0; i < 2; ++i) b[c][i] = R::bits(ceiling_hash(base + 8u + 2u * c + i));
  Acc acc[CHAINS][4];
#pragma unroll
  for (int c = 0; c < CHAINS; ++c)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[c][j] = 0;
  for (i64 it = 0; it + 1 < p.iters; it += 2) {
#pragma unroll
    for (int u = 0; u < 2; ++u) {
      // Flips a pseudo-random subset of the low bits (same mask in all four registers): not
      // periodic within any unroll ptxas would do, so no product can be hoisted.
      const u32 flip = (static_cast<u32>(it + u) * 0x9e3779b9u) & R::kFlip;
#pragma unroll
      for (int i = 0; i < 4; ++i) a[u][i] ^= flip;
#pragma unroll
      for (int c = 0; c < CHAINS; ++c) R::mma(acc[c], a[u], b[c]);
    }
  }
  Acc sum = 0;
#pragma unroll
  for (int c = 0; c < CHAINS; ++c)
#pragma unroll
    for (int j = 0; j < 4; ++j) sum += acc[c][j];
  p.out[tid] = static_cast<float>(sum);
}

// The sm80 family's 256x128 main loop (8 warps of 64x64, BLOCK_K 64, the family's swizzle, A and B
// fragments double-buffered, a cp.async wait and a barrier per K block), minus everything that
// varies with the problem: the operand slab [384 rows][ld] is L2-resident and the loop runs
// forever over its K blocks. With COPY the next stage's 48 KB (256 A rows + 128 B rows) is copied
// per K block like the GEMM does; without, the stages filled once are read again and again. The
// pair isolates what the stage copies cost the tensor pipe (bench/NOTES.md v0.17: on the H200, 12% of
// its issue rate through the SM's shared-memory data path, which ldmatrix reads and the copies' writes
// share, and a lower clock from the power they draw). Thread 0 records its loop's cycles and time.
template <bool COPY>
__global__ void __launch_bounds__(kMmaFedThreads, 1) mma_fed_kernel(const MmaFedParams p) {
  constexpr int BM = 256, BN = 128, BK = 64, MT = 4, NT = 8, STAGES = kMmaFedStages;
  constexpr u32 kStage = (BM + BN) * BK * 2, kB = BM * BK * 2, kRow16 = 16 * BK * 2;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  const u32 base = ptx::smem_address(smem_raw);
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const sm80::FragmentOffsets<BK> frag((warp / 2) * 64, (warp % 2) * 64, lane);
  const sm80::u16* src = static_cast<const sm80::u16*>(p.src);
  const sm80::TileLoader<BM, BK, kMmaFedThreads> load_a(src, p.ld, BM, tid);
  const sm80::TileLoader<BN, BK, kMmaFedThreads> load_b(src + BM * p.ld, p.ld, BN, tid);
  const int k = p.k_blocks * BK;
  int kb_src = static_cast<int>((blockIdx.x * 7u) % static_cast<u32>(p.k_blocks));  // CTAs start apart
  const auto refill = [&](u32 stage) {
    load_a.load(stage, kb_src * BK, k, p.ld);
    load_b.load(stage + kB, kb_src * BK, k, p.ld);
    kb_src = kb_src + 1 == p.k_blocks ? 0 : kb_src + 1;
  };
  // Every stage holds operand data before the loop (finite values in both variants).
#pragma unroll
  for (int s = 0; s < STAGES; ++s) refill(base + s * kStage);
  ptx::cp_async_commit();
  ptx::cp_async_wait<0>();
  __syncthreads();

  float acc[MT][NT][4];
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
      for (int j = 0; j < 4; ++j) acc[m][n][j] = 0.f;
  u32 fa[2][MT][4], fb[2][NT / 2][4];
  const auto load_fragments = [&](int buf, u32 stage, int ks) {
#pragma unroll
    for (int m = 0; m < MT; ++m) ptx::ldmatrix_x4(fa[buf][m], stage + frag.a(ks) + m * kRow16);
#pragma unroll
    for (int n = 0; n < NT / 2; ++n) ptx::ldmatrix_x4(fb[buf][n], stage + kB + frag.b(ks) + n * kRow16);
  };
  int read_stage = 0, write_stage = STAGES - 1;
  u32 read_addr = base;
  load_fragments(0, read_addr, 0);
  const LoopClock loop_clock = LoopClock::start();
  for (i64 it = 0; it < p.iters; ++it) {
#pragma unroll
    for (int ks = 0; ks < BK / 16; ++ks) {
      if (ks == BK / 16 - 1) {
        ptx::cp_async_wait<STAGES - 2>();
        __syncthreads();
        read_stage = read_stage + 1 == STAGES ? 0 : read_stage + 1;
        read_addr = base + read_stage * kStage;
      }
      load_fragments((ks + 1) % 2, read_addr, (ks + 1) % (BK / 16));
      if (ks == 0) {
        if (COPY) refill(base + write_stage * kStage);
        ptx::cp_async_commit();
        write_stage = write_stage + 1 == STAGES ? 0 : write_stage + 1;
      }
#pragma unroll
      for (int m = 0; m < MT; ++m)
#pragma unroll
        for (int n = 0; n < NT; ++n) {
          const u32 b[2] = {fb[ks % 2][n / 2][(n % 2) * 2], fb[ks % 2][n / 2][(n % 2) * 2 + 1]};
          ptx::mma_m16n8k16_f32<DType::bf16>(acc[m][n], fa[ks % 2][m], b);
        }
    }
  }
  float sum = 0.f;
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int n = 0; n < NT; ++n) sum += acc[m][n][0] + acc[m][n][1] + acc[m][n][2] + acc[m][n][3];
  p.out[blockIdx.x * blockDim.x + tid] = sum;
  loop_clock.store(p.clocks);
}

// Grid-stride copy of 16-byte vectors; UNROLL independent loads in flight per thread before the
// stores, so each SM keeps enough bytes in flight to cover HBM latency.
template <int UNROLL>
__global__ void __launch_bounds__(256) hbm_copy_kernel(const CopyParams p) {
  static_assert(UNROLL >= 1 && UNROLL <= 8, "unroll 1..8");
  const uint4* __restrict__ src = static_cast<const uint4*>(p.src);
  uint4* __restrict__ dst = static_cast<uint4*>(p.dst);
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + (UNROLL - 1) * stride < p.count16; i += UNROLL * stride) {
    uint4 v[UNROLL];
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) v[u] = src[i + u * stride];
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) dst[i + u * stride] = v[u];
  }
  for (; i < p.count16; i += stride) dst[i] = src[i];
}

}  // namespace jit::util
