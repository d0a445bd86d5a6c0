// The reference family's heuristics (trivial: one config per dtype/layout/scale combination),
// codegen and launch. The kernel is kernel_src/jit/reference/gemm.cuh.
#include <fmt/format.h>

#include "jit/errors.hpp"
#include "jit/reference/params.cuh"
#include "runtime/codegen.hpp"
#include "runtime/family.hpp"
#include "runtime/launcher.hpp"

namespace jit::detail {

namespace {

// KernelConfig::v fields of this family.
enum Field { kA, kD, kLayout, kSA, kSB, kHasC, kC };

class ReferenceFamily final : public KernelFamily {
 public:
  Family family() const override { return Family::reference; }
  const char* name() const override { return "reference"; }

  const char* unsupported(const ProblemDesc& p, const DeviceSpec& dev) const override {
    if (dev.cc_major < 8) return "needs sm_80 or newer (bf16 conversions)";
    if (p.n > 65535LL * reference::kTileN) return "N above 1048560 exceeds the grid's y dimension";
    return nullptr;
  }

  KernelConfig choose(const ProblemDesc& p, const DeviceSpec&, const char*,
                      const GemmOptions& opts) const override {
    // JITGEMM_FORCE_CONFIG tunes the fast families; the oracle has nothing to tune and ignores it.
    // A config passed for this very call is a caller's mistake.
    if (opts.config && *opts.config) throw InvalidArgument("config", "the reference family has no tunable config");
    KernelConfig c;
    c.family = Family::reference;
    c.v[kA] = static_cast<int>(p.a);
    c.v[kD] = static_cast<int>(p.d);
    c.v[kLayout] = static_cast<int>(p.layout);
    c.v[kSA] = static_cast<int>(p.a_scale);
    c.v[kSB] = static_cast<int>(p.b_scale);
    c.v[kHasC] = p.has_c;
    c.v[kC] = static_cast<int>(p.has_c ? p.c : DType::fp32);
    return c;
  }

  std::string describe(const KernelConfig& c) const override {
    return fmt::format("A={} D={} layout={} SA={} SB={} C={}", dtype_name(DType(c.v[kA])),
                       dtype_name(DType(c.v[kD])), layout_name(Layout(c.v[kLayout])),
                       scale_kind_name(ScaleKind(c.v[kSA])), scale_kind_name(ScaleKind(c.v[kSB])),
                       c.v[kHasC] ? dtype_name(DType(c.v[kC])) : "none");
  }

  KernelSource render(const KernelConfig& c) const override {
    TemplateArgs args;
    args.add("A", DType(c.v[kA]))
        .add("D", DType(c.v[kD]))
        .add("LAYOUT", Layout(c.v[kLayout]))
        .add("SA", ScaleKind(c.v[kSA]))
        .add("SB", ScaleKind(c.v[kSB]))
        .add("HAS_C", c.v[kHasC] != 0)
        .add("C", DType(c.v[kC]));
    return render_instantiation("jit/reference/gemm.cuh", "jit::reference::gemm_kernel",
                                "jit::reference::Params", args);
  }

  unsigned dynamic_smem(const KernelConfig&) const override { return 0; }

  void launch(CUfunction fn, const KernelConfig&, const GroupedGemmArgs& g, const DeviceSpec&,
              CUstream stream) const override {
    reference::Params p{};
    p.a = g.a.data;
    p.b = g.b.data;
    p.c = g.c.data;
    p.sfa = g.a_scales.data;
    p.sfb = g.b_scales.data;
    fill_problem(p, g);
    p.lda = g.a.ld;
    p.ldb = g.b.ld;
    p.ldc = g.c.ld;
    p.batch_a = g.a.batch_stride;
    p.batch_b = g.b.batch_stride;
    p.batch_c = g.c.batch_stride;
    p.sfa_ld = g.a_scales.ld;
    p.sfa_batch = g.a_scales.batch_stride;
    p.sfb_ld = g.b_scales.ld;
    p.sfb_batch = g.b_scales.batch_stride;
    LaunchDims d;
    d.grid[0] = static_cast<unsigned>((g.m + reference::kTileM - 1) / reference::kTileM);
    d.grid[1] = static_cast<unsigned>((g.n + reference::kTileN - 1) / reference::kTileN);
    d.grid[2] = g.layout == Layout::masked ? static_cast<unsigned>(g.num_groups) : 1u;
    d.block[0] = reference::kTileN;
    d.block[1] = reference::kTileM;
    launch_kernel(fn, d, p, stream, "reference gemm");
  }
};

}  // namespace

const KernelFamily& reference_family() {
  static const ReferenceFamily f;
  return f;
}

}  // namespace jit::detail
