// Device ceilings (`jitgemm bench --ceilings`): HBM copy bandwidth, register-only mma.sync rates,
// and the best cuBLAS BF16 / cuBLASLt FP8 GEMMs. Tables then give each measurement as a percentage
// of its roofline (the larger of its compute and memory floors).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_runner.hpp"
#include "jit/runtime.hpp"
#include "runtime/nvrtc_compiler.hpp"

namespace jit::bench {

// One measured ceiling. Summary names, which the tables use: hbm (GB/s), bf16_gemm, fp8_gemm,
// mma_bf16, mma_bf16_ldmatrix, mma_bf16_fed, mma_e4m3 (TFLOP/s), mma_s8 (TOP/s). Other names are the
// details behind them.
struct CeilingRecord {
  std::string name;
  double value = 0;
  std::string unit;
  std::string how;  // what was run
  Stats us;         // per-call times
};

struct Ceilings {
  double hbm_gbs = 0;      // best of the copy kernel and cuMemcpyDtoD, counting read + write bytes
  double bf16_tflops = 0;  // cuBLAS BF16 8192^3
  double fp8_tflops = 0;   // cuBLASLt e4m3 with outer-vector scales, best of a few shapes
  double mma_bf16 = 0, mma_e4m3 = 0, mma_s8 = 0;  // register-only mma.sync
  std::string source;      // "measured in this run", or the file they came from
  bool empty() const { return hbm_gbs <= 0 && bf16_tflops <= 0 && fp8_tflops <= 0 && mma_bf16 <= 0; }
  // The compute ceiling that applies to operands of `ab` (TFLOP/s; 0 = unknown).
  double compute_tflops(DType ab) const;
};

Ceilings ceilings_from(const std::vector<CeilingRecord>& records, const std::string& source);
// The last record of each summary name in a JSON-lines file (records with "type": "ceiling").
// Throws InvalidArgument if the file cannot be read.
Ceilings load_ceilings(const std::string& jsonl_path);

nlohmann::ordered_json to_json(const CeilingRecord& r);

// Fraction of the roofline reached: max(flops / compute ceiling, bytes / HBM) over the measured time.
struct Roof {
  double pct = 0;   // 0: no ceiling known
  char bound = '-'; // 'C': compute-bound floor, 'M': memory-bound floor
};
Roof roofline(double flops, double bytes, double us, DType ab, const Ceilings& c);

// The JIT sources of the ceiling kernels (kernel_src/jit/util/ceilings.cuh), for tests that compile
// them without a GPU.
detail::KernelSource mma_rate_source(DType t);  // bf16, e4m3 (sm_89+) or s8
detail::KernelSource mma_fed_source(bool copy);  // the sm80 main loop with (true) or without its stage copies
detail::KernelSource wgmma_fp8_source(bool promote);  // the SM90 FP8 128x128 loop, promoted (true) or one chain (sm_90a)
detail::KernelSource hbm_copy_source();
int mma_chains(DType t);  // independent accumulator chains per warp of the mma.sync kernel

// Measures every ceiling the device and the build allow (FP8 needs sm_89, cuBLAS peers need cuBLAS).
std::vector<CeilingRecord> measure_ceilings(Timer& timer, const DeviceSpec& dev);
// The ceilings table, with PEERS.md's H200 figures beside ours.
std::string format_ceilings(const std::vector<CeilingRecord>& records, const std::string& device_name);

}  // namespace jit::bench
