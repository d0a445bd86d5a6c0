// Device ceilings: measured with the same Timer (L2-flushed, event-timed) as everything else.
#include "bench/bench_ceilings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>

#include "bench/bench_peers.hpp"
#include "jit/errors.hpp"
#include "jit/util/ceiling_params.cuh"
#include "runtime/codegen.hpp"
#include "runtime/launcher.hpp"
#include "testing/device.hpp"
#include "testing/kernels.hpp"

namespace jit::bench {

namespace {

constexpr int kMmaBlocksPerSm = 2;
constexpr int kThreads = 256;
constexpr long long kMmaIters = 16384;
static_assert(kMmaIters % 2 == 0, "mma_rate_kernel runs its iterations in pairs");

struct Summary {
  const char* name;
  const char* what;
  const char* peers_h200;  // PEERS.md's H200 figure
};
const Summary kSummaries[] = {
    {"hbm", "HBM copy (read+write), best of kernel and memcpy", "~4300 GB/s (H100 ~3000)"},
    {"bf16_gemm", "dense BF16, cuBLAS 8192^3", "770-812 TFLOP/s"},
    {"fp8_gemm", "dense FP8 e4m3, cuBLASLt row-wise scaled, best shape", "1452 TFLOP/s"},
    {"mma_bf16", "mma.sync BF16 m16n8k16, registers only", "640 TFLOP/s"},
    {"mma_bf16_ldmatrix", "mma.sync BF16 fed by ldmatrix, sm80 256x128 loop (note 2)", "-"},
    {"mma_bf16_fed", "same loop copying its stages, 48 KB/K block (note 2)", "-"},
    {"wgmma_fp8", "wgmma e4m3 128x128 loop from smem, one chain (note 3)", "-"},
    {"wgmma_fp8_promoted", "same, promoted per 128-deep K block (note 3)", "-"},
    {"mma_e4m3", "mma.sync e4m3 m16n8k32, registers only (note 1)", "1500 TFLOP/s (note 1)"},
    {"mma_s8", "mma.sync s8 m16n8k32, registers only", "1254 TOP/s"},
};

CeilingRecord mma_rate(Timer& timer, const DeviceSpec& dev, DType t) {
  const detail::KernelSource src = mma_rate_source(t);
  CUfunction fn = Runtime::global().load_kernel(timer.stream(), src.stub, src.name_expr);
  detail::LaunchDims d;
  d.grid[0] = static_cast<unsigned>(dev.num_sms * kMmaBlocksPerSm);
  d.block[0] = kThreads;
  testing::DeviceBuffer out(static_cast<std::size_t>(d.grid[0]) * kThreads * sizeof(float));
  util::MmaRateParams p{out.as<float>(), kMmaIters, 12345u};
  const Call call = [&](CUstream s) { detail::launch_kernel(fn, d, p, s, "mma_rate_kernel"); };
  timer.first_call_ms(call);
  const Timing tm = timer.measure(call);
  const int flops = t == DType::bf16 ? 2 * 16 * 8 * 16 : 2 * 16 * 8 * 32;
  const double total = static_cast<double>(d.grid[0]) * (kThreads / 32) * kMmaIters * mma_chains(t) * flops;
  CeilingRecord r;
  r.name = std::string("mma_") + dtype_name(t);
  r.value = total / (tm.gpu.median * 1e-6) / 1e12;
  r.unit = t == DType::s8 ? "TOP/s" : "TFLOP/s";
  r.how = fmt::format("{} blocks x {} threads, {} chains x {} iters per warp, two A fragments changing in turn",
                      d.grid[0], kThreads, mma_chains(t), kMmaIters);
  r.us = tm.gpu;
  return r;
}

// A one-CTA-per-SM ceiling loop (mma_fed_kernel, wgmma_fp8_kernel): its launch, one float per
// thread for its results, and each CTA's thread 0's cycles and nanoseconds (LoopClock).
struct PerSmLoop {
  detail::LaunchDims d;
  testing::DeviceBuffer out, clocks;
  PerSmLoop(const DeviceSpec& dev, unsigned threads, unsigned smem)
      : out(static_cast<std::size_t>(dev.num_sms) * threads * sizeof(float)),
        clocks(static_cast<std::size_t>(dev.num_sms) * 2 * sizeof(unsigned long long)) {
    d.grid[0] = static_cast<unsigned>(dev.num_sms);
    d.block[0] = threads;
    d.smem = smem;
  }
  struct Result {
    CeilingRecord record;  // name, TFLOP/s and times; the caller writes `how`
    double ghz = 0, fma_per_clk = 0;  // the clock of the last call, and the FMA per SM cycle
  };
  // Loads and times src with params p (`flops` a call).
  template <class P>
  Result run(Timer& timer, const detail::KernelSource& src, const P& p, const char* kernel, std::string name,
             double flops) {
    CUfunction fn = Runtime::global().load_kernel(timer.stream(), src.stub, src.name_expr, d.smem);
    const Call call = [&](CUstream s) { detail::launch_kernel(fn, d, p, s, kernel); };
    timer.first_call_ms(call);
    const Timing tm = timer.measure(call);
    std::vector<unsigned long long> ck(2 * d.grid[0]);
    TEST_CU(cuStreamSynchronize(timer.stream()));
    clocks.download(ck.data(), ck.size() * sizeof(ck[0]));
    double cycles = 0, ns = 0;
    for (unsigned i = 0; i < d.grid[0]; ++i) cycles += double(ck[2 * i]), ns += double(ck[2 * i + 1]);
    Result r;
    r.record.name = std::move(name);
    r.record.value = flops / (tm.gpu.median * 1e-6) / 1e12;
    r.record.unit = "TFLOP/s";
    r.record.us = tm.gpu;
    r.ghz = ns > 0 ? cycles / ns : 0;
    r.fma_per_clk = cycles > 0 ? flops / 2 / cycles : 0;  // per SM: one CTA each
    return r;
  }
};

// The sm80 family's 256x128 main loop over an L2-resident slab, without (ldmatrix only) and with
// its stage copies (mma_fed_kernel). Returns nothing where the 144 KB of stages do not fit.
std::vector<CeilingRecord> mma_fed(Timer& timer, const DeviceSpec& dev) {
  if (dev.smem_per_block_optin < static_cast<int>(util::kMmaFedSmem)) return {};
  // 48 KB per K block; half of L2 (at most 24 MB) keeps the slab resident.
  const i64 l2 = dev.l2_bytes > 0 ? dev.l2_bytes : i64{40} << 20;
  const int k_blocks = static_cast<int>(std::clamp<i64>(std::min<i64>(l2 / 2, i64{24} << 20) / (384 * 64 * 2), 4, 512));
  const i64 ld = i64{k_blocks} * 64;
  testing::DeviceBuffer slab(static_cast<std::size_t>(384 * ld * 2));
  testing::fill_random(timer.stream(), slab.get(), DType::bf16, 384 * ld, 2026);
  PerSmLoop loop(dev, util::kMmaFedThreads, util::kMmaFedSmem);
  constexpr i64 kIters = 4096;
  const util::MmaFedParams p{loop.out.as<float>(), kIters, slab.get(), ld, k_blocks, loop.clocks.as<unsigned long long>()};
  const double flops = double(dev.num_sms) * kIters * 8 * 4 * 32 * (2.0 * 16 * 8 * 16);
  std::vector<CeilingRecord> recs;
  for (bool copy : {false, true}) {
    // The rate per SM cycle: what the data path allows whatever the clock (the HMMA pipe peaks at
    // 4096/3 FMA per cycle and SM on Hopper).
    PerSmLoop::Result r = loop.run(timer, mma_fed_source(copy), p, "mma_fed_kernel",
                                   copy ? "mma_bf16_fed" : "mma_bf16_ldmatrix", flops);
    r.record.how = fmt::format(
        "{:.0f} FMA/clk/SM at {:.2f} GHz; {} CTAs x 8 warps of 64x64, 3 stages, {} K blocks each{}", r.fma_per_clk,
        r.ghz, dev.num_sms, kIters,
        copy ? fmt::format(", 48 KB cp.async per K block from a {} MB L2-resident slab ({:.0f} GB/s)", 384 * ld * 2 >> 20,
                           double(dev.num_sms) * kIters * 49152 / (r.record.us.median * 1e-6) / 1e9)
             : ", the stages filled once");
    recs.push_back(r.record);
  }
  return recs;
}

// The SM90 FP8 128x128 main loop from shared memory, one wgmma chain and promoted (wgmma_fp8_kernel):
// what the two-level accumulation costs where nothing else does.
std::vector<CeilingRecord> wgmma_fp8(Timer& timer, const DeviceSpec& dev) {
  if (dev.smem_per_block_optin < static_cast<int>(util::kWgmmaFp8Smem)) return {};
  PerSmLoop loop(dev, util::kWgmmaFp8Threads, util::kWgmmaFp8Smem);
  constexpr i64 kIters = 4096;  // ~1.2 ms a call at 1.5 GHz: long enough for the clock to settle
  const util::WgmmaFp8Params p{loop.out.as<float>(), kIters, 2026u, loop.clocks.as<unsigned long long>()};
  const double flops = double(dev.num_sms) * kIters * 2.0 * 128 * 128 * 128;
  std::vector<CeilingRecord> recs;
  for (bool promote : {false, true}) {  // the wgmma pipe: 4096 FMA/clk/SM
    PerSmLoop::Result r = loop.run(timer, wgmma_fp8_source(promote), p, "wgmma_fp8_kernel",
                                   promote ? "wgmma_fp8_promoted" : "wgmma_fp8", flops);
    r.record.how = fmt::format("{:.0f} FMA/clk/SM at {:.2f} GHz; {} CTAs x 2 warpgroups of 64x128, 4 stages filled "
                               "once, {} K blocks each{}",
                               r.fma_per_clk, r.ghz, dev.num_sms, kIters,
                               promote ? ", two accumulators in turn, each K block promoted with its scales"
                                       : ", one chain");
    recs.push_back(r.record);
  }
  return recs;
}

std::vector<CeilingRecord> hbm_copy(Timer& timer, const DeviceSpec& dev) {
  std::size_t free_b = 0, total_b = 0;
  TEST_CU(cuMemGetInfo(&free_b, &total_b));
  const std::size_t bytes = std::min<std::size_t>(std::size_t{1} << 30, free_b / 4) / 16 * 16;
  testing::DeviceBuffer src(bytes), dst(bytes);
  testing::fill_bytes(timer.stream(), src.get(), 0x5a, bytes);
  const detail::KernelSource ks = hbm_copy_source();
  CUfunction fn = Runtime::global().load_kernel(timer.stream(), ks.stub, ks.name_expr);
  detail::LaunchDims d;
  d.grid[0] = static_cast<unsigned>(dev.num_sms * 8);
  d.block[0] = kThreads;
  util::CopyParams p{src.get(), dst.get(), static_cast<i64>(bytes / 16)};
  std::vector<CeilingRecord> out;
  const auto record = [&](const char* name, const Call& call, const std::string& how) {
    timer.first_call_ms(call);
    const Timing tm = timer.measure(call);
    out.push_back({name, 2.0 * bytes / (tm.gpu.median * 1e-6) / 1e9, "GB/s", how, tm.gpu});
  };
  record("hbm_copy_kernel", [&](CUstream s) { detail::launch_kernel(fn, d, p, s, "hbm_copy_kernel"); },
         fmt::format("{} MiB, {} blocks x {} threads, 4 x 16 B in flight per thread", bytes >> 20, d.grid[0], kThreads));
  record("hbm_memcpy",
         [&](CUstream s) {
           TEST_CU(cuMemcpyDtoDAsync(reinterpret_cast<CUdeviceptr>(dst.get()), reinterpret_cast<CUdeviceptr>(src.get()),
                                     bytes, s));
         },
         fmt::format("cuMemcpyDtoDAsync {} MiB", bytes >> 20));
  return out;
}

// One cuBLAS GEMM through the peer machinery (random operands, no check: a ceiling, not a result).
CeilingRecord blas_gemm(Timer& timer, const DeviceSpec& dev, PeerId id, const char* recipe, i64 m, i64 n, i64 k) {
  testing::ProblemSpec spec;
  spec.rows = {static_cast<int>(m)};
  spec.n = n;
  spec.k = k;
  const Recipe r = parse_recipe(recipe);
  spec = peer_spec(spec, r);
  const PeerPlan plan = plan_peer(id, r, spec, dev.cc_major, dev.cc_minor);
  testing::GpuProblem problem(spec, timer.stream());
  std::unique_ptr<PeerRun> run = prepare_peer(plan, problem, timer.stream());
  const Call call = [&](CUstream s) { run->enqueue(s); };
  timer.first_call_ms(call);
  const Timing tm = timer.measure(call);
  CeilingRecord c;
  c.name = fmt::format("{} {}x{}x{}", plan.name, m, n, k);
  c.value = problem.flops() / (tm.gpu.median * 1e-6) / 1e12;
  c.unit = "TFLOP/s";
  c.how = plan.computes + (run->algo().empty() ? "" : "; " + run->algo());
  c.us = tm.gpu;
  return c;
}

void add_best(std::vector<CeilingRecord>& out, const char* name, const std::vector<CeilingRecord>& from) {
  if (from.empty()) return;
  const auto best = std::max_element(from.begin(), from.end(),
                                     [](const CeilingRecord& a, const CeilingRecord& b) { return a.value < b.value; });
  CeilingRecord s = *best;
  s.how = best->name + ": " + best->how;
  s.name = name;
  out.insert(out.end(), from.begin(), from.end());
  out.push_back(s);
}

}  // namespace

int mma_chains(DType t) {
  // e4m3 on sm_90 keeps each chain's unpacked f16 B fragment in registers: 8 chains spill under the
  // 128-register cap of two 256-thread blocks per SM; 6 leave room and still keep the pipe full.
  return t == DType::e4m3 ? 6 : 8;
}

detail::KernelSource mma_rate_source(DType t) {
  detail::TemplateArgs args;
  args.add("T", t).add("CHAINS", mma_chains(t));
  return detail::render_instantiation("jit/util/ceilings.cuh", "jit::util::mma_rate_kernel",
                                      "jit::util::MmaRateParams", args);
}

detail::KernelSource mma_fed_source(bool copy) {
  detail::TemplateArgs args;
  args.add("COPY", copy);
  return detail::render_instantiation("jit/util/ceilings.cuh", "jit::util::mma_fed_kernel", "jit::util::MmaFedParams",
                                      args);
}

detail::KernelSource wgmma_fp8_source(bool promote) {
  detail::TemplateArgs args;
  args.add("PROMOTE", promote);
  return detail::render_instantiation("jit/util/ceilings_sm90.cuh", "jit::util::wgmma_fp8_kernel",
                                      "jit::util::WgmmaFp8Params", args);
}

detail::KernelSource hbm_copy_source() {
  detail::TemplateArgs args;
  args.add("UNROLL", 4);
  return detail::render_instantiation("jit/util/ceilings.cuh", "jit::util::hbm_copy_kernel", "jit::util::CopyParams",
                                      args);
}

double Ceilings::compute_tflops(DType ab) const {
  switch (ab) {
    case DType::bf16:
    case DType::fp16: return bf16_tflops > 0 ? bf16_tflops : mma_bf16;
    case DType::e4m3: return fp8_tflops > 0 ? fp8_tflops : mma_e4m3;
    case DType::s8: return mma_s8;
    case DType::fp32: return 0;
  }
  return 0;
}

Ceilings ceilings_from(const std::vector<CeilingRecord>& records, const std::string& source) {
  Ceilings c;
  c.source = source;
  for (const CeilingRecord& r : records) {
    if (r.name == "hbm") c.hbm_gbs = r.value;
    if (r.name == "bf16_gemm") c.bf16_tflops = r.value;
    if (r.name == "fp8_gemm") c.fp8_tflops = r.value;
    if (r.name == "mma_bf16") c.mma_bf16 = r.value;
    if (r.name == "mma_e4m3") c.mma_e4m3 = r.value;
    if (r.name == "mma_s8") c.mma_s8 = r.value;
  }
  return c;
}

Ceilings load_ceilings(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgument("ceilings-from", "cannot read '" + path + "'");
  std::vector<CeilingRecord> records;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != "ceiling") continue;
    CeilingRecord r;
    r.name = j.value("name", "");
    r.value = j.value("value", 0.0);
    r.unit = j.value("unit", "");
    records.push_back(r);  // later records override earlier ones in ceilings_from
  }
  return ceilings_from(records, path);
}

nlohmann::ordered_json to_json(const CeilingRecord& r) {
  return {{"type", "ceiling"}, {"name", r.name},          {"value", r.value},       {"unit", r.unit},
          {"how", r.how},      {"us_median", r.us.median}, {"us_min", r.us.min},     {"us_max", r.us.max},
          {"us_p10", r.us.p10}, {"us_p90", r.us.p90},      {"iters", r.us.n}};
}

Roof roofline(double flops, double bytes, double us, DType ab, const Ceilings& c) {
  Roof r;
  const double peak = c.compute_tflops(ab);
  const double t_compute = peak > 0 ? flops / (peak * 1e12) : 0;
  const double t_memory = c.hbm_gbs > 0 ? bytes / (c.hbm_gbs * 1e9) : 0;
  if (us <= 0 || (t_compute <= 0 && t_memory <= 0)) return r;
  r.bound = t_compute >= t_memory ? 'C' : 'M';
  r.pct = std::max(t_compute, t_memory) / (us * 1e-6) * 100.0;
  return r;
}

std::vector<CeilingRecord> measure_ceilings(Timer& timer, const DeviceSpec& dev) {
  std::vector<CeilingRecord> out;
  // A ceiling that fails is recorded with its error and the others still run.
  const auto guard = [&](const std::string& name, const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "jitgemm bench: ceiling %s failed: %s\n", name.c_str(), e.what());
      out.push_back({name + " (failed)", 0, "", e.what(), {}});
    }
  };
  guard("hbm", [&] { add_best(out, "hbm", hbm_copy(timer, dev)); });
  guard("mma_bf16", [&] { out.push_back(mma_rate(timer, dev, DType::bf16)); });
  guard("mma_bf16_fed", [&] {
    for (CeilingRecord& r : mma_fed(timer, dev)) out.push_back(std::move(r));
  });
  if (dev.cc_major == 9) guard("wgmma_fp8", [&] {
    for (CeilingRecord& r : wgmma_fp8(timer, dev)) out.push_back(std::move(r));
  });
  if (dev.cc_major * 10 + dev.cc_minor >= 89) guard("mma_e4m3", [&] { out.push_back(mma_rate(timer, dev, DType::e4m3)); });
  guard("mma_s8", [&] { out.push_back(mma_rate(timer, dev, DType::s8)); });
  if (!have_cublas()) return out;
  guard("bf16_gemm", [&] {
    add_best(out, "bf16_gemm", {blas_gemm(timer, dev, PeerId::cublas, "bf16", 8192, 8192, 8192)});
  });
  if (dev.cc_major >= 9) {
    std::vector<CeilingRecord> fp8;
    const i64 shapes[][3] = {{8192, 8192, 8192}, {4096, 7168, 16384}, {8192, 7168, 16384}, {4096, 24576, 1536}};
    for (const auto& s : shapes)
      guard(fmt::format("fp8 {}x{}x{}", s[0], s[1], s[2]),
            [&] { fp8.push_back(blas_gemm(timer, dev, PeerId::fp8_row, "fp8-row", s[0], s[1], s[2])); });
    add_best(out, "fp8_gemm", fp8);
  }
  return out;
}

std::string format_ceilings(const std::vector<CeilingRecord>& records, const std::string& device_name) {
  std::string s = fmt::format("\n== device ceilings · {} ==\n{:<56} {:>14}  {:<9} {}\n", device_name, "what",
                              "measured", "", "PEERS.md (H200)");
  for (const Summary& sum : kSummaries) {
    const auto it = std::find_if(records.rbegin(), records.rend(), [&](const CeilingRecord& r) { return r.name == sum.name; });
    if (it == records.rend()) {
      s += fmt::format("{:<56} {:>14}  {:<9} {}\n", sum.what, "not measured", "", sum.peers_h200);
      continue;
    }
    s += fmt::format("{:<56} {:>14.0f}  {:<9} {}\n", sum.what, it->value, it->unit, sum.peers_h200);
  }
  s += "note 1: sm_90 has no FP8 mma.sync instruction (Hopper's FP8 tensor path is wgmma): ptxas turns each\n"
       "  e4m3 m16n8k32 into F2FP e4m3->f16 unpacks, two HMMA.16816.F32 and four FADDs, so its ceiling there is\n"
       "  the f16 mma.sync rate (~ the BF16 line). Native (QMMA) on sm_89 and sm_120. A loop with fixed operands\n"
       "  lets ptxas hoist that product and time only the FADDs (this bench's first kernel: 999; likely PEERS.md's 1500).\n"
       "note 2: the sm80 family's best tile, minus the problem: ldmatrix reads 128 KB and the copies write 48 KB\n"
       "  of shared memory per K block of 2M FMA. The second line is what its data path and power allow the\n"
       "  tensor pipe (H200: 471-538 TFLOP/s across machines; 1146 FMA/clk/SM of the pipe's 1365, at 1.60 GHz;\n"
       "  bench/NOTES.md v0.17). The details give each loop's clock. Not run below 144 KB of smem.\n"
       "note 3: the SM90 FP8 family's 128x128 consumer loop with its operands already in shared memory (no\n"
       "  loads, barriers or epilogue): one wgmma chain (cuBLASLt's row-wise recipe) against the 1x128/128x128\n"
       "  recipe's promotion of every 128-deep K block. Its best case on this chip, at the clock it sustains.\n";
  s += "details:\n";
  for (const CeilingRecord& r : records) {
    // hbm, bf16_gemm and fp8_gemm repeat the best of the records listed here (add_best).
    const bool best_of = r.name == "hbm" || r.name == "bf16_gemm" || r.name == "fp8_gemm";
    if (!best_of) s += fmt::format("  {:<40} {:>8.0f} {:<8} median {:.1f} us  {}\n", r.name, r.value, r.unit, r.us.median, r.how);
  }
  return s;
}

}  // namespace jit::bench
