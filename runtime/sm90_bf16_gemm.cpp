// The sm90 16-bit family: heuristics (tile, pipeline depth, grid), codegen and launch of
// kernel_src/jit/sm90/bf16_gemm.cuh -- bf16/fp16 operands, bf16/fp16/fp32 D, optional C, every
// layout, on sm_90a. Registered before sm80, which then serves 16-bit inputs only before Hopper.
//
// NOTES on the heuristics: every candidate tile is scored by an estimate of its run time in SM
// clock cycles (estimate_cycles); the smallest wins (ties: the earlier candidate). The model and its
// constants were fitted to bench/sweeps_sm90_bf16_h200.txt (the 30 PEERS.md shapes of the
// deepgemm-dense, moe-contiguous and moe-masked suites under every candidate tile, H200, bf16 in and
// out): it predicts those 606 run times with an RMS error of 9.0% and picks, for every shape, a tile
// within 5% of the fastest measured but for one masked shape whose best depends on the draw of
// expert sizes (tests/cpu/test_sm90_bf16_compile.cpp holds it to that). Its terms, each explained
// where its constant is defined below:
// - Waves. A CTA of the persistent grid runs its tiles one after the other: per tile num_kb 64-deep
//   K stages and an epilogue. Waves are whole, but a partly filled last wave runs with fewer CTAs
//   pulling on L2 and DRAM, so its stages are cheaper. With masked or offsets experts the tile count
//   is device data: the host knows the total of the rows (expected_m x G), not its split, and plans
//   for the distribution of the m-block count that this leaves.
// - A stage takes the longest of: the consumers' MMAs (one warpgroup: a fixed per-stage round trip
//   that narrow tiles cannot hide); the stage's bytes at what one SM's TMA and its share of the L2
//   deliver; the load latency over the stages in flight, longer the more of B is first touched in
//   DRAM and the more CTAs stream; plus a little queueing per active CTA.
// - The kernel takes a fixed launch/prologue/tail cost plus a soft maximum of the CTA path and the
//   DRAM traffic: the unique operands (A again for every band of N blocks when it does not stay in
//   L2), lines that several concurrently running CTAs miss on at once costing part of a transfer
//   each, the zeros TMA writes for rows past M, and D; the last wave's D drains at the DRAM's rate.
// What it steers: BLOCK_M = 64 with deep pipelines and few CTAs at M <= 128 (latency and DRAM);
// BLOCK_M = 128 over 64 x BLOCK_N where B is streamed once per m-block (M = 128); at large M, the
// widest tile whose waves come out whole (128 x 176 for N = 2112, 128 x 256 elsewhere); neither
// BLOCK_M = 256 where M does not fill it (its zero-filled rows cost DRAM time) nor three-stage
// tiles where DRAM latency shows.
#include "runtime/sm90_bf16_gemm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <tuple>

#include "jit/errors.hpp"
#include "jit/sm90/params.cuh"
#include "jit/sm90/smem.cuh"
#include "runtime/codegen.hpp"
#include "runtime/family.hpp"
#include "runtime/l2_hints.hpp"
#include "runtime/expert_rows.hpp"
#include "runtime/launcher.hpp"
#include "runtime/sm90_common.hpp"

namespace jit::detail {

namespace sm90_bf16_gemm {

namespace {

constexpr int kMaxStages = 16;
constexpr int kMaxSplit = 4;  // CTAs per split-K cluster (8 is the portable cluster limit)

constexpr int align_up(int x, int a) { return (x + a - 1) / a * a; }

// sizeof(sm90::Bf16SharedStorage<...>), member by member (checked below).
constexpr int storage_bytes(int bm, int bn, DType d, int stages, int split) {
  int at = sm90::bf16_d_tile_bytes(bm, bn, d);                               // d
  at = align_up(at, 1024) + stages * bm * sm90::kStageRowBytes;              // a
  at = align_up(at, 1024) + stages * bn * sm90::kStageRowBytes;              // b
  at = align_up(at, 16) + sm90::split_partial_floats(split, bm, bn) * 4;     // partials
  at = align_up(at, 16) + stages * 16 + sm90::kTileRing * (16 + 32) + 16;    // sync: barriers, TileInfo
  return align_up(at, 1024);                                                 // the struct's alignment
}
template <int BM, int BN, int S, DType D, int SPLIT = 1>
constexpr bool storage_matches() {
  return storage_bytes(BM, BN, D, S, SPLIT) ==
         sizeof(sm90::Bf16SharedStorage<BM, BN, S, sm90::bf16_d_tile_bytes(BM, BN, D), SPLIT>);
}
static_assert(storage_matches<128, 256, 3, DType::bf16>());
static_assert(storage_matches<64, 48, 13, DType::fp16>());
static_assert(storage_matches<256, 112, 4, DType::fp32>());
static_assert(storage_matches<128, 80, 5, DType::bf16>());
static_assert(storage_matches<64, 128, 6, DType::bf16, 4>());
static_assert(storage_matches<128, 96, 5, DType::fp32, 2>());

// Tile shapes the heuristics consider: those the model was calibrated on (every one measured on
// every sweep shape; BLOCK_N widths in between were not, and the model would interpolate its
// per-tile epilogue and per-stage costs). Accumulators take BLOCK_N / 2 registers per 64-row wave
// and thread, at most 128 of the consumers' 232: BLOCK_N up to 256 with one wave per warpgroup
// (BLOCK_M 64, 128), up to 128 with two (BLOCK_M 256).
//  - BLOCK_M = 64, BLOCK_N 16 .. 256: M <= 128, where B streams from DRAM once and more CTAs, each
//    with a deep pipeline (13-16 stages up to BLOCK_N = 64), hide its latency;
//  - BLOCK_M = 128: M = 128 (one m-block: no two CTAs miss on the same B lines), and the large
//    shapes, BLOCK_N 176 for N = 2112 = 12 x 176, 160/192/208 where their waves come out whole;
//  - BLOCK_M = 256, BLOCK_N <= 128: measured, rarely ahead (4096 x 32768 x 512: 256 x 96 ties
//    128 x 192), so kept for large-M shapes whose tile counts suit them.
//  - Split-K (clusters of 2 or 4 CTAs on one tile), 64 x 64 .. 128 x 128: shapes with fewer
//    tiles than SMs (M <= 128).
// Not a candidate: CLUSTER=2 (pairs multicasting their shared A tile). The heuristics' tile of each
// PEERS.md shape, forced unsplit with CLUSTER=2, measured 0.82-1.05x the heuristics' own choice,
// geomean 0.953 dense, 0.968 contiguous, 0.962 masked, 0.994 decode (bench/NOTES.md v0.13): at
// M <= 128, where every CTA reads all of A, halving those bytes gained nothing (64x7168x2048
// x0.93), and the pairs run in lockstep. Nor SHARE_B=1 (two m-blocks sharing B, cuBLAS's 2x1
// cluster): 64x64 pairs took 128x4096x7168 from 259 to 270 TFLOP/s but lost on the other M = 128
// shapes (128x2112x7168 191 -> 174, 128x7168x2048 239 -> 207) and did not move M = 4096 (0.98-1.01).
// Both can be forced.
struct Shape {
  int block_m, block_n, split;
};

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = [] {
    std::vector<Shape> v;
    for (int bn : {16, 32, 48, 64, 96, 128, 192, 256}) v.push_back({64, bn, 1});
    for (int bn : {64, 96, 128, 160, 176, 192, 208, 224, 256}) v.push_back({128, bn, 1});
    for (int bn : {64, 96, 112, 128}) v.push_back({256, bn, 1});
    for (int split : {2, 4})
      for (int bm : {64, 128})
        for (int bn : {64, 128}) v.push_back({bm, bn, split});
    return v;
  }();
  return all;
}

// ---- The performance model (estimate_cycles). Units: SM clock cycles (the sweep's times at
// 1755 cycles/us). Every constant below was fitted to bench/sweeps_sm90_bf16_h200.txt (least
// squares on the log of the 606 run times); what each was pinned by is said with it.

// The consumers per stage (4 x wgmma m64nNk16 per 64-row wave):
//  - the tensor cores: 2048 bf16 FMA per clock per SM (989 TFLOP/s / 132 SMs / 1.83 GHz / 2), at
//    1.04x that (large-M 128 x N tiles run at 0.85-0.9 of peak with their epilogues);
constexpr double kMmaCyclesPerFma = 1.04 / 2048;
//  - one warpgroup (BLOCK_M = 64) waits for its stage, issues, commits and releases the previous
//    stage in a serial round trip of ~240 clocks, which MMAs narrower than 64 x 128 cannot cover:
//    64 x 16 .. 64 x 64 all measure ~240-280 clocks a stage;
constexpr double kOneWgStage = 240;
//  - two 64-row waves per warpgroup (BLOCK_M = 256) issue 1.09x slower per FMA than one (B is read
//    from shared memory once per wave): 256 x 128 trails 128 x 256 by ~8% at large M.
constexpr double kTwoWaveMma = 1.09;

// Bytes into the SM per stage ((BLOCK_M + BLOCK_N) rows of 128 bytes, zero-filled rows past M
// included): one SM's TMA pulls at most kSmFeed bytes a clock, and the L2 delivers kL2Feed in all,
// shared by the CTAs running (64 x 256 at large M, the most bytes per FMA, pins the latter).
constexpr double kSmFeed = 71, kL2Feed = 7850;

// A stage's load latency, hidden by the stages the producer can have in flight (STAGES - 1: the
// consumers hold one while its wgmma group is outstanding). It grows with the share of B's bytes
// first touched in DRAM (1 at M <= BLOCK_M: no other m-block reads the panel) times the CTAs
// streaming (queueing): 64 x 64 on 33 CTAs beats 64 x 32 on 66 at 64 x 2112 x 7168, and three
// stages (128 x 224, 128 x 256) fall behind four at M = 128.
constexpr double kLatency = 1950, kLatencyFirstTouch = 870;
// Per stage and CTA, ~7 clocks at a full grid of queueing (barrier and TMA round trips through the
// L2 that the other SMs load): what tips near-ties towards fewer, wider tiles.
constexpr double kQueueing = 7;

// Per tile: the epilogue (wait for the MMAs, stmatrix into the smem tile, TMA store) at kEpilogue
// clocks plus the output bytes at kEpilogueBytesPerClock; a 16-bit D tile whose rows are not a
// multiple of 64 bytes (BLOCK_N an odd multiple of 16: 48, 176, 208 ...) is staged with a 32-byte
// swizzle, whose bank conflicts nearly double the per-byte cost (128 x 176 and 128 x 208 measure
// ~2000 clocks more per tile than 128 x 192 at K = 512).
constexpr double kEpilogue = 475, kEpilogueBytesPerClock = 47, kSwizzle32Penalty = 0.9;

// Per kernel: launch, prologue and tail as the bench times them (~6 us; the M = 64 shapes pin it);
// the DRAM rate of the traffic (128-byte rows strided by K: ~3.7 TB/s); the part of a transfer that
// each further CTA missing on a line at the same time costs (64 x 128, whose B panels two m-blocks
// miss on together, trails 128 x 64 by 15% at M = 128; 32 experts' B read by ~2 m-blocks each);
// the soft maximum of the CTA path and the DRAM time (they overlap imperfectly); and the rate the
// last wave's D drains at relative to kHbmBytesPerClock (nothing left to overlap it: 128 x 256 in
// one wave trails 128 x 128 in two by 8% at 128 x 32768 x 512; writes drain ~1.4x faster than
// the strided reads stream).
constexpr double kKernelFixed = 10800, kHbmBytesPerClock = 2110, kSharedMiss = 0.24, kOverlapNorm = 4.4,
                 kDrainRate = 1 / 0.7;

// A stays in the L2 (50 MB) across the bands of N blocks when it takes less than this; else each
// band reads it from DRAM again.
constexpr double kL2ForA = 40e6;

// Split-K (bench/sweeps_sm90_*_split_h200.txt, session 3): per tile, the partials' round trip
// through the cluster and their bytes, written into rank 0's shared memory and read back there;
// and a K loop ~15% slower per stage than unsplit (measured, cause not found: with the exchange
// compiled out, 64x64 split 2 still ran 4096x7168x16384 at 226 against 304 TFLOP/s unsplit).
// Fitted by hand so that the choices match the sweep: split wins only where tiles are far fewer
// than SMs (64x2112x7168, 128x2112x7168; BF16 also 128x4096x7168), by 2-16%.
constexpr double kSplitFixed = 2000, kSplitBytesPerClock = 64, kSplitStage = 1.15;

// The m-blocks the scheduler walks (over all groups): a few outcomes with their probabilities, or
// (var > 0) a normal distribution of that mean and variance.
struct BlockPlan {
  static constexpr int kMaxOutcomes = 24;
  int count = 0;
  double prob[kMaxOutcomes] = {}, blocks[kMaxOutcomes] = {};
  double mean = 0, var = 0;
};

BlockPlan plan_blocks(const ProblemDesc& p, int bm, double rows, double groups) {
  BlockPlan b;
  const auto one = [&b](double blocks) {
    b.count = 1, b.prob[0] = 1, b.blocks[0] = b.mean = blocks;
    return b;
  };
  if (p.layout == Layout::dense || p.layout == Layout::contiguous_indices) {
    double blocks = std::ceil(double(p.m) / bm);
    // m_indices experts are padded to 128 rows; a 64-row block of pure padding is skipped, which
    // happens at the end of about every other expert.
    if (p.layout == Layout::contiguous_indices && bm < kContiguousAlignment)
      blocks = std::max(1.0, blocks - groups / 2);
    return one(blocks);
  }
  // Masked (expected_m per expert) and offsets (m in all): the total T = rows x G is known, how the
  // experts split it is not. Each expert's last block is partial: blocks = sum of ceil(r_i / bm)
  // = T / bm + sum of (1 - frac(r_i / bm)). Where the experts' spread is at least a block, those
  // fractions are uniform, and their sum is frac(T / bm) + j for some j in [0, G): the block count
  // is floor(T / bm) + G - j, with j weighted by the (normal approximation of the) Irwin-Hall
  // density of G uniforms at frac(T / bm) + j. (Drawing each expert's size independently instead
  // would count the uncertainty of T, which the host knows, and spread the count much wider.)
  const int g = static_cast<int>(groups);
  if (g <= 1) return one(std::ceil(rows / bm));
  if (2 * expert_rows::kRowSpread * rows >= bm) {
    const double t = rows * groups / bm, fl = std::floor(t + 1e-9), frac = t - fl, sd = std::sqrt(groups / 12);
    if (10 * sd + 1 <= BlockPlan::kMaxOutcomes) {
      double sum = 0;
      for (int j = 0; j < g; ++j) {
        const double z = (frac + j - groups / 2) / sd;
        if (std::abs(z) >= 5) continue;
        b.prob[b.count] = std::exp(-z * z / 2), b.blocks[b.count] = fl + g - j;
        sum += b.prob[b.count++];
      }
      for (int i = 0; i < b.count; ++i) b.prob[i] /= sum, b.mean += b.prob[i] * b.blocks[i];
      return b;
    }
    // Many experts: the same, as a normal distribution (variance of G uniforms).
    b.mean = fl + frac + groups / 2, b.var = groups / 12;
    return b;
  }
  // Experts whose sizes spread over less than a block: few of them end in a different block than
  // the mean's; draw them independently (the FP8 family's plan).
  double mean = 0, var = 0;
  expert_rows::expert_blocks(rows, bm, expert_rows::kRowSpread, &mean, &var);
  b.mean = groups * mean, b.var = groups * var;
  if (b.var <= 0) return one(b.mean);
  return b;
}

// Expected waves (tiles per CTA) when the tile count is normal with this mean and variance
// (tiles^2): E[W] = sum over k >= 0 of P(W > k), W > k <=> m-blocks >= floor(k grid / nb) + 1.
double expected_waves(double tiles, double variance, double grid, double nb) {
  const double sd = std::sqrt(variance) / nb, mean = tiles / nb;  // in m-blocks
  const double lo = std::max(0.0, std::floor((mean - 8 * sd) * nb / grid));
  double e = lo;
  for (double k = lo;; ++k) {
    const double above = 1 - expert_rows::normal_cdf((std::floor(k * grid / nb) + 0.5 - mean) / sd);
    if (above < 1e-6 && k * grid / nb > mean) break;
    e += above;
  }
  return std::max(1.0, e);
}

CUtensorMapDataType tma_type(DType t) {
  return t == DType::fp16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
}

}  // namespace

std::string to_string(const TileConfig& c) {
  return fmt::format("BLOCK_M={},BLOCK_N={},STAGES={},SWIZZLE_N={}{}{}{}{}", c.block_m, c.block_n, c.stages, c.swizzle_n,
                     c.split > 1 ? fmt::format(",SPLIT_K={}", c.split) : std::string(),
                     c.cluster > 1 ? fmt::format(",CLUSTER={}", c.cluster) : std::string(),
                     c.share_b ? ",SHARE_B=1" : "", c.l2_hints ? ",L2_HINTS=1" : "");
}

int smem_bytes(int block_m, int block_n, DType d, int stages, int split) {
  return storage_bytes(block_m, block_n, d, stages, split);
}

int max_stages(int block_m, int block_n, DType d, int smem_optin, int split) {
  int s = kMaxStages;
  while (s > 0 && storage_bytes(block_m, block_n, d, s, split) > smem_optin) --s;
  return s;
}

std::span<const TileConfig> candidate_configs(Layout layout, DType d, int smem_optin) {
  static std::mutex mu;
  static std::map<std::tuple<int, int, int>, std::vector<TileConfig>> lists;  // never erased: spans stay valid
  std::lock_guard lk(mu);
  auto [it, fresh] = lists.try_emplace({static_cast<int>(layout), static_cast<int>(d), smem_optin});
  if (fresh) {
    ProblemDesc p;
    p.layout = layout;
    p.d = d;
    DeviceSpec dev = flagship_device("sm_90a");
    dev.smem_per_block_optin = smem_optin;
    for (const Shape& s : shapes()) {
      const TileConfig c{s.block_m, s.block_n, max_stages(s.block_m, s.block_n, d, smem_optin, s.split),
                         sm90_common::swizzle_for(s.block_m, s.block_n), s.split};
      // A split-K tile whose partials leave fewer than 4 stages would starve its K loop.
      if (c.split > 1 && c.stages < 4) continue;
      if (check_config(c, p, dev).empty()) it->second.push_back(c);
    }
  }
  return it->second;
}

std::string check_config(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  if (c.block_m != 64 && c.block_m != 128 && c.block_m != 256)
    return "BLOCK_M must be 64 (one consumer warpgroup), 128 or 256 (two)";
  if (c.block_n % 16 != 0 || c.block_n < 16 || c.block_n > 256) return "BLOCK_N must be a multiple of 16 up to 256";
  if (c.block_m == 256 && c.block_n > 128)
    return "BLOCK_N must be at most 128 with BLOCK_M=256 (two waves of accumulators per warpgroup)";
  if (c.stages < 2 || c.stages > kMaxStages)
    return fmt::format("STAGES must be in [2, {}] (one stage in the tensor cores, one loading)", kMaxStages);
  if (c.swizzle_n < 1 || c.swizzle_n > 64) return "SWIZZLE_N must be in [1, 64]";
  if (c.split < 1 || c.split > kMaxSplit) return fmt::format("SPLIT_K must be in [1, {}]", kMaxSplit);
  if (c.split > 1 && p.k > 0 && (p.k + sm90::kBlockK16 - 1) / sm90::kBlockK16 < c.split)
    return fmt::format("SPLIT_K={} needs K >= {} (one 64-wide K block per split at least)", c.split,
                       (c.split - 1) * sm90::kBlockK16 + 1);
  if (c.split > dev.num_sms) return "SPLIT_K must not exceed the SMs";
  if (std::string why = sm90_common::check_cluster(c.cluster, c.split, c.swizzle_n, c.share_b, dev); !why.empty())
    return why;
  if (c.l2_hints != 0 && c.l2_hints != 1) return "L2_HINTS must be 0 or 1";
  if (p.layout == Layout::contiguous_indices && c.block_m > kContiguousAlignment)
    return fmt::format("the contiguous_indices layout needs BLOCK_M <= the expert alignment {}", kContiguousAlignment);
  const int smem = storage_bytes(c.block_m, c.block_n, p.d, c.stages, c.split);
  if (smem > dev.smem_per_block_optin)
    return fmt::format("needs {} bytes of shared memory; {} allows {}", smem, dev.name, dev.smem_per_block_optin);
  return {};
}

double estimate_cycles(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  const double sms = std::max(1, dev.num_sms);
  const double bm = c.block_m, bn = c.block_n, k = double(std::max<std::int64_t>(1, p.k));
  const double nb = std::ceil(double(p.n) / bn), num_kb = std::ceil(k / sm90::kBlockK16);
  double rows = 1, groups = 1;
  expert_rows::planned_rows(p, &rows, &groups);
  const BlockPlan plan = plan_blocks(p, c.block_m, rows, groups);
  const double tiles = std::max(1.0, plan.mean * nb);
  // Under split-K a CTA's unit is one split of a tile (`split` per tile, the largest share of the
  // K blocks each); nbs: units per m-block.
  const double split = c.split, nbs = nb * split, split_kb = std::ceil(num_kb / split);
  const double grid = std::max(1.0, std::min<double>(grid_size(c, p, dev), std::ceil(tiles * split)));

  // The consumers per stage. Waves of 64 rows without rows skip their MMAs (warpgroup w owns rows
  // [w BLOCK_M / 2, (w + 1) BLOCK_M / 2)), and the two warpgroups share the tensor cores.
  const double mma_wave = 64 * bn * sm90::kBlockK16 * kMmaCyclesPerFma;
  double consumers = std::max(kOneWgStage, mma_wave);
  if (c.block_m > 64) {
    const int half = c.block_m / 2, r = static_cast<int>(std::min(bm, std::max(1.0, rows)));
    const int w0 = std::min(half / 64, (std::min(r, half) + 63) / 64);
    const int w1 = std::min(half / 64, (std::max(0, r - half) + 63) / 64);
    consumers = (w0 + w1) * mma_wave * (half > 64 ? kTwoWaveMma : 1.0);
  }

  // Traffic. Rows past M in the last m-block (dense) are zero-filled by TMA: loaded all the same,
  // and their zeros cost DRAM-like time. A comes from DRAM once (again per band of SWIZZLE_N n-blocks
  // if it does not stay in L2), B once; sA, sB: the tiles that load each of those bytes, of which
  // the ones running at once (a band's n-blocks for A, all CTAs for B) miss on it together.
  double oob = 0;
  if (p.layout == Layout::dense) {
    const double mb = std::ceil(double(p.m) / bm);
    oob = (mb * bm - double(p.m)) / mb;
  }
  const double row_bytes = sm90::kStageRowBytes, elem = dtype_size(p.a);
  // What this CTA pulls from L2: the shared operand's half.
  const auto boxes = sm90_common::operand_boxes(c.block_m, c.block_n, c.cluster, c.share_b);
  const double stage_bytes = double(boxes.a_rows + boxes.b_rows) * row_bytes;
  const double valid_rows = rows * groups;
  const double a_loaded = tiles * num_kb * (bm - oob) * row_bytes, b_loaded = tiles * num_kb * bn * row_bytes;
  const double a_unique = valid_rows * k * elem, b_unique = groups * double(p.n) * k * elem;
  const double band = std::min<double>(std::max(1, c.swizzle_n), nb);
  const double a_reads = a_unique > kL2ForA ? nb / band : 1;
  const double a_dram = std::min(a_loaded, a_unique * a_reads), b_dram = std::min(b_loaded, b_unique);
  const double s_a = std::max(1.0, a_loaded / (a_unique * a_reads)), s_b = std::max(1.0, b_loaded / b_unique);
  const double out_bytes = dtype_size(p.d) + (p.has_c ? dtype_size(p.c) : 0);
  const double dram = (a_dram * (1 + kSharedMiss * (std::min(s_a, band) - 1)) +
                       b_dram * (1 + kSharedMiss * (std::min(s_b, grid) - 1)) + tiles * num_kb * oob * row_bytes +
                       valid_rows * double(p.n) * out_bytes) /
                      kHbmBytesPerClock;

  // A stage with `active` CTAs running; a tile; the last wave's output draining to DRAM.
  const double first_touch = 1 / s_b;
  const auto stage = [&](double active) {
    const double load = active / sms;
    const double feed = stage_bytes / std::min(kSmFeed, kL2Feed / active);
    const double latency = (kLatency + first_touch * kLatencyFirstTouch * load) / std::max(1, c.stages - 1);
    return std::max({consumers, feed, latency}) + kQueueing * load;
  };
  const bool swizzle32 = p.d != DType::fp32 && c.block_n % 32 != 0;
  const double epilogue = kEpilogue + bm * bn * out_bytes * (1 + (swizzle32 ? kSwizzle32Penalty : 0)) /
                                          kEpilogueBytesPerClock;
  // Split-K: rank 0 waits for the peers' partials (written into its shared memory) and reads them.
  const double exchange = c.split > 1 ? kSplitFixed + (split - 1) * bm * bn * 4 / kSplitBytesPerClock : 0;
  const auto tile = [&](double active) {
    return split_kb * stage(active) * (c.split > 1 ? kSplitStage : 1) + epilogue + exchange;
  };
  const auto drain = [&](double active) {
    return std::max(0.0, active * bm * bn * out_bytes / (kHbmBytesPerClock * kDrainRate) - epilogue);
  };
  double path = 0;
  if (plan.var > 0) {
    path = expected_waves(tiles * split, plan.var * nbs * nbs, grid, nbs) * tile(grid) + drain(grid);
  } else {
    for (int i = 0; i < plan.count; ++i) {
      const double t = std::max(1.0, plan.blocks[i] * nbs);
      const double full = std::max(0.0, std::ceil(t / grid - 1e-9) - 1), last = std::max(1.0, t - full * grid);
      path += plan.prob[i] * (full * tile(grid) + tile(last) + drain(last));
    }
  }
  return kKernelFixed + std::pow(std::pow(path, kOverlapNorm) + std::pow(dram, kOverlapNorm), 1 / kOverlapNorm);
}

int grid_size(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  return sm90_common::grid_size(p, dev, c.block_m, c.block_n, c.split, c.cluster);
}

TileConfig choose_tile(const ProblemDesc& p, const DeviceSpec& dev) {
  thread_local ChoiceMemo<TileConfig> memo;
  TileConfig best;
  if (memo.find(p, dev, &best)) return best;
  double best_cycles = 0;
  for (const TileConfig& c : candidate_configs(p.layout, p.d, dev.smem_per_block_optin)) {
    const double cycles = estimate_cycles(c, p, dev);
    if (best.block_m == 0 || cycles < best_cycles * 0.999) best = c, best_cycles = cycles;
  }
  if (best.block_m == 0) throw Unsupported("jit: sm90_bf16: no tile config fits " + dev.name);
  best.l2_hints = l2_hints_for(p, dev, best.block_m);
  memo.store(p, dev, best);
  return best;
}

std::vector<TmaDesc> tensor_maps(const TileConfig& t, const GroupedGemmArgs& g) {
  const bool masked = g.layout == Layout::masked;
  const int groups = masked ? g.num_groups : 1;  // A and D are batched only if masked
  // A: [m, K] (masked: [G, max_m, K]); B: [G, N, K]; rows of 64 elements (128 bytes), 128B swizzle;
  // boxes of what one CTA of a pair loads (operand_boxes).
  const auto boxes = sm90_common::operand_boxes(t.block_m, t.block_n, t.cluster, t.share_b);
  std::vector<TmaDesc> maps = {
      tma_matrix("a", g.a.data, tma_type(g.a.dtype), 2, g.m, g.k, g.a.ld, groups, g.a.batch_stride,
                 static_cast<std::uint32_t>(boxes.a_rows), sm90::kBlockK16, TmaSwizzle::b128, masked),
      tma_matrix("b", g.b.data, tma_type(g.b.dtype), 2, g.n, g.k, g.b.ld, g.num_groups, g.b.batch_stride,
                 static_cast<std::uint32_t>(boxes.b_rows), sm90::kBlockK16, TmaSwizzle::b128, true),
  };
  if (g.d.dtype != DType::fp32) {
    // D: one box per column chunk of a consumer warpgroup's rows of the swizzled smem tile
    // (sm90/epilogue.cuh, OutputTile, store_tile).
    const int swizzle = sm90::d_swizzle_bytes(t.block_n);
    maps.push_back(tma_matrix("d", g.d.data, tma_type(g.d.dtype), 2, g.m, g.n, g.d.ld, groups, g.d.batch_stride,
                              static_cast<std::uint32_t>(sm90::epilogue_box_rows(t.block_m)),
                              static_cast<std::uint32_t>(swizzle / 2), TmaSwizzle(swizzle), masked));
  }
  return maps;
}

}  // namespace sm90_bf16_gemm

namespace {

using sm90_bf16_gemm::TileConfig;

// KernelConfig::v fields of this family.
enum Field { kAB, kD, kLayout, kHasC, kC, kBM, kBN, kStages, kSwizzle, kSplit, kCluster, kShareB, kL2Hints };

TileConfig tile_of(const KernelConfig& c) {
  return {c.v[kBM], c.v[kBN], c.v[kStages], c.v[kSwizzle], c.v[kSplit], c.v[kCluster], c.v[kShareB], c.v[kL2Hints]};
}

// Applies a forced "NAME=value,..." onto `t`; unnamed fields keep the heuristics' choice, except
// that a config without STAGES gets the deepest pipeline that fits, without SPLIT_K no split,
// without CLUSTER no pairs, and without L2_HINTS the rule's choice for the tile.
TileConfig apply_forced(TileConfig t, const char* forced, const ProblemDesc& p, const DeviceSpec& dev) {
  bool stages_given = false, split_given = false, cluster_given = false, share_given = false, hints_given = false;
  parse_forced_config(forced, [&](const std::string& name, int value) {
    if (name == "SHARE_B" || name == "L2_HINTS") {
      if (value != 0 && value != 1) return false;
      if (name == "SHARE_B") t.share_b = value, share_given = true;
      else t.l2_hints = value, hints_given = true;
      return true;
    }
    if (value < 1 || value > 4096) return false;
    if (name == "BLOCK_M") t.block_m = value;
    else if (name == "BLOCK_N") t.block_n = value;
    else if (name == "STAGES") t.stages = value, stages_given = true;
    else if (name == "SWIZZLE_N") t.swizzle_n = value;
    else if (name == "SPLIT_K") t.split = value, split_given = true;
    else if (name == "CLUSTER") t.cluster = value, cluster_given = true;
    else return false;
    return true;
  });
  if (!split_given) t.split = 1;  // a forced config without SPLIT_K is unsplit
  if (!cluster_given) t.cluster = 1;  // ... without CLUSTER unpaired
  if (!share_given) t.share_b = 0;    // ... and pairs share A
  if (!stages_given) t.stages = sm90_bf16_gemm::max_stages(t.block_m, t.block_n, p.d, dev.smem_per_block_optin, t.split);
  if (!hints_given) t.l2_hints = l2_hints_for(p, dev, t.block_m);
  return t;
}

class Sm90Bf16Family final : public KernelFamily {
 public:
  Family family() const override { return Family::sm90; }
  const char* name() const override { return "sm90_bf16"; }

  const char* unsupported(const ProblemDesc& p, const DeviceSpec& dev) const override {
    if (dev.cc_major != 9 || dev.arch != "sm_90a") return "needs sm_90a (Hopper: TMA, wgmma, setmaxnreg)";
    if (p.a != DType::bf16 && p.a != DType::fp16) return "takes bf16 or fp16 operands only (wgmma m64nNk16)";
    if (p.a_scale != ScaleKind::none || p.b_scale != ScaleKind::none)
      return "takes no scale factors (the 16-bit recipe: single-level fp32 accumulation)";
    if (p.d != DType::bf16 && p.d != DType::fp16 && p.d != DType::fp32) return "writes bf16, fp16 or fp32 only";
    if (p.has_c && p.c != DType::fp32 && p.c != p.d) return "takes C in fp32 or D's type only";
    return nullptr;
  }

  KernelConfig choose(const ProblemDesc& p, const DeviceSpec& dev, const char* forced,
                      const GemmOptions&) const override {
    TileConfig t = sm90_bf16_gemm::choose_tile(p, dev);
    if (forced && *forced) {
      t = apply_forced(t, forced, p, dev);
      if (std::string why = sm90_bf16_gemm::check_config(t, p, dev); !why.empty())
        throw InvalidArgument("config", "sm90_bf16 " + sm90_bf16_gemm::to_string(t) + ": " + why);
    }
    sm90_common::check_tile_range(p, dev, t.block_m, t.block_n, t.swizzle_n, "sm90_bf16");
    KernelConfig c;
    c.family = Family::sm90;
    c.v[kAB] = static_cast<int>(p.a);
    c.v[kD] = static_cast<int>(p.d);
    c.v[kLayout] = static_cast<int>(p.layout);
    c.v[kHasC] = p.has_c;
    c.v[kC] = static_cast<int>(p.has_c ? p.c : DType::fp32);
    c.v[kBM] = t.block_m, c.v[kBN] = t.block_n, c.v[kStages] = t.stages, c.v[kSwizzle] = t.swizzle_n;
    c.v[kSplit] = t.split, c.v[kCluster] = t.cluster, c.v[kShareB] = t.share_b, c.v[kL2Hints] = t.l2_hints;
    return c;
  }

  std::string describe(const KernelConfig& c) const override {
    return fmt::format("{}->{} {} C={} {}", dtype_name(DType(c.v[kAB])), dtype_name(DType(c.v[kD])),
                       layout_name(Layout(c.v[kLayout])), c.v[kHasC] ? dtype_name(DType(c.v[kC])) : "none",
                       sm90_bf16_gemm::to_string(tile_of(c)));
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
        .add("STAGES", c.v[kStages])
        .add("SWIZZLE_N", c.v[kSwizzle])
        .add("SPLIT", c.v[kSplit])
        .add("CLUSTER", c.v[kCluster])
        .add("SHARE_B", c.v[kShareB] != 0)
        .add("L2_HINTS", c.v[kL2Hints] != 0);
    return render_instantiation("jit/sm90/bf16_gemm.cuh", "jit::sm90::bf16_gemm_kernel",
                                "const __grid_constant__ jit::sm90::Bf16GemmParams", args);
  }

  unsigned dynamic_smem(const KernelConfig& c) const override {
    return static_cast<unsigned>(
        sm90_bf16_gemm::smem_bytes(c.v[kBM], c.v[kBN], DType(c.v[kD]), c.v[kStages], c.v[kSplit]));
  }

  void launch(CUfunction fn, const KernelConfig& c, const GroupedGemmArgs& g, const DeviceSpec& dev,
              CUstream stream) const override {
    thread_local LaunchMemo<sm90::Bf16GemmParams> memo;
    if (const auto* m = memo.find(fn, c, g)) return launch_kernel(fn, m->dims, m->params, stream, "sm90 bf16 gemm");
    const TileConfig t = tile_of(c);
    sm90::Bf16GemmParams p{};
    const std::vector<TmaDesc> maps = sm90_bf16_gemm::tensor_maps(t, g);
    tma_encode(maps[0], &p.map_a);
    tma_encode(maps[1], &p.map_b);
    if (maps.size() > 2) tma_encode(maps[2], &p.map_d);
    p.c = g.c.data;
    fill_problem(p, g);
    p.ldc = g.c.ld;
    p.batch_c = g.c.batch_stride;

    LaunchDims d;
    d.grid[0] = static_cast<unsigned>(sm90_bf16_gemm::grid_size(t, jit::describe(g), dev));
    d.block[0] = static_cast<unsigned>(sm90::gemm_threads(t.block_m));
    d.cluster[0] = static_cast<unsigned>(t.split * t.cluster);
    d.smem = dynamic_smem(c);
    cap_grid_to_resident_clusters(fn, d);
    memo.launch(fn, c, g, d, p, stream, "sm90 bf16 gemm");
  }
};

}  // namespace

const KernelFamily& sm90_bf16_family() {
  static const Sm90Bf16Family f;
  return f;
}

}  // namespace jit::detail
