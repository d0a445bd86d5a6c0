// The sm90 FP8 family: heuristics (tile, pipeline depth, cluster, grid), codegen and launch of
// kernel_src/jit/sm90/fp8_gemm.cuh -- e4m3 with 1x128 / 128x128 scales, bf16 out, every layout.
#include "runtime/sm90_fp8_gemm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <mutex>
#include <vector>

#include "jit/errors.hpp"
#include "jit/sm90/params.cuh"
#include "jit/sm90/smem.cuh"
#include "runtime/choice_memo.hpp"
#include "runtime/codegen.hpp"
#include "runtime/family.hpp"
#include "runtime/l2_hints.hpp"
#include "runtime/sm90_common.hpp"
#include "runtime/expert_rows.hpp"
#include "runtime/launcher.hpp"
#include "runtime/validate.hpp"
#include "runtime/tma.hpp"

namespace jit::detail {

namespace sm90_fp8_gemm {

namespace {

constexpr int kMaxStages = 16;
constexpr int kMaxSplit = 4;  // CTAs per split-K cluster (8 is the portable cluster limit)

constexpr int align_up(int x, int a) { return (x + a - 1) / a * a; }

// sizeof(sm90::Fp8SharedStorage<bm, bn, stages, split>), member by member (checked below).
constexpr int storage_bytes(int bm, int bn, int stages, int split) {
  int at = bm * bn * 2;                                                     // d
  at = align_up(at, 1024) + stages * bm * sm90::kBlockK;                    // a
  at = align_up(at, 1024) + stages * bn * sm90::kBlockK;                    // b
  at = align_up(at, 128) + stages * (bm + sm90::kSfaPad) * 4;               // sfa
  at = align_up(at, 16) + stages * 16;                                      // sfb
  at = align_up(at, 16) + sm90::split_partial_floats(split, bm, bn) * 4;    // partials
  at = align_up(at, 8) + stages * 16;                                       // full, empty
  at = align_up(at, 8) + sm90::kTileRing * 16 + 16;                         // tile_*, split_*
  at = align_up(at, 16) + sm90::kTileRing * 32;                             // tiles
  return align_up(at, 1024);                                                // the struct's alignment
}
static_assert(storage_bytes(128, 128, 5, 1) == sizeof(sm90::Fp8SharedStorage<128, 128, 5>));
static_assert(storage_bytes(64, 112, 9, 1) == sizeof(sm90::Fp8SharedStorage<64, 112, 9>));
static_assert(storage_bytes(256, 96, 3, 1) == sizeof(sm90::Fp8SharedStorage<256, 96, 3>));
static_assert(storage_bytes(128, 144, 6, 1) == sizeof(sm90::Fp8SharedStorage<128, 144, 6>));
static_assert(storage_bytes(64, 64, 8, 4) == sizeof(sm90::Fp8SharedStorage<64, 64, 8, 4>));
static_assert(storage_bytes(128, 96, 4, 2) == sizeof(sm90::Fp8SharedStorage<128, 96, 4, 2>));

// Tile shapes the heuristics consider. BLOCK_N: every multiple of 16 up to 128, and the wider ones
// whose tiles span at most two B scale blocks (144, 160, 192); 192 is the widest whose two
// accumulators (wgmma + promoted, 2 x BLOCK_N / 2 registers) fit the 232-register budget. With
// BLOCK_M = 256 each consumer warpgroup has two 64-row waves, so BLOCK_N stops at 128. BLOCK_N = 16
// is in since the overlapped K loop: a 64x16 stage costs ~230 cycles instead of ~400, which makes
// it the fastest tile where N / 16 just fills the SMs (64x2112x7168: 132 tiles, 136 TFLOP/s against
// 134 for 64x32), and the sweep the model is calibrated on measures it on every shape.
constexpr int kBlockNs[] = {16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 192};

struct Shape {
  int block_m, block_n, cluster, split, share_b = 0;
};

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = [] {
    std::vector<Shape> v;
    for (int bm : {64, 128, 256})
      for (int bn : kBlockNs) {
        if (bm == 256 && bn > 128) continue;
        v.push_back({bm, bn, 1, 1});
        v.push_back({bm, bn, 2, 1});
        v.push_back({bm, bn, 2, 1, 1});  // B pairs
      }
    // Split-K (clusters of 2 or 4 CTAs on one tile): for shapes with fewer tiles than SMs, on the
    // overlapped tiles that the small-M shapes pick.
    for (int split : {2, 4})
      for (int bm : {64, 128})
        for (int bn : {32, 64, 96, 128}) v.push_back({bm, bn, 1, split});
    return v;
  }();
  return all;
}

TileConfig make_config(const Shape& s, int smem_optin) {
  return {s.block_m, s.block_n, max_stages(s.block_m, s.block_n, smem_optin, s.split), s.cluster,
          sm90_common::swizzle_for(s.block_m, s.block_n), overlap_fits(s.block_m, s.block_n) ? 1 : 0, s.split,
          0, s.share_b};
}

// ---- The performance model (estimate_cycles). Units: SM clock cycles at the ~1.75 GHz an H200
// sustains under FP8 load. The structure and the first calibration come from
// bench/sweeps_sm90_fp8_overlap_h200.txt (session 2); every constant below is fitted (coordinate
// descent, then a random search, on the log run-time error and the choices; tools/fit-fp8-model)
// to bench/sweeps_sm90_fp8_v0.20_h200.txt: the 30 PEERS.md shapes x 15 CLUSTER=1 tiles (64x32 to
// 256x128), 3 reps averaged, measured with both K loops unrolled over slot-aligned rounds (v0.19).
// The split-K constants keep their v0.6b fit (bench/sweeps_sm90_fp8_v0.6b_h200.txt; that sweep has
// no split tile). The model predicts the 432 mean run times with an RMS error of 10.1%, and its
// choices run at 0.994 of the fastest measured tile (geomean); the worst is masked 2x512 4096x7168
// (0.91), whose best tile depends on the expert sizes drawn (device data the host does not see).
// The constants are fits, not measurements: several trade off against each other.

// The consumers' work per pipeline stage (one 128-deep K block) -- the wgmma rate first: 4096 e4m3
// FMA per SM cycle nominally (fitted: ~1 model cycle per 4096, the model's clock being a fit
// too), or the wgmma's shared-memory operand reads (A 2 KB + B BLOCK_N x 32 bytes per m64k32,
// 128 B/cycle) where those take longer.
constexpr double kMmaCyclesPerFma = 1.0208174 / 4096;
// The plain K loop (OVERLAP=0: BLOCK_N > 128 or BLOCK_M = 256, and the forced/no-promotion
// variants):
//  - One warpgroup (BLOCK_M = 64) runs a serial chain: wait for the stage, 4 x wgmma, drain, release,
//    promote (N/2 FFMA per thread). The fixed part (barrier, issue and drain latencies) dominates
//    narrow tiles (v0.3: 64x32 measured ~405 cycles a stage for 64 cycles of MMA).
constexpr double kOneWgStage = 50.5171;
//  - Two warpgroups run in step on the same stage, sharing the tensor cores, then promote together
//    (N FFMA issue cycles per SM sub-partition, of which kTwoWgPromote per column show). Each
//    64-row wave's chain (wgmma issue, drain, promotion) has a floor (kWaveFloor) that the other
//    warpgroup's MMAs cannot hide when they are short (v0.3: 256x64 measured ~1000 cycles a stage,
//    two waves, for 573 of MMA). With one wave per warpgroup (BLOCK_M = 128: the wide tiles
//    128x144..192) the two warpgroups' chains interleave better than the sum says: kPlainOneWave.
constexpr double kTwoWgStage = 157.743, kWaveFloor = 153.744, kTwoWgPromote = 0.191408, kPlainOneWave = 0.880095;
//  - A tile whose columns straddle two 128-wide B scale blocks (BLOCK_N 48, 80, 96, 112, 144, 160,
//    192) promotes with two scales, chosen once per group of column blocks (sm90/fp8_promote.cuh),
//    and pays per promotion.
constexpr double kStraddleOneWg = 85.8368, kStraddleTwoWg = 3.38208, kStraddleTwoWgPerColumn = 0.33301;
// The overlapped K loop (OVERLAP=1, sm90/fp8_consume_overlapped.cuh): each warpgroup keeps the next
// stage's wgmma in flight while it waits for the older one, releases its slot and promotes it, so
// that chain (barrier wait, issue, release, promotion) runs beside the tensor cores instead of after
// them. A stage takes a soft maximum (kOverlapNorm) of the MMAs of all active waves and one
// warpgroup's chain: ~190 cycles with one warpgroup, ~290 with two (they share the SM's issue slots
// and the promotion is 2 x N FFMA per sub-partition), plus the straddle's second scale.
constexpr double kOverlapOneWg = 163.485, kOverlapTwoWg = 213.116, kOverlapNorm = 1.4;
constexpr double kOverlapStraddle = 3.0151, kOverlapStraddleOneWgPerColumn = 0.915175,
                 kOverlapStraddleTwoWgPerColumn = 0.463556;
// With few busy SMs the GPU runs a higher clock (the H200 boosts up to 1.98 GHz, 13% above the loaded
// clock): the consumers' cycles shrink by up to kClockBoost as the grid empties (64x2112x7168 on 17
// to 33 CTAs runs the consumer-bound stages ~5-8% faster than the 4096-row shapes on 132).
constexpr double kClockBoost = 0.163846;

// Bytes into the SM per stage (A rows, out-of-bounds ones included: TMA writes their zeros to
// shared memory all the same; B rows; A scales) come through L2: one SM's TMA pulls at most
// kSmFeed bytes a cycle, and the L2 delivers kL2FeedPerSm per SM (7600 B/cycle, ~13 TB/s, on 132
// SMs: the large-M rate of the overlapped tiles -- 64x64 moves 16.6 KB in ~285 cycles a stage,
// 128x64 25 KB in ~480). A grid of fewer CTAs gets more each.
constexpr double kSmFeed = 71.0581, kL2FeedPerSm = 60.191;

// A stage's load latency, hidden by the stages in flight: an L2 hit, plus for first-touch data an
// HBM miss whose queueing grows with the CTAs streaming at once. A stage waits for its slowest load,
// so the first-touch share is the largest of: the kernel's unique/loaded byte ratio; the first tile
// of every CTA (they start together, so sharers wait on the same misses); and the stages whose B
// tile this window of CTAs is the first to read -- the window covers grid / SWIZZLE_N m-blocks, an
// expert has tiles / N blocks / G of them -- of which ~kBFirst wait (the rest find the line already
// requested). This is what makes deep pipelines win at small M: 64x64 (13 stages) beats 128x64 (8)
// on 64x7168x16384 by 1.7x; and it is what slows the 1-3-wave 64xN tiles of 64x24576x1536 (B read
// once, every stage a miss).
constexpr double kLatencyHit = 1357.18, kLatencyMiss = 2820.9, kBFirst = 0.65787;

// A stage is a soft maximum (kStageNorm) of the consumers, the feed and the latency over the stages
// in flight: the three overlap imperfectly.
constexpr double kStageNorm = 18;

// Per tile: the epilogue -- a fixed part (drain, barriers, TMA store issue) and the stmatrix of the
// bf16 tile, which each consumer warpgroup does for its own rows (a 64x128 tile takes one
// warpgroup twice as long as a 128x64 tile takes two) -- and in the m_indices layout the expert-id
// loads the consumers wait on at the tile's start.
constexpr double kEpilogueFixed = 1117.1, kEpilogueBytesPerCycle = 93.9005, kIndicesPerTile = 1137.8;

// Per kernel: launch, prologue (barrier init, descriptor fetch, first loads) and the tail, which
// nothing overlaps; then the CTAs' path and the HBM traffic, combined in a 2-norm (streaming from
// HBM and computing overlap only in part). kHbmBytesPerCycle: the rate of the unique traffic,
// 128-byte rows strided by K (~4.4 TB/s under that combination; the HBM-bound shapes measure 2-3.3
// TB/s overall, fixed cost included).
constexpr double kKernelFixed = 10274.2, kHbmBytesPerCycle = 2541.08;
// B tiles shared by several m-blocks are not all L2 hits: sharers drift apart and the L2 evicts in
// between, so each m-block beyond an expert's first re-fetches ~kBRefetch of its B bytes from HBM.
// Fitted to the sweep; it is what the 64-row tiles lose where B traffic dominates: moe-contiguous
// 32x256 4096x7168 (v0.5: 64x128 469 TFLOP/s against 865 for 128x128; even with this term the
// model stays optimistic there) and 128x7168x16384 (128x64 beats 64x128, same grid and stages).
constexpr double kBRefetch = 0.235299;

// Not calibrated: CLUSTER=2 is no candidate of the heuristics (see choose_tile); forced only.
constexpr double kClusterStart = 1000;

// Split-K (bench/sweeps_sm90_*_split_h200.txt, session 3): per tile, the partials' round trip
// through the cluster and their bytes, written into rank 0's shared memory and read back there;
// and a K loop slower per stage than unsplit (measured, cause not found: with the exchange
// compiled out, 64x64 split 2 still ran 4096x7168x16384 at 226 against 304 TFLOP/s unsplit).
// Split wins only where tiles are far fewer than SMs, by a few percent (BF16 128x2112x7168 and
// 128x4096x7168); on the FP8 v0.6b sweep no PEERS shape's best tile is a split one.
constexpr double kSplitFixed = 2109.62, kSplitBytesPerCycle = 52.2617, kSplitStage = 2.00062;

// What the host can know of the tiles: their expected count, its variance (expert sizes are
// device data), the rows per expert, and the experts with rows.
struct TilePlan {
  double tiles, variance, rows, groups;
};

// B pairs (share_b) run the scheduler on 2 x BLOCK_M rows and give each half to one CTA of the pair:
// a half without rows (an expert's odd last block, padding) is a null step that still takes its
// CTA's time, so the tiles counted are twice the pairs.
TilePlan plan_tiles(const TileConfig& c, const ProblemDesc& p) {
  const double nb = std::ceil(double(p.n) / c.block_n);
  const int halves = c.share_b ? 2 : 1, bm = c.block_m * halves;
  TilePlan t{0, 0, 1, p.layout == Layout::dense ? 1.0 : double(p.num_groups)};
  if (p.layout == Layout::dense || p.layout == Layout::contiguous_indices) {
    t.rows = std::max(1.0, double(p.m) / t.groups);
    double blocks = std::ceil(double(p.m) / bm);
    // Experts are padded to 128 rows; a 64-row block of pure padding is skipped, which happens at
    // the end of about every other expert.
    if (p.layout == Layout::contiguous_indices && bm < kContiguousAlignment)
      blocks = std::max(1.0, blocks - t.groups / 2);
    t.tiles = blocks * nb * halves;
    return t;
  }
  // Masked: m is max_m, per expert; the rows planned for are expected_m when given.
  t.rows = p.layout == Layout::contiguous_offsets ? double(p.m) / t.groups
           : p.expected_m > 0                     ? double(std::min<std::int64_t>(p.expected_m, p.m))
                                                  : double(p.m);
  t.rows = std::max(1.0, t.rows);
  double mean = 0, var = 0;
  expert_rows::expert_blocks(t.rows, bm, t.groups > 1 ? expert_rows::kRowSpread : 0.0, &mean, &var);
  t.tiles = t.groups * mean * nb * halves;
  t.variance = t.groups * var * nb * nb * halves * halves;
  return t;
}

// Tiles per CTA: whole waves; with a varying tile count, the expected number over its (normal)
// distribution, so a plan just past a wave boundary is not charged a whole extra wave.
double waves(const TilePlan& t, double grid, double nb) {
  if (t.variance <= 0) return std::ceil(t.tiles / grid - 1e-9);
  const double sd = std::sqrt(t.variance) / nb, mean = t.tiles / nb;  // in m-blocks
  // E[W] = sum over k >= 0 of P(W > k), W > k <=> blocks >= floor(k grid / nb) + 1.
  const double lo = std::max(0.0, std::floor((mean - 8 * sd) * nb / grid));
  double e = lo;
  for (double k = lo;; ++k) {
    const double above = 1 - expert_rows::normal_cdf((std::floor(k * grid / nb) + 0.5 - mean) / sd);
    if (above < 1e-6 && k * grid / nb > mean) break;
    e += above;
  }
  return std::max(1.0, e);
}

// The consumers' cycles per stage for tiles of `rows` valid rows (waves without rows skip their
// MMAs: warpgroup w owns rows [w BLOCK_M / 2, (w + 1) BLOCK_M / 2) in 64-row waves).
double consumer_stage(const TileConfig& c, double rows) {
  const double n = c.block_n;
  const bool straddle = sm90::kBlockK % c.block_n != 0;
  // One 64-row wave's 4 x wgmma m64nNk32: the tensor rate, or its shared-memory operand reads.
  const double mma = 4 * std::max(64 * n * 32 * kMmaCyclesPerFma, (2048 + 32 * n) / 128);
  const int wgs = c.block_m == 64 ? 1 : 2, per_wg = c.block_m / wgs / 64, rows_wg = c.block_m / wgs;
  const int r = static_cast<int>(std::min<double>(c.block_m, std::max(1.0, rows)));
  const int w0 = std::min(per_wg, (std::min(r, rows_wg) + 63) / 64);
  const int w1 = wgs == 1 ? 0 : std::min(per_wg, (std::max(0, r - rows_wg) + 63) / 64);
  if (c.overlap) {
    // The tensor cores run every active wave's MMAs; beside them, each warpgroup's chain.
    const double chain = (wgs == 1 ? kOverlapOneWg : kOverlapTwoWg) +
                         (straddle ? kOverlapStraddle + (wgs == 1 ? kOverlapStraddleOneWgPerColumn
                                                                  : kOverlapStraddleTwoWgPerColumn) * n
                                   : 0);
    return std::pow(std::pow((w0 + w1) * mma, kOverlapNorm) + std::pow(chain, kOverlapNorm), 1 / kOverlapNorm);
  }
  if (wgs == 1) return kOneWgStage + mma + n / 2 + 24 + (straddle ? kStraddleOneWg : 0);
  double t = kTwoWgStage;
  for (int v = 0; v < std::max(w0, w1); ++v) {
    const double wave = ((v < w0) + (v < w1)) * 4 * 64 * n * 32 * kMmaCyclesPerFma + kTwoWgPromote * n +
                        (straddle ? kStraddleTwoWg + kStraddleTwoWgPerColumn * n : 0);
    t += std::pow(std::pow(wave, 8) + std::pow(kWaveFloor, 8), 1.0 / 8);  // soft max with the floor
  }
  return per_wg == 1 ? kPlainOneWave * t : t;
}

}  // namespace

std::string to_string(const TileConfig& c) {
  return fmt::format("BLOCK_M={},BLOCK_N={},STAGES={},CLUSTER={},SWIZZLE_N={},OVERLAP={}{}{}{}", c.block_m, c.block_n,
                     c.stages, c.cluster, c.swizzle_n, c.overlap,
                     c.split > 1 ? fmt::format(",SPLIT_K={}", c.split) : std::string(), c.l2_hints ? ",L2_HINTS=1" : "",
                     c.share_b ? ",SHARE_B=1" : "");
}

int smem_bytes(int block_m, int block_n, int stages, int split) {
  return storage_bytes(block_m, block_n, stages, split);
}

int max_stages(int block_m, int block_n, int smem_optin, int split) {
  int s = kMaxStages;
  while (s > 0 && storage_bytes(block_m, block_n, s, split) > smem_optin) --s;
  return s;
}

std::span<const TileConfig> candidate_configs(Layout layout, int smem_optin) {
  static std::mutex mu;
  static std::map<std::pair<int, int>, std::vector<TileConfig>> lists;  // never erased: spans stay valid
  std::lock_guard lk(mu);
  auto [it, fresh] = lists.try_emplace({static_cast<int>(layout), smem_optin});
  if (fresh) {
    ProblemDesc p;
    p.layout = layout;
    DeviceSpec dev = flagship_device("sm_90a");
    dev.smem_per_block_optin = smem_optin;
    for (const Shape& s : shapes()) {
      const TileConfig c = make_config(s, smem_optin);
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
  if (!sm90::fp8_block_n_ok(c.block_n))
    return "BLOCK_N must be a multiple of 16 up to 128, or 144, 160, 192 (a tile may span at most two "
           "128-wide B scale blocks)";
  // The two fp32 accumulators take BLOCK_N registers per 64-row wave plus BLOCK_N / 2.
  const int waves = c.block_m == 256 ? 2 : 1;
  if (c.block_n * (waves + 1) / 2 > 192)
    return "BLOCK_N too wide for BLOCK_M: the accumulators would not fit the consumers' registers";
  if (c.stages < 1 || c.stages > kMaxStages) return fmt::format("STAGES must be in [1, {}]", kMaxStages);
  if (c.split < 1 || c.split > kMaxSplit) return fmt::format("SPLIT_K must be in [1, {}]", kMaxSplit);
  if (c.split > 1 && p.k > 0 && (p.k + sm90::kBlockK - 1) / sm90::kBlockK < c.split)
    return fmt::format("SPLIT_K={} needs K >= {} (one 128-wide K block per split at least)", c.split,
                       (c.split - 1) * sm90::kBlockK + 1);
  if (c.split > dev.num_sms) return "SPLIT_K must not exceed the SMs";
  if (c.overlap != 0 && (c.overlap != 1 || !overlap_fits(c.block_m, c.block_n)))
    return "OVERLAP must be 0, or 1 with BLOCK_M <= 128 and BLOCK_N <= 128 (three accumulators)";
  if (c.swizzle_n < 1 || c.swizzle_n > 64) return "SWIZZLE_N must be in [1, 64]";
  if (c.l2_hints != 0 && c.l2_hints != 1) return "L2_HINTS must be 0 or 1";
  if (std::string why = sm90_common::check_cluster(c.cluster, c.split, c.swizzle_n, c.share_b, dev); !why.empty())
    return why;
  if (p.layout == Layout::contiguous_indices && c.block_m > kContiguousAlignment)
    return fmt::format("the contiguous_indices layout needs BLOCK_M <= the expert alignment {}", kContiguousAlignment);
  if (sm90::sfa_box_rows(p.layout, c.block_m) > 256)
    return "the contiguous_offsets layout needs BLOCK_M <= 128 (its A-scale box has 4 extra rows; TMA boxes stop at 256)";
  const int smem = storage_bytes(c.block_m, c.block_n, c.stages, c.split);
  if (smem > dev.smem_per_block_optin)
    return fmt::format("needs {} bytes of shared memory; {} allows {}", smem, dev.name, dev.smem_per_block_optin);
  return {};
}

// The model (constants and calibration above). A CTA runs `waves` tiles; a tile, num_kb pipeline
// stages and an epilogue. A stage takes a soft maximum (kStageNorm: the three overlap imperfectly) of
//  - the consumers' MMAs and promotion (consumer_stage; overlapped or plain K loop), at the clock
//    the grid's size allows,
//  - the stage's bytes at the SM's share of the L2 -> SM bandwidth (A halved by multicast),
//  - the load latency over the stages in flight.
// The kernel adds its fixed cost to a 2-norm of that CTA path and its HBM traffic (unique bytes,
// B re-fetched by later sharers, D). What this steers: whole waves and fewer, cheaper tiles at large
// M (256x128, 128x128: bytes per FLOP, the straddle cost, B re-fetches); at small M, more CTAs and
// deeper pipelines (64x16, 64x32, 64x64: latency); with few experts' rows, the expected waves of the
// varying tile count (masked, offsets).
double estimate_cycles(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  const TilePlan plan = plan_tiles(c, p);
  const double tiles = std::max(1.0, plan.tiles), nb = std::ceil(double(p.n) / c.block_n);
  // Under split-K a CTA's unit is one split of a tile: `split` units per tile, with the largest
  // share of the K blocks; the cluster's tiles run side by side (grid / split of them).
  const double split = c.split, units = tiles * split;
  const double grid = std::max(1.0, std::min<double>(grid_size(c, p, dev), std::ceil(units)));
  const double per_cta = waves(TilePlan{units, plan.variance * split * split, plan.rows, plan.groups}, grid, nb * split);
  const double num_kb = std::ceil(std::ceil(double(p.k) / sm90::kBlockK) / split);
  const double sms = std::max(1, dev.num_sms);

  // A multicast pair loads half of the operand it shares (A, or B with SHARE_B) per CTA.
  const auto boxes = sm90_common::operand_boxes(c.block_m, c.block_n, c.cluster, c.share_b);
  const double stage_bytes = double(boxes.a_rows + boxes.b_rows) * sm90::kBlockK + c.block_m * 4.0;
  const double feed = stage_bytes / std::min(kSmFeed, kL2FeedPerSm * sms / grid);
  const double valid_rows = plan.rows * plan.groups;
  const double unique = plan.groups * p.n * double(p.k) + valid_rows * p.k;
  // The first-touch share of the stages (see kBFirst): m-blocks per expert against those the
  // window of running CTAs covers.
  const double m_blocks = tiles / nb, expert_m_blocks = std::max(1.0, m_blocks / plan.groups);
  const double window_m_blocks = grid / split / std::min<double>(std::max(1, c.swizzle_n), nb);
  const double first_touch = std::max({std::min(1.0, unique / (units * num_kb * stage_bytes)), 1 / per_cta,
                                       kBFirst * std::min(1.0, window_m_blocks / expert_m_blocks)});
  const double latency = kLatencyHit + first_touch * kLatencyMiss * std::sqrt(grid / sms);
  const double consumers = consumer_stage(c, plan.rows) / (1 + kClockBoost * (1 - std::min(grid, sms) / sms));
  const double stage = std::pow(std::pow(consumers, kStageNorm) + std::pow(feed, kStageNorm) +
                                    std::pow(latency / c.stages, kStageNorm),
                                1 / kStageNorm);
  const int wgs = c.block_m == 64 ? 1 : 2;
  const double epilogue = kEpilogueFixed + c.block_m / wgs * c.block_n * 2.0 / kEpilogueBytesPerCycle +
                          (p.layout == Layout::contiguous_indices ? kIndicesPerTile : 0);
  // Split-K: rank 0 waits for the peers' partials (written into its shared memory) and reads them.
  const double exchange = c.split > 1 ? kSplitFixed + (split - 1) * c.block_m * c.block_n * 4 / kSplitBytesPerCycle : 0;
  const double path =
      per_cta * (num_kb * stage * (c.split > 1 ? kSplitStage : 1) + epilogue + exchange) +
      (c.cluster == 2 ? kClusterStart : 0);
  // B pairs fetch each B tile once for both m-blocks.
  const double b_fetchers = c.share_b ? std::ceil(m_blocks / 2) : m_blocks;
  const double refetch = kBRefetch * std::max(0.0, b_fetchers - plan.groups) * p.n * double(p.k);
  const double hbm = (unique + refetch + valid_rows * p.n * 2) / kHbmBytesPerCycle;
  return kKernelFixed + std::sqrt(path * path + hbm * hbm);
}

int grid_size(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  // Work per CTA: a tile, or under split-K one split of a tile (the cluster takes the tile).
  const double tiles = std::max(1.0, std::min(sm90_common::max_tiles(p, c.block_m, c.block_n), std::max(1.0, plan_tiles(c, p).tiles)));
  return sm90_common::persistent_grid(tiles * c.split, dev, c.cluster * c.split, p.layout == Layout::masked);
}

// The overlapped loop's stages for a tile of `kb` K blocks, at most `max` (bench/NOTES.md v0.19).
// Every tile starts on slot 0, so it takes ceil(kb / STAGES) rounds and the slots past its last K
// block in the last round carry nothing: the pipeline holds kb / rounds K blocks on average. The
// fewest rounds (those of `max`) with the fewest slots: the K blocks spread evenly over them
// (64x64 on 16 K blocks: 8 stages in 2 rounds, not 13 with 10 empty slots). Odd counts above 6 go
// to the next even one (down where that would exceed max): the loop is unrolled over lcm(STAGES,
// 2) slots, and 26 steps of 64x64 measured 5-7% slower than 24 (S13 vs S12, one or five rounds).
// Shallow pipelines (max < 8: 128x128's 5) keep their depth: 128x128 on 16 K blocks ran 4-6% slower
// with 4 stages in 4 rounds than with 5 stages and 4 empty slots (masked 7168x2048, H200).
int round_stages(int max, i64 kb) {
  if (max < 8) return max;
  const i64 rounds = std::max<i64>(1, (kb + max - 1) / max);
  int s = static_cast<int>(std::min<i64>(max, (kb + rounds - 1) / rounds));
  if (s % 2 == 1 && s > 6) s = s + 1 <= max ? s + 1 : s - 1;
  return std::max(s, 2);
}

TileConfig choose_tile(const ProblemDesc& p, const DeviceSpec& dev) {
  // choose() runs on every launch: remember this thread's last answer (a call repeated with the
  // same shape then costs a few compares instead of ~60 estimates).
  thread_local ChoiceMemo<TileConfig> memo;
  TileConfig remembered;
  if (memo.find(p, dev, &remembered)) return remembered;

  TileConfig best;
  double best_cycles = 0;
  for (const TileConfig& c : candidate_configs(p.layout, dev.smem_per_block_optin)) {
    // Measured on an H200 (bench/NOTES.md, v0.2): with cluster-scope release/acquire on every
    // per-stage remote arrive, 2-CTA multicast ran 1.3-1.8x slower than CLUSTER=1; with CTA-scope
    // arrives it matches CLUSTER=1 within 3% (4096x7168x16384 256x128: 1229 vs 1202) but gains
    // nothing, so the model (calibrated on CLUSTER=1 only) keeps it out. It can still be forced.
    // With the overlapped loop (the CLUSTER=2 lines of bench/sweeps_sm90_fp8_overlap_h200.txt:
    // 64x64, 64x128, 128x96, 128x112, 128x128) the best CLUSTER=2 tile of a shape measures 0.84-1.05x
    // the best CLUSTER=1 one, geomean ~0.96 (only the moe-contiguous 7168x2048 shapes gain, 0-5%).
    // B pairs (SHARE_B: two m-blocks sharing B, DeepGEMM's choice on large MoE shapes) measured
    // 0.95-1.04x the best unpaired tile on the large contiguous shapes and below it elsewhere
    // (3 reps, bench/sweeps_sm90_fp8_pairs_v0.20_h200.txt; bench/NOTES.md v0.20): forced only too.
    if (c.cluster == 2) continue;
    const double cycles = estimate_cycles(c, p, dev);
    if (best.block_m == 0 || cycles < best_cycles * 0.999) best = c, best_cycles = cycles;
  }
  if (best.block_m == 0) throw Unsupported("jit: sm90_fp8: no tile config fits " + dev.name);
  if (best.overlap) {
    const i64 kb = (p.k + sm90::kBlockK - 1) / sm90::kBlockK;
    best.stages = round_stages(best.stages, (kb + best.split - 1) / best.split);  // a CTA's K blocks
  }
  best.l2_hints = l2_hints_for(p, dev, best.block_m);
  memo.store(p, dev, best);
  return best;
}

std::array<TmaDesc, 4> tensor_maps(const TileConfig& t, const GroupedGemmArgs& g) {
  const bool masked = g.layout == Layout::masked;
  const int groups = masked ? g.num_groups : 1;  // A, its scales and D are batched only if masked
  const i64 kb = (g.k + sm90::kBlockK - 1) / sm90::kBlockK;
  const int swizzle = sm90::d_swizzle_bytes(t.block_n);
  const auto boxes = sm90_common::operand_boxes(t.block_m, t.block_n, t.cluster, t.share_b);
  return {
      // A: [m, K] (masked: [G, max_m, K]); B: [G, N, K]; 128-byte rows of K, 128-byte swizzle; boxes
      // of what one CTA of a pair loads (operand_boxes).
      tma_matrix("a", g.a.data, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, g.m, g.k, g.a.ld, groups, g.a.batch_stride,
                 static_cast<std::uint32_t>(boxes.a_rows), sm90::kBlockK, TmaSwizzle::b128, masked),
      tma_matrix("b", g.b.data, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, g.n, g.k, g.b.ld, g.num_groups,
                 g.b.batch_stride, static_cast<std::uint32_t>(boxes.b_rows), sm90::kBlockK, TmaSwizzle::b128, true),
      // A scales, M-major: one row of m floats per K block, ld apart; a box is one K block's
      // scales of the tile's rows.
      tma_matrix("a_scales", g.a_scales.data, CU_TENSOR_MAP_DATA_TYPE_FLOAT32, 4, kb, g.m, g.a_scales.ld, groups,
                 g.a_scales.batch_stride, 1, static_cast<std::uint32_t>(sm90::sfa_box_rows(g.layout, t.block_m)),
                 TmaSwizzle::none, masked),
      // D: one box per column chunk of a consumer warpgroup's rows of the swizzled smem tile.
      tma_matrix("d", g.d.data, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, g.m, g.n, g.d.ld, groups, g.d.batch_stride,
                 static_cast<std::uint32_t>(sm90::epilogue_box_rows(t.block_m)), static_cast<std::uint32_t>(swizzle / 2),
                 TmaSwizzle(swizzle), masked),
  };
}

}  // namespace sm90_fp8_gemm

namespace {

using sm90_fp8_gemm::TileConfig;

// KernelConfig::v fields of this family.
enum Field { kLayout, kBM, kBN, kStages, kCluster, kSwizzle, kNoPromotion, kOverlap, kSplit, kL2Hints, kShareB };

TileConfig tile_of(const KernelConfig& c) {
  return {c.v[kBM],    c.v[kBN],    c.v[kStages],   c.v[kCluster], c.v[kSwizzle],
          c.v[kOverlap], c.v[kSplit], c.v[kL2Hints], c.v[kShareB]};
}

// Applies a forced "NAME=value,..." onto `t`; unnamed fields keep the heuristics' choice, except
// that a config without STAGES gets the deepest pipeline that fits, without OVERLAP the overlapped
// loop where it fits, without SPLIT_K no split, without SHARE_B pairs that share A, and without
// L2_HINTS the rule's choice for the tile.
TileConfig apply_forced(TileConfig t, const char* forced, const ProblemDesc& p, const DeviceSpec& dev) {
  bool stages_given = false, overlap_given = false, split_given = false, hints_given = false, share_given = false;
  parse_forced_config(forced, [&](const std::string& name, int value) {
    if (name == "OVERLAP" || name == "L2_HINTS" || name == "SHARE_B") {
      if (value != 0 && value != 1) return false;
      if (name == "OVERLAP") t.overlap = value, overlap_given = true;
      else if (name == "SHARE_B") t.share_b = value, share_given = true;
      else t.l2_hints = value, hints_given = true;
      return true;
    }
    if (value < 1 || value > 4096) return false;
    if (name == "BLOCK_M") t.block_m = value;
    else if (name == "BLOCK_N") t.block_n = value;
    else if (name == "STAGES") t.stages = value, stages_given = true;
    else if (name == "CLUSTER") t.cluster = value;
    else if (name == "SWIZZLE_N") t.swizzle_n = value;
    else if (name == "SPLIT_K") t.split = value, split_given = true;
    else return false;
    return true;
  });
  if (!split_given) t.split = 1;  // a forced config without SPLIT_K is unsplit
  if (!share_given) t.share_b = 0;
  if (!stages_given) t.stages = sm90_fp8_gemm::max_stages(t.block_m, t.block_n, dev.smem_per_block_optin, t.split);
  if (!overlap_given) t.overlap = sm90_fp8_gemm::overlap_fits(t.block_m, t.block_n) ? 1 : 0;
  if (!hints_given) t.l2_hints = l2_hints_for(p, dev, t.block_m);
  return t;
}

class Sm90Fp8Family final : public KernelFamily {
 public:
  Family family() const override { return Family::sm90; }
  const char* name() const override { return "sm90_fp8"; }

  const char* unsupported(const ProblemDesc& p, const DeviceSpec& dev) const override {
    if (dev.cc_major != 9 || dev.arch != "sm_90a") return "needs sm_90a (Hopper: TMA, wgmma, setmaxnreg)";
    if (p.a != DType::e4m3) return "takes e4m3 operands only (the FP8 recipe)";
    if (p.a_scale != ScaleKind::block_1x128 || p.b_scale != ScaleKind::block_128x128)
      return "takes block_1x128 A scales and block_128x128 B scales only";
    if (p.d != DType::bf16) return "writes bf16 output only";
    if (p.has_c) return "does not accumulate into C (D = A B^T only)";
    return nullptr;
  }

  KernelConfig choose(const ProblemDesc& p, const DeviceSpec& dev, const char* forced,
                      const GemmOptions& opts) const override {
    TileConfig t = sm90_fp8_gemm::choose_tile(p, dev);
    if (forced && *forced) {
      t = apply_forced(t, forced, p, dev);
      if (std::string why = sm90_fp8_gemm::check_config(t, p, dev); !why.empty())
        throw InvalidArgument("config", "sm90_fp8 " + sm90_fp8_gemm::to_string(t) + ": " + why);
    }
    // The scheduler counts tiles in int; the grid adds at most its own size on top.
    const double mb = std::ceil(double(p.m) / t.block_m), nb = std::ceil(double(p.n) / t.block_n);
    const double tiles = (mb + (p.layout == Layout::contiguous_offsets ? p.num_groups : 0)) * nb *
                         (p.layout == Layout::masked ? p.num_groups : 1);
    if (tiles + 2.0 * dev.num_sms > INT_MAX || mb * t.swizzle_n > INT_MAX)
      throw Unsupported(fmt::format("jit: sm90_fp8: {:.3g} tiles of {}x{} overflow the scheduler's int tile index",
                                    tiles, t.block_m, t.block_n));
    KernelConfig c;
    c.family = Family::sm90;
    c.v[kLayout] = static_cast<int>(p.layout);
    c.v[kBM] = t.block_m, c.v[kBN] = t.block_n, c.v[kStages] = t.stages;
    c.v[kCluster] = t.cluster, c.v[kSwizzle] = t.swizzle_n;
    c.v[kNoPromotion] = opts.fp8_no_promotion;
    // The no-promotion test loop keeps one accumulator in the tensor core: no overlap there.
    c.v[kOverlap] = opts.fp8_no_promotion ? 0 : t.overlap;
    c.v[kSplit] = opts.fp8_no_promotion ? 1 : t.split;
    c.v[kL2Hints] = t.l2_hints;
    c.v[kShareB] = t.share_b;
    return c;
  }

  std::string describe(const KernelConfig& c) const override {
    return fmt::format("e4m3->bf16 {} {}{}", layout_name(Layout(c.v[kLayout])), sm90_fp8_gemm::to_string(tile_of(c)),
                       c.v[kNoPromotion] ? " NO_PROMOTION" : "");
  }

  KernelSource render(const KernelConfig& c) const override {
    TemplateArgs args;
    args.add("LAYOUT", Layout(c.v[kLayout]))
        .add("BLOCK_M", c.v[kBM])
        .add("BLOCK_N", c.v[kBN])
        .add("STAGES", c.v[kStages])
        .add("CLUSTER", c.v[kCluster])
        .add("SWIZZLE_N", c.v[kSwizzle])
        .add("NO_PROMOTION", c.v[kNoPromotion] != 0)
        .add("OVERLAP", c.v[kOverlap] != 0)
        .add("SPLIT", c.v[kSplit])
        .add("L2_HINTS", c.v[kL2Hints] != 0)
        .add("SHARE_B", c.v[kShareB] != 0);
    return render_instantiation("jit/sm90/fp8_gemm.cuh", "jit::sm90::fp8_gemm_kernel",
                                "const __grid_constant__ jit::sm90::Fp8GemmParams", args);
  }

  unsigned dynamic_smem(const KernelConfig& c) const override {
    return static_cast<unsigned>(sm90_fp8_gemm::smem_bytes(c.v[kBM], c.v[kBN], c.v[kStages], c.v[kSplit]));
  }

  void launch(CUfunction fn, const KernelConfig& c, const GroupedGemmArgs& g, const DeviceSpec& dev,
              CUstream stream) const override {
    thread_local LaunchMemo<sm90::Fp8GemmParams> memo;
    if (const auto* m = memo.find(fn, c, g)) return launch_kernel(fn, m->dims, m->params, stream, "sm90 fp8 gemm");
    const TileConfig t = tile_of(c);
    sm90::Fp8GemmParams p{};
    const auto maps = sm90_fp8_gemm::tensor_maps(t, g);
    tma_encode(maps[0], &p.map_a);
    tma_encode(maps[1], &p.map_b);
    tma_encode(maps[2], &p.map_sfa);
    tma_encode(maps[3], &p.map_d);
    p.sfb = g.b_scales.data;
    fill_problem(p, g);
    p.sfb_ld = g.b_scales.ld;
    p.sfb_batch = g.b_scales.batch_stride;

    LaunchDims d;
    d.grid[0] = static_cast<unsigned>(sm90_fp8_gemm::grid_size(t, jit::describe(g), dev));
    d.block[0] = static_cast<unsigned>(sm90::fp8_threads(t.block_m));
    d.cluster[0] = static_cast<unsigned>(t.cluster * t.split);
    d.smem = dynamic_smem(c);
    cap_grid_to_resident_clusters(fn, d);
    memo.launch(fn, c, g, d, p, stream, "sm90 fp8 gemm");
  }
};

}  // namespace

const KernelFamily& sm90_fp8_family() {
  static const Sm90Fp8Family f;
  return f;
}

}  // namespace jit::detail
