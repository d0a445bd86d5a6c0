// The sm90 16-bit family: heuristics (tile, pipeline depth, grid), codegen and launch of
// kernel_src/jit/sm90/bf16_gemm.cuh -- bf16/fp16 operands, bf16/fp16/fp32 D, optional C, every
// layout, on sm_90a. Registered before sm80, which then serves 16-bit inputs only before Hopper.
//
// NOTES on the heuristics: every candidate is scored by an estimate of its run time in SM clock
// cycles; the smallest wins (ties: the earlier candidate). The model (estimate_cycles) is the FP8
// family's without the promotion:
// - A CTA runs ceil(tiles / grid) tiles, each num_kb 64-wide K stages plus an epilogue. Waves are
//   whole: a last partial wave costs a full one (what steers BLOCK_M/BLOCK_N to tile counts that
//   fill the SMs, e.g. BLOCK_N = 192 for N = 2112 = 11 x 192).
// - A stage takes the longest of: the tensor cores (per 64-row wave, 4 x m64nNk16 at 2048 FMA per
//   clock, or the shared-memory reads of A and B at 128 B/clock if slower: 128 x 256 tiles read
//   less smem per FMA than 256 x 128 ones); the stage's bytes at what one SM's TMA pulls from L2;
//   the load latency spread over the stages in flight.
// - The kernel takes at least the CTA's path, all L2 -> SM traffic at the L2's bandwidth (what big
//   tiles cut), and the unique HBM traffic (A, B, D and C once): the bound of the M <= 128 and
//   decode shapes, where the faster path (more, smaller tiles) still breaks the tie.
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
#include "runtime/launcher.hpp"
#include "runtime/sm90_common.hpp"

namespace jit::detail {

namespace sm90_bf16_gemm {

namespace {

constexpr int kMaxStages = 16;

constexpr int align_up(int x, int a) { return (x + a - 1) / a * a; }

// sizeof(sm90::Bf16SharedStorage<...>), member by member (checked below).
constexpr int storage_bytes(int bm, int bn, DType d, int stages) {
  int at = sm90::bf16_d_tile_bytes(bm, bn, d);                               // d
  at = align_up(at, 1024) + stages * bm * sm90::kStageRowBytes;              // a
  at = align_up(at, 1024) + stages * bn * sm90::kStageRowBytes;              // b
  at = align_up(at, 16) + stages * 16 + sm90::kTileRing * (16 + 32);         // sync: barriers, TileInfo
  return align_up(at, 1024);                                                 // the struct's alignment
}
template <int BM, int BN, int S, DType D>
constexpr bool storage_matches() {
  return storage_bytes(BM, BN, D, S) == sizeof(sm90::Bf16SharedStorage<BM, BN, S, sm90::bf16_d_tile_bytes(BM, BN, D)>);
}
static_assert(storage_matches<128, 256, 3, DType::bf16>());
static_assert(storage_matches<64, 48, 13, DType::fp16>());
static_assert(storage_matches<256, 112, 4, DType::fp32>());
static_assert(storage_matches<128, 80, 5, DType::bf16>());

// Tile shapes the heuristics consider. Accumulators take BLOCK_N / 2 registers per 64-row wave and
// thread, at most 128 of the consumers' 232: BLOCK_N up to 256 with one wave per warpgroup
// (BLOCK_M 64, 128), up to 128 with two (BLOCK_M 256). BLOCK_M = 128 stops at BLOCK_N = 64 below:
// narrower tiles there lose to BLOCK_M = 64 ones (twice the CTAs, the same A traffic per FMA).
struct Shape {
  int block_m, block_n;
};

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = [] {
    std::vector<Shape> v;
    for (int bn = 16; bn <= 256; bn += 16) v.push_back({64, bn});
    for (int bn = 64; bn <= 256; bn += 16) v.push_back({128, bn});
    for (int bn = 64; bn <= 128; bn += 16) v.push_back({256, bn});
    return v;
  }();
  return all;
}

// Machine constants of the model (H100/H200 SXM, per SM and SM clock); the FP8 family's, with the
// 16-bit tensor-core rate.
constexpr double kMmaFmaPerClock = 2048;   // bf16 wgmma: 989 TFLOP/s / 132 SMs / 1.83 GHz / 2
constexpr double kSmemBytesPerClock = 128;
constexpr double kL2BytesPerClock = 4000;  // the whole L2 (~7.3 TB/s)
constexpr double kSmL2BytesPerClock = 64;  // what one SM's TMA pulls at most
constexpr double kHbmBytesPerClock = 2000; // ~3.7 TB/s, between the H100 and the H200
constexpr double kLatency = 1200;          // a TMA load's round trip, clocks
constexpr double kCtaStart = 2000;         // barrier init, descriptor fetch, first loads

CUtensorMapDataType tma_type(DType t) {
  return t == DType::fp16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
}

}  // namespace

std::string to_string(const TileConfig& c) {
  return fmt::format("BLOCK_M={},BLOCK_N={},STAGES={},SWIZZLE_N={}", c.block_m, c.block_n, c.stages, c.swizzle_n);
}

int smem_bytes(int block_m, int block_n, DType d, int stages) { return storage_bytes(block_m, block_n, d, stages); }

int max_stages(int block_m, int block_n, DType d, int smem_optin) {
  int s = kMaxStages;
  while (s > 0 && storage_bytes(block_m, block_n, d, s) > smem_optin) --s;
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
      const TileConfig c{s.block_m, s.block_n, max_stages(s.block_m, s.block_n, d, smem_optin),
                         sm90_common::swizzle_for(s.block_m, s.block_n)};
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
  if (p.layout == Layout::contiguous_indices && c.block_m > kContiguousAlignment)
    return fmt::format("the contiguous_indices layout needs BLOCK_M <= the expert alignment {}", kContiguousAlignment);
  const int smem = storage_bytes(c.block_m, c.block_n, p.d, c.stages);
  if (smem > dev.smem_per_block_optin)
    return fmt::format("needs {} bytes of shared memory; {} allows {}", smem, dev.name, dev.smem_per_block_optin);
  return {};
}

double estimate_cycles(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  const double tiles = std::max(1.0, sm90_common::planned_tiles(p, c.block_m, c.block_n));
  const double grid = std::max(1.0, std::min<double>(grid_size(c, p, dev), tiles));
  const double per_cta = std::ceil(tiles / grid);
  const double num_kb = std::ceil(double(p.k) / sm90::kBlockK16);
  double rows = 1, groups = 1;
  sm90_common::planned_rows(p, &rows, &groups);

  const double waves = std::max(1.0, std::ceil(std::min<double>(c.block_m, rows) / 64));  // rows computed
  const double n = c.block_n;
  const double mma_wave = 4 * std::max(n * 64 * 16 / kMmaFmaPerClock, (64 * 16 * 2 + n * 16 * 2) / kSmemBytesPerClock);
  // Per stage, ~40 clocks of barrier wait and wgmma issue that one consumer warpgroup cannot hide
  // (it keeps only one stage in flight); with two, the other warpgroup's MMAs cover most of it.
  const double compute = waves * mma_wave + (c.block_m == 64 ? 40 : 10);
  const double stage_bytes = double(c.block_m + c.block_n) * sm90::kStageRowBytes;
  const double stage = std::max({compute, stage_bytes / kSmL2BytesPerClock, kLatency / (c.stages - 1)});
  const double out_bytes = dtype_size(p.d), c_bytes = p.has_c ? dtype_size(p.c) : 0;
  const double epilogue = 300 + c.block_m * n * (out_bytes + c_bytes) / 64.0;
  const double path = kCtaStart + per_cta * (num_kb * stage + epilogue);

  const double l2 = tiles * num_kb * stage_bytes / kL2BytesPerClock;
  const double valid_rows = rows * groups;
  const double hbm_bytes =
      (groups * p.n * double(p.k) + valid_rows * p.k) * 2 + valid_rows * p.n * (out_bytes + c_bytes);
  const double hbm = hbm_bytes / kHbmBytesPerClock;
  return std::max({path, l2, hbm}) + 0.05 * path;
}

int grid_size(const TileConfig& c, const ProblemDesc& p, const DeviceSpec& dev) {
  return sm90_common::grid_size(p, dev, c.block_m, c.block_n, 1);
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
  memo.store(p, dev, best);
  return best;
}

std::vector<TmaDesc> tensor_maps(const TileConfig& t, const GroupedGemmArgs& g) {
  const bool masked = g.layout == Layout::masked;
  const int groups = masked ? g.num_groups : 1;  // A and D are batched only if masked
  // A: [m, K] (masked: [G, max_m, K]); B: [G, N, K]; rows of 64 elements (128 bytes), 128B swizzle.
  std::vector<TmaDesc> maps = {
      tma_matrix("a", g.a.data, tma_type(g.a.dtype), 2, g.m, g.k, g.a.ld, groups, g.a.batch_stride,
                 static_cast<std::uint32_t>(t.block_m), sm90::kBlockK16, TmaSwizzle::b128, masked),
      tma_matrix("b", g.b.data, tma_type(g.b.dtype), 2, g.n, g.k, g.b.ld, g.num_groups, g.b.batch_stride,
                 static_cast<std::uint32_t>(t.block_n), sm90::kBlockK16, TmaSwizzle::b128, true),
  };
  if (g.d.dtype != DType::fp32) {
    // D: one box per column chunk of the swizzled smem tile (sm90/epilogue.cuh, OutputTile).
    const int swizzle = sm90::d_swizzle_bytes(t.block_n);
    maps.push_back(tma_matrix("d", g.d.data, tma_type(g.d.dtype), 2, g.m, g.n, g.d.ld, groups, g.d.batch_stride,
                              static_cast<std::uint32_t>(t.block_m), static_cast<std::uint32_t>(swizzle / 2),
                              TmaSwizzle(swizzle), masked));
  }
  return maps;
}

}  // namespace sm90_bf16_gemm

namespace {

using sm90_bf16_gemm::TileConfig;

// KernelConfig::v fields of this family.
enum Field { kAB, kD, kLayout, kHasC, kC, kBM, kBN, kStages, kSwizzle };

TileConfig tile_of(const KernelConfig& c) { return {c.v[kBM], c.v[kBN], c.v[kStages], c.v[kSwizzle]}; }

// Applies a forced "NAME=value,..." onto `t`; unnamed fields keep the heuristics' choice, and a
// new tile shape without STAGES gets the deepest pipeline that fits.
TileConfig apply_forced(TileConfig t, const char* forced, DType d, const DeviceSpec& dev) {
  bool stages_given = false;
  parse_forced_config(forced, [&](const std::string& name, int value) {
    if (value < 1 || value > 4096) return false;
    if (name == "BLOCK_M") t.block_m = value;
    else if (name == "BLOCK_N") t.block_n = value;
    else if (name == "STAGES") t.stages = value, stages_given = true;
    else if (name == "SWIZZLE_N") t.swizzle_n = value;
    else if (name == "CLUSTER") return value == 1;  // no multicast in this family (yet)
    else return false;
    return true;
  });
  if (!stages_given) t.stages = sm90_bf16_gemm::max_stages(t.block_m, t.block_n, d, dev.smem_per_block_optin);
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
      t = apply_forced(t, forced, p.d, dev);
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
        .add("SWIZZLE_N", c.v[kSwizzle]);
    return render_instantiation("jit/sm90/bf16_gemm.cuh", "jit::sm90::bf16_gemm_kernel",
                                "const __grid_constant__ jit::sm90::Bf16GemmParams", args);
  }

  unsigned dynamic_smem(const KernelConfig& c) const override {
    return static_cast<unsigned>(sm90_bf16_gemm::smem_bytes(c.v[kBM], c.v[kBN], DType(c.v[kD]), c.v[kStages]));
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
    d.smem = dynamic_smem(c);
    memo.launch(fn, c, g, d, p, stream, "sm90 bf16 gemm");
  }
};

}  // namespace

const KernelFamily& sm90_bf16_family() {
  static const Sm90Bf16Family f;
  return f;
}

}  // namespace jit::detail
