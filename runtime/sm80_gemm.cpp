// The sm80 family: heuristics (a tile config per shape, layout and device), codegen and launch of
// kernel_src/jit/sm80/gemm.cuh (cp.async + ldmatrix + mma.sync m16n8k16, BF16/FP16 in, BF16/FP16/
// FP32 out). Only sm_80 instructions, so it runs on every arch from sm_80 on.
//
// NOTES on the heuristics: every candidate is scored by an estimate of its run time in SM cycles,
// the largest of compute, memory and pipeline latency, plus a share (Machine::mix) of the other
// two, plus per-tile overhead; the smallest wins (ties: the earlier, larger-tile candidate).
// - compute: the busiest SM runs ceil(tiles / grid) tiles per CTA, times the CTAs sharing it, at
//   the MMA rate of the arch (Machine: per arch, fitted for Hopper), lowered when shared memory
//   (ldmatrix reads + cp.async writes per FLOP, 128 B/clk/SM) or too few independent MMAs per SM
//   cannot keep the tensor cores fed.
//   Waves and last-wave utilisation come out of the ceil: 133 tiles on 132 SMs cost two waves.
// - memory: unique bytes over HBM, and every tile's operand reads over L2 (small tiles re-read A
//   and B many times: what makes tiny tiles lose on decode shapes, and 128x128 lose to 128x256).
// - latency: a CTA keeps STAGES-1 K blocks in flight, so it needs ~latency/(STAGES-1) cycles per
//   K block however fast the rest is: what makes deep pipelines and many CTAs win on memory-bound
//   shapes (M <= 128, decode experts) where B must stream at full HBM bandwidth.
// Row counts come from the host: M (dense), M/G (contiguous: the split is on the device), and
// expected_m (masked) -- so BLOCK_M follows the expected rows per expert.
#include "runtime/sm80_gemm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "jit/errors.hpp"
#include "jit/sm80/params.cuh"
#include "runtime/choice_memo.hpp"
#include "runtime/codegen.hpp"
#include "runtime/family.hpp"
#include "runtime/l2_hints.hpp"
#include "runtime/expert_rows.hpp"
#include "runtime/launcher.hpp"

namespace jit::detail {

namespace sm80_gemm {

namespace {

// Compute-bound shapes want 64x64 warp tiles (the most MMA per ldmatrix byte that fits in 255
// registers); memory-bound ones want many CTAs with deep pipelines. Stages are sized so that each
// entry fits somewhere; check_config drops what does not fit the device.
// OVERLAP=1 variants of the one-CTA-per-SM tiles hide the next tile's pipeline fill behind this
// tile's epilogue (their own 33 KB of epilogue smem: A100/H100 only); two CTAs per SM overlap anyway.
constexpr TileConfig kCandidates[] = {
    {128, 256, 32, 2, 4, 4, 1, 8, 1},  // 129 KB: the large-shape workhorse (A100, H100)
    {256, 128, 32, 4, 2, 4, 1, 8, 1},  // 130 KB: same, for N not a multiple of 256 (not m_indices)
    {128, 256, 64, 2, 4, 3, 1, 8, 1},  // 177 KB: H100, half the barriers
    {256, 128, 64, 4, 2, 4, 1, 8},  // 193 KB: H100, M >= 256 dense/masked: 1.02-1.05x 128x256 (bench/NOTES.md v0.7)
    {128, 256, 32, 2, 4, 4, 1, 8},  // 96 KB: the large-shape workhorse where smem is 99 KB
    {256, 128, 32, 4, 2, 4, 1, 8},  // 96 KB
    {128, 256, 64, 2, 4, 3, 1, 8},  // 144 KB: A100
    {128, 128, 64, 2, 2, 3, 2, 8},  // 96 KB: two per SM on H100, finer waves
    {64, 256, 32, 1, 4, 4, 2, 8},   // 80 KB: 64-row experts / M=64 with 64x64 warp tiles
    {64, 128, 64, 2, 2, 4, 2, 8},   // 96 KB
    {64, 64, 64, 2, 2, 4, 3, 8},    // 64 KB: small problems, more CTAs
    // M <= 128 on H100 (B streamed from HBM, one CTA per SM): deeper pipelines beat more CTAs --
    // bench/sweeps_sm80_small_h200.txt, 64x64 x 8 stages 1.28-1.39x the 4-stage 3-per-SM tile.
    {64, 64, 64, 2, 2, 8, 2, 8},    // 129 KB
    {128, 64, 64, 2, 2, 6, 2, 8},   // 145 KB: M = 128, 1.13x 64x128 (same grid)
    {32, 128, 64, 1, 4, 4, 2, 8},   // 80 KB: few rows per expert
    {32, 128, 64, 1, 4, 5, 2, 8},   // 100 KB: deeper, where smem allows
    {32, 64, 64, 1, 4, 6, 3, 8},    // 72 KB
    {16, 128, 64, 1, 4, 4, 2, 8},   // 72 KB: decode (<= 16 rows per expert)
    {16, 128, 64, 1, 4, 6, 2, 8},   // 108 KB: decode, deeper, where smem allows
    {16, 64, 64, 1, 4, 8, 2, 8},    // 80 KB: decode, twice the CTAs
    // Split-K (dense): shapes with fewer tiles than CTA slots (M <= 128 and N <= ~7168: 64x2112x7168
    // has 33 64x64 tiles for 264 slots) get more CTAs streaming B, each over a share of K.
    {64, 64, 64, 2, 2, 8, 2, 8, 0, 2},
    {64, 64, 64, 2, 2, 8, 2, 8, 0, 3},
    {64, 64, 64, 2, 2, 8, 2, 8, 0, 4},
    {128, 64, 64, 2, 2, 6, 2, 8, 0, 2},
    {128, 64, 64, 2, 2, 6, 2, 8, 0, 3},
    {128, 64, 64, 2, 2, 6, 2, 8, 0, 4},
    {64, 128, 64, 2, 2, 4, 2, 8, 0, 2},
    // The large tiles with their last partial wave split (dense; the same kernels where that wave
    // is nearly full, which ties go to the unsplit entries above): 4096x2112x7168 has 272 256x128
    // tiles, 2.06 waves on 132 SMs.
    {256, 128, 64, 4, 2, 4, 1, 8, 0, 8},
    {128, 256, 64, 2, 4, 3, 1, 8, 1, 8},
    {128, 256, 32, 2, 4, 4, 1, 8, 1, 8},
};

// What the model knows of an arch. Ampere's and Ada's are datasheet-based guesses (no such GPU is
// lent); Hopper's are fitted (coordinate descent on the log run-time error and the choices) to
// bench/sweeps_sm80_h200.txt, 17 tiles x the 37 PEERS-suite shapes on an H200: RMS 19% (28% with
// the guesses), choices at 0.976 of the fastest measured tile (0.965). The fit prices small tiles'
// L2 traffic lower and latency higher: 16x64 for 64x2112x7168 (1.23x), 64x128 for masked 2x512 /
// 4x256 4096x7168 (1.08x / 1.18x). `mma` absorbs the clock the fit sees (~1.5 GHz under load).
struct Machine {
  double mma;           // mma.sync fp32-accumulate FLOP per clock per SM
  double hbm;           // DRAM bytes per clock (whole device)
  double l2_per_sm;     // L2 -> SM bytes per clock, per SM
  double latency;       // cycles from cp.async issue to data, under load
  double tile_overhead; // prologue fill + scheduling, per tile
  double mmas_needed;   // independent HMMAs per SM that keep the tensor pipe busy
  double mix;           // how much of the non-bottleneck terms shows
  double store_bw;      // epilogue bytes per clock per SM
};

Machine machine(const DeviceSpec& d) {
  constexpr double l2 = 30, lat = 1000, fill = 1000, mmas = 24, mix = 0.1, st = 64;
  // A100: 312 TFLOP/s, 2 TB/s; L40S-class (GDDR6); GA10x: half-rate fp32 accumulate.
  if (d.cc_major == 8 && d.cc_minor == 0) return {2048, 1400, l2, lat, fill, mmas, mix, st};
  if (d.cc_major == 8 && d.cc_minor == 9) return {1024, 350, l2, lat, fill, mmas, mix, st};
  if (d.cc_major == 8) return {1024, 400, l2, lat, fill, mmas, mix, st};
  return {2193.68, 2486.44, 33.99, 2489.2, 2607.66, 12.9102, 0.062132, 36.1495};  // Hopper (fitted)
}

constexpr double kSmemBytesPerClock = 128;  // per SM

int max_threads_per_sm(const DeviceSpec& d) {
  return d.cc_major == 8 && (d.cc_minor == 6 || d.cc_minor == 7 || d.cc_minor == 9) ? 1536 : 2048;
}

int threads(const TileConfig& c) { return c.warps_m * c.warps_n * 32; }

int smem(const TileConfig& c) {
  return sm80::smem_bytes(c.block_m, c.block_n, c.block_k, c.warps_m, c.stages, c.overlap != 0);
}

// Live registers of the main loop: accumulators, double-buffered A and single B fragments, plus
// addressing and scheduler state (measured ~50 on sm_80..sm_90a).
int estimated_registers(const TileConfig& c) {
  const int mt = c.block_m / c.warps_m / 16, nt = c.block_n / c.warps_n / 8;
  return mt * nt * 4 + mt * 8 + nt * 2 + 56;
}

// The loader's rules (kernel_src/jit/sm80/smem_layout.cuh, TileLoader) for a [rows][BLOCK_K] tile.
bool loader_ok(int rows, int block_k, int nthreads) {
  const int per_row = block_k / 8, chunks = rows * per_row;
  if (chunks % nthreads != 0) return chunks < nthreads;
  return chunks == nthreads || (nthreads / per_row) % 16 == 0;
}


// The scheduler's upper bound on tiles (scheduler_max_tiles in kernel_src/jit/common/scheduler.cuh,
// which the host cannot include: it is device code).
std::int64_t max_tiles(const TileConfig& c, Layout l, std::int64_t m, std::int64_t n, int groups) {
  const std::int64_t nb = (n + c.block_n - 1) / c.block_n, mb = (m + c.block_m - 1) / c.block_m;
  if (l == Layout::contiguous_offsets) return (mb + groups) * nb;
  if (l == Layout::masked) return std::int64_t{groups} * mb * nb;
  return mb * nb;
}

}  // namespace

std::string to_string(const TileConfig& c) {
  return fmt::format(
      "BLOCK_M={},BLOCK_N={},BLOCK_K={},WARPS_M={},WARPS_N={},STAGES={},CTAS_PER_SM={},SWIZZLE_N={},OVERLAP={},"
      "SPLIT_K={}{}",
      c.block_m, c.block_n, c.block_k, c.warps_m, c.warps_n, c.stages, c.ctas_per_sm, c.swizzle_n, c.overlap,
      c.split_k, c.l2_hints ? ",L2_HINTS=1" : "");
}

GridPlan grid_plan(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  // Every resident CTA slot, but never more CTAs than units of work.
  const std::int64_t slots = std::int64_t{dev.num_sms} * std::max(1, occupancy(c, dev));
  const std::int64_t tiles = max_tiles(c, p.layout, p.m, p.n, p.num_groups);
  GridPlan g;
  if (c.split_k == 1 || p.layout != Layout::dense) {
    g.grid = std::max<std::int64_t>(1, std::min(slots, tiles));
    g.split = {static_cast<int>(tiles), 1, static_cast<int>(tiles)};
    return g;
  }
  const int num_kb = static_cast<int>((p.k + c.block_k - 1) / c.block_k);
  g.grid = std::max<std::int64_t>(1, std::min(slots, tiles * std::min(c.split_k, std::max(1, num_kb))));
  g.split = sm80::split_plan_for(c.split_k, static_cast<int>(tiles), static_cast<int>(g.grid), num_kb);
  return g;
}

std::int64_t workspace_bytes(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  if (c.split_k == 1) return 0;
  const sm80::SplitPlan s = grid_plan(c, p, dev).split;
  const std::int64_t split_tiles = s.units > s.whole ? (s.units - s.whole) / s.parts : 0;
  return split_tiles == 0 ? 0 : sm80::split_workspace_bytes(split_tiles, c.block_m, c.block_n, s.parts);
}

std::span<const TileConfig> candidate_configs() { return kCandidates; }

int occupancy(const TileConfig& c, const DeviceSpec& dev) {
  // Each CTA also holds 1 KB of system shared memory; an SM has the opt-in limit plus that 1 KB.
  const int by_smem = (dev.smem_per_block_optin + 1024) / (smem(c) + 1024);
  const int by_threads = max_threads_per_sm(dev) / threads(c);
  return std::max(0, std::min({c.ctas_per_sm, by_smem, by_threads}));
}

std::string check_config(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  const int warps = c.warps_m * c.warps_n;
  if (c.block_k != 32 && c.block_k != 64) return "BLOCK_K must be 32 or 64 (the swizzled stage rows)";
  if (c.warps_m < 1 || c.warps_n < 1 || warps > 8) return "WARPS_M x WARPS_N must be 1 to 8 warps";
  if (c.block_m < 16 || c.block_m > 256 || c.block_n < 16 || c.block_n > 256)
    return "BLOCK_M and BLOCK_N must be in [16, 256]";
  if (c.block_m % (16 * c.warps_m) != 0 || c.block_n % (16 * c.warps_n) != 0)
    return "each warp's tile (BLOCK_M/WARPS_M x BLOCK_N/WARPS_N) must be a multiple of 16 x 16";
  if (!loader_ok(c.block_m, c.block_k, threads(c)) || !loader_ok(c.block_n, c.block_k, threads(c)))
    return "the cp.async loader needs THREADS/(BLOCK_K/8) rows per pass to be a multiple of 16, or "
           "a tile that one pass covers";
  if (c.stages < 2 || c.stages > 12) return "STAGES must be in [2, 12]";
  if (c.ctas_per_sm < 1 || c.ctas_per_sm > 8) return "CTAS_PER_SM must be in [1, 8]";
  if (c.swizzle_n < 1 || c.swizzle_n > 16) return "SWIZZLE_N must be in [1, 16]";
  if (c.overlap != 0 && c.overlap != 1) return "OVERLAP must be 0 or 1";
  if (c.split_k < 1 || c.split_k > 8) return "SPLIT_K must be in [1, 8]";
  if (c.l2_hints != 0 && c.l2_hints != 1) return "L2_HINTS must be 0 or 1";
  if (c.split_k > 1) {
    if (p.layout != Layout::dense) return "SPLIT_K > 1 is for the dense layout";
    if ((p.k + c.block_k - 1) / c.block_k < c.split_k) return "SPLIT_K must not exceed the K blocks";
    // Split tiles are fewer than the grid's CTAs, each with a counter in the workspace.
    if (std::int64_t{dev.num_sms} * c.ctas_per_sm > sm80::kSplitMaxTiles)
      return fmt::format("SPLIT_K > 1 takes at most {} CTAs", sm80::kSplitMaxTiles);
  }
  if (p.layout == Layout::contiguous_indices && kContiguousAlignment % c.block_m != 0)
    return fmt::format("the contiguous_indices layout needs BLOCK_M to divide the expert alignment {}",
                       kContiguousAlignment);
  if (smem(c) > dev.smem_per_block_optin)
    return fmt::format("needs {} bytes of shared memory; {} allows {}", smem(c), dev.name,
                       dev.smem_per_block_optin);
  if (threads(c) * c.ctas_per_sm > max_threads_per_sm(dev))
    return fmt::format("{} threads x CTAS_PER_SM={} exceed the {} threads of an SM", threads(c),
                       c.ctas_per_sm, max_threads_per_sm(dev));
  const int reg_limit = std::min(255, 65536 / (threads(c) * c.ctas_per_sm) / 8 * 8);
  if (estimated_registers(c) > reg_limit)
    return fmt::format("needs about {} registers per thread; {} threads x CTAS_PER_SM={} allow {}",
                       estimated_registers(c), threads(c), c.ctas_per_sm, reg_limit);
  return {};
}

double estimate_cycles(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  const Machine mach = machine(dev);
  const int occ = std::max(1, occupancy(c, dev));
  double rows = 1, groups = 1;
  expert_rows::planned_rows(p, &rows, &groups);
  // Masked and offsets experts' rows are device data around the planned rows (no tile spans two
  // experts, none is padded): a block count averaged over +-30% (expert_rows::expert_blocks), so
  // tall tiles pay for the experts that spill into one more block.
  double mb = std::ceil(rows / c.block_m), var = 0;
  if ((p.layout == Layout::masked || p.layout == Layout::contiguous_offsets) && groups > 1)
    expert_rows::expert_blocks(rows, c.block_m, expert_rows::kRowSpread, &mb, &var);
  const double nb = std::ceil(double(p.n) / c.block_n);
  const double out_tiles = std::max(1.0, groups * mb * nb);
  const double sms = dev.num_sms;
  const double kb = std::ceil(double(p.k) / c.block_k);
  // The busiest CTA's units: whole tiles, then (a split) one share of a last-wave tile each.
  double grid = std::min(sms * occ, out_tiles), whole_units = std::ceil(out_tiles / grid), split_units = 0;
  double parts = 1, split_kb = kb, all_kb = out_tiles * kb;  // all_kb: every CTA's K blocks
  if (c.split_k > 1 && p.layout == Layout::dense) {
    const GridPlan g = grid_plan(c, p, dev);
    const sm80::SplitPlan& s = g.split;
    grid = double(g.grid), parts = s.parts, split_kb = std::ceil(kb / parts);
    whole_units = std::ceil(s.whole / grid);
    split_units = std::ceil((s.units - s.whole) / grid);
    all_kb = s.whole * kb + (s.units - s.whole) * split_kb;
  }
  const double resident = std::min<double>(occ, std::ceil(grid / sms));  // CTAs sharing an SM
  const double cta_kb = whole_units * kb + split_units * split_kb;         // K blocks of the busiest CTA

  // Compute. Per 16-wide K step: each warp ldmatrix-reads (WM + WN) x 32 bytes, the CTA cp.async-
  // writes (BM + BN) x 32 bytes, for 2 x BM x BN x 16 FLOP.
  const int warps = c.warps_m * c.warps_n;
  const double wm = double(c.block_m) / c.warps_m, wn = double(c.block_n) / c.warps_n;
  const double smem_per_flop = (warps * (wm + wn) * 32 + (c.block_m + c.block_n) * 32.0) /
                               (2.0 * c.block_m * c.block_n * 16);
  // An HMMA takes ~30 cycles; a few independent ones per SM sub-partition keep the tensor pipe busy.
  const double mmas_in_flight = resident * warps * (wm / 16) * (wn / 8);
  const double rate = std::min(mach.mma, kSmemBytesPerClock / smem_per_flop) *
                      std::min(1.0, mmas_in_flight / mach.mmas_needed);
  const double compute = cta_kb * resident * 2.0 * c.block_m * c.block_n * c.block_k / rate;

  // Memory: unique bytes over HBM, all tile reads over L2.
  const double valid_rows = rows * groups;
  const double out_bytes = dtype_size(p.d) + (p.has_c ? dtype_size(p.c) : 0);
  const double hbm_bytes = (groups * p.n * double(p.k) + valid_rows * p.k) * 2 + valid_rows * p.n * out_bytes;
  // The loader zero-fills (does not read) A rows past the tile's valid rows.
  const double l2_bytes = all_kb * (std::min<double>(c.block_m, rows) + c.block_n) * c.block_k * 2;
  const double memory = std::max(hbm_bytes / mach.hbm, l2_bytes / (mach.l2_per_sm * sms));

  const double latency = cta_kb * mach.latency / (c.stages - 1);
  // Per tile: the pipeline fill (hidden by OVERLAP) and the stores (Machine::store_bw); a second
  // resident CTA computes meanwhile, which hides half of both. A split unit stores its fp32 partial
  // sums; the unit that completes a tile, last of its wave, then reads all `parts` of them and
  // stores the tile -- on the kernel's critical path (1 MB per 128x256 tile split in 8).
  const double fill = c.overlap ? 0.0 : mach.tile_overhead;
  const double tile_elems = double(c.block_m) * c.block_n;
  const double reduce = split_units > 0 ? tile_elems * (4.0 * parts + out_bytes) / mach.store_bw : 0.0;
  const double overhead = (whole_units * (fill + tile_elems * out_bytes / mach.store_bw) +
                           split_units * (fill + tile_elems * 4.0 / mach.store_bw)) /
                              (resident > 1 ? 2 : 1) +
                          reduce;
  // The bottleneck, plus a share of the others: overlap is never perfect, and it breaks ties
  // between memory-bound configs toward less wasted MMA work (and vice versa).
  const double bottleneck = std::max({compute, memory, latency});
  return bottleneck + mach.mix * (compute + memory + latency - bottleneck) + overhead;
}

TileConfig choose_tile(const ProblemDesc& p, const DeviceSpec& dev, bool split_ok) {
  thread_local ChoiceMemo<TileConfig> memos[2];
  ChoiceMemo<TileConfig>& memo = memos[split_ok];
  TileConfig remembered;
  if (memo.find(p, dev, &remembered)) return remembered;
  const TileConfig* best = nullptr;
  double best_cycles = 0;
  for (const TileConfig& c : kCandidates) {
    if ((c.split_k > 1 && !split_ok) || !check_config(c, p, dev).empty() || occupancy(c, dev) < 1) continue;
    const double cycles = estimate_cycles(c, p, dev);
    if (!best || cycles < best_cycles * 0.999) best = &c, best_cycles = cycles;
  }
  if (!best) throw Unsupported("jit: sm80: no tile config fits " + dev.name);
  TileConfig chosen = *best;
  chosen.l2_hints = l2_hints_for(p, dev, chosen.block_m);
  memo.store(p, dev, chosen);
  return chosen;
}

void stream_window(const TileConfig& c, const GroupedGemmArgs& g, const DeviceSpec& dev, LaunchDims& d) {
  d.stream_base = nullptr;
  d.stream_bytes = 0;
  if (!c.l2_hints || dev.max_access_window <= 0 || g.n <= 0 || g.k <= 0) return;
  const std::int64_t groups = g.layout == Layout::dense ? 1 : g.num_groups;
  if (groups <= 0) return;
  const std::int64_t bytes = ((groups - 1) * g.b.batch_stride + (g.n - 1) * g.b.ld + g.k) * dtype_size(g.b.dtype);
  d.stream_base = g.b.data;
  d.stream_bytes = static_cast<std::size_t>(std::min(bytes, dev.max_access_window));
}

}  // namespace sm80_gemm

namespace {

using sm80_gemm::TileConfig;

// KernelConfig::v fields of this family.
// kL2Hints is a launch property (stream_window): the kernel is the same either way.
enum Field { kAB, kD, kLayout, kHasC, kC, kBM, kBN, kBK, kWM, kWN, kStages, kCtas, kSwizzle, kOverlap, kSplit, kL2Hints };

TileConfig tile_of(const KernelConfig& c) {
  return {c.v[kBM],     c.v[kBN],   c.v[kBK],      c.v[kWM],      c.v[kWN],
          c.v[kStages], c.v[kCtas], c.v[kSwizzle], c.v[kOverlap], c.v[kSplit], c.v[kL2Hints]};
}

// Applies a forced "NAME=value,..." onto `t`: unnamed fields keep the heuristics' choice, except
// that an unnamed CTAS_PER_SM drops to what the forced tile's registers allow, and an unnamed
// L2_HINTS is the rule's choice for the forced tile.
TileConfig apply_forced(TileConfig t, const char* forced, const ProblemDesc& p, const DeviceSpec& dev) {
  bool ctas_given = false, hints_given = false;
  parse_forced_config(forced, [&](const std::string& name, int value) {
    if (name == "OVERLAP") return (value == 0 || value == 1) && (t.overlap = value, true);
    if (name == "L2_HINTS") return (value == 0 || value == 1) && (t.l2_hints = value, hints_given = true);
    if (value < 1 || value > 4096) return false;
    if (name == "BLOCK_M") t.block_m = value;
    else if (name == "BLOCK_N") t.block_n = value;
    else if (name == "BLOCK_K") t.block_k = value;
    else if (name == "WARPS_M") t.warps_m = value;
    else if (name == "WARPS_N") t.warps_n = value;
    else if (name == "STAGES") t.stages = value;
    else if (name == "CTAS_PER_SM") t.ctas_per_sm = value, ctas_given = true;
    else if (name == "SWIZZLE_N") t.swizzle_n = value;
    else if (name == "SPLIT_K") t.split_k = value;
    else return false;
    return true;
  });
  const int nthreads = t.warps_m * t.warps_n * 32;
  if (!ctas_given && nthreads > 0 && t.block_m >= 16 * t.warps_m && t.block_n >= 16 * t.warps_n)
    while (t.ctas_per_sm > 1 &&
           sm80_gemm::estimated_registers(t) > std::min(255, 65536 / (nthreads * t.ctas_per_sm)))
      --t.ctas_per_sm;
  if (!hints_given) t.l2_hints = l2_hints_for(p, dev, t.block_m);
  return t;
}

class Sm80Family final : public KernelFamily {
 public:
  Family family() const override { return Family::sm80; }
  const char* name() const override { return "sm80"; }

  const char* unsupported(const ProblemDesc& p, const DeviceSpec& dev) const override {
    if (dev.cc_major < 8) return "needs sm_80 or newer (cp.async, bf16 mma.sync)";
    if (p.a != DType::bf16 && p.a != DType::fp16)
      return "takes bf16 or fp16 operands only (mma.sync m16n8k16); e4m3, s8 and fp32 need another family";
    if (p.a_scale != ScaleKind::none || p.b_scale != ScaleKind::none)
      return "takes no scale factors (bf16/fp16 recipe only)";
    return nullptr;
  }

  KernelConfig choose(const ProblemDesc& p, const DeviceSpec& dev, const char* forced,
                      const GemmOptions& o) const override {
    TileConfig t = sm80_gemm::choose_tile(p, dev, !o.no_split_k);
    if (forced && *forced) {
      t = apply_forced(t, forced, p, dev);
      if (std::string why = sm80_gemm::check_config(t, p, dev); !why.empty())
        throw InvalidArgument("config", "sm80 " + sm80_gemm::to_string(t) + ": " + why);
      if (t.split_k > 1 && o.no_split_k)
        throw InvalidArgument("config", "sm80 " + sm80_gemm::to_string(t) +
                                            ": SPLIT_K > 1 needs a workspace (no_split_k is set, or the "
                                            "stream is capturing and the call passed no workspace)");
    }
    // The scheduler counts tiles in int; the grid adds at most its own size on top.
    // (In double: G x M blocks x N blocks can overflow 64 bits.)
    const double m_blocks = std::ceil(double(p.m) / t.block_m), n_blocks = std::ceil(double(p.n) / t.block_n);
    const double tiles = (m_blocks + (p.layout == Layout::contiguous_offsets ? p.num_groups : 0)) *
                         n_blocks * (p.layout == Layout::masked ? p.num_groups : 1);
    // The scheduler also rounds m and n up to whole blocks in int.
    if (tiles + double(dev.num_sms) * t.ctas_per_sm > INT_MAX || m_blocks * t.swizzle_n > INT_MAX ||
        p.m + t.block_m > INT_MAX || p.n + t.block_n > INT_MAX)
      throw Unsupported(fmt::format("jit: sm80: {:.3g} tiles of {}x{} overflow the scheduler's int tile index",
                                    tiles, t.block_m, t.block_n));
    KernelConfig c;
    c.family = Family::sm80;
    c.v[kAB] = static_cast<int>(p.a);
    c.v[kD] = static_cast<int>(p.d);
    c.v[kLayout] = static_cast<int>(p.layout);
    c.v[kHasC] = p.has_c;
    c.v[kC] = static_cast<int>(p.has_c ? p.c : DType::fp32);
    c.v[kBM] = t.block_m, c.v[kBN] = t.block_n, c.v[kBK] = t.block_k;
    c.v[kWM] = t.warps_m, c.v[kWN] = t.warps_n;
    c.v[kStages] = t.stages, c.v[kCtas] = t.ctas_per_sm, c.v[kSwizzle] = t.swizzle_n;
    c.v[kOverlap] = t.overlap;
    c.v[kSplit] = t.split_k;
    c.v[kL2Hints] = t.l2_hints;
    return c;
  }

  std::int64_t workspace_bytes(const KernelConfig& c, const ProblemDesc& p, const DeviceSpec& dev) const override {
    return sm80_gemm::workspace_bytes(tile_of(c), p, dev);
  }

  std::string describe(const KernelConfig& c) const override {
    return fmt::format("{}->{} {} C={} {}", dtype_name(DType(c.v[kAB])), dtype_name(DType(c.v[kD])),
                       layout_name(Layout(c.v[kLayout])),
                       c.v[kHasC] ? dtype_name(DType(c.v[kC])) : "none", sm80_gemm::to_string(tile_of(c)));
  }

  KernelSource render(const KernelConfig& c) const override {
    TemplateArgs args;
    args.add("AB", DType(c.v[kAB]))
        .add("D", DType(c.v[kD]))
        .add("LAYOUT", Layout(c.v[kLayout]))
        .add("HAS_C", c.v[kHasC] != 0)
        .add("C", DType(c.v[kC]))
        .add("BLOCK_M", c.v[kBM])
        .add("BLOCK_N", c.v[kBN])
        .add("BLOCK_K", c.v[kBK])
        .add("WARPS_M", c.v[kWM])
        .add("WARPS_N", c.v[kWN])
        .add("STAGES", c.v[kStages])
        .add("CTAS_PER_SM", c.v[kCtas])
        .add("SWIZZLE_N", c.v[kSwizzle])
        .add("OVERLAP", c.v[kOverlap] != 0)
        .add("SPLIT_K", c.v[kSplit]);
    return render_instantiation("jit/sm80/gemm.cuh", "jit::sm80::gemm_kernel", "jit::sm80::Params", args);
  }

  unsigned dynamic_smem(const KernelConfig& c) const override {
    return static_cast<unsigned>(sm80_gemm::smem(tile_of(c)));
  }

  void launch(CUfunction fn, const KernelConfig& c, const GroupedGemmArgs& g, const DeviceSpec& dev,
              CUstream stream) const override {
    const TileConfig t = tile_of(c);
    sm80::Params p{};
    p.a = g.a.data;
    p.b = g.b.data;
    p.c = g.c.data;
    fill_problem(p, g);
    p.lda = g.a.ld;
    p.ldb = g.b.ld;
    p.ldc = g.c.ld;
    p.batch_a = g.a.batch_stride;
    p.batch_b = g.b.batch_stride;
    p.batch_c = g.c.batch_stride;
    p.workspace = g.workspace.data;  // the runtime checked its size (KernelFamily::workspace_bytes)
    LaunchDims d;
    d.grid[0] = static_cast<unsigned>(sm80_gemm::grid_plan(t, jit::describe(g), dev).grid);
    d.block[0] = static_cast<unsigned>(t.warps_m * t.warps_n * 32);
    d.smem = static_cast<unsigned>(sm80_gemm::smem(t));
    sm80_gemm::stream_window(t, g, dev, d);
    launch_kernel(fn, d, p, stream, "sm80 gemm");
  }
};

}  // namespace

const KernelFamily& sm80_family() {
  static const Sm80Family f;
  return f;
}

}  // namespace jit::detail
