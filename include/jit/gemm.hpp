// The public GEMM API: D = A · Bᵀ (+ C), dense or grouped over MoE experts.
//
// Operands are "NT": A [M, K] and B [N, K] are K-major (row-major with K contiguous), D [M, N] is
// row-major. Strides are in elements; 0 means packed. Every row must start on a 16-byte boundary.
#pragma once

#include <cuda.h>

#include <cstddef>

#include "jit/options.hpp"
#include "jit/types.hpp"

namespace jit {

// A K-major matrix, or a stack of matrices with one per group.
struct Operand {
  const void* data = nullptr;
  DType dtype = DType::bf16;
  i64 ld = 0;            // elements between consecutive rows (0: the row length)
  i64 batch_stride = 0;  // elements between consecutive groups (0: rows × ld)
};

// Scale factors (fp32 on the device). Element addressing, with g the group:
//   per_row        A: data[g·batch_stride + m]                      (ld unused)
//   per_col        B: data[g·batch_stride + n]                      (ld unused)
//   block_1x128    A: data[g·batch_stride + (k/128)·ld + m]         ld ≥ rows, multiple of 4 (M-major)
//   block_128x128  B: data[g·batch_stride + (n/128)·ld + k/128]     ld ≥ ceil(K/128)
// g is 0 except for B (every layout) and for A in the masked layout.
struct Scales {
  ScaleKind kind = ScaleKind::none;
  const float* data = nullptr;
  i64 ld = 0;            // 0: the packed default (rows rounded up to 4 / ceil(K/128))
  i64 batch_stride = 0;  // 0: packed
};

struct Output {
  void* data = nullptr;
  DType dtype = DType::bf16;
  i64 ld = 0;            // 0: N
  i64 batch_stride = 0;  // masked layout only (0: max_m × ld)
};

// Per-call choices for tests and benchmarks; the defaults are what production wants.
struct GemmOptions {
  Family family = Family::automatic;  // overrides Options::force_family when set
  const char* config = nullptr;       // family-specific forced config, overrides Options::force_config
  bool fp8_no_promotion = false;      // test-only: FP8 without the two-level accumulation
  bool no_split_k = false;            // only kernels that need no workspace (see Workspace)
};

// Device scratch memory for kernels that split K over several CTAs and add up their partial sums
// (the sm80 family on dense shapes with few output tiles, or with a last wave of tiles that would
// leave most SMs idle). Optional: without one, a call uses a buffer the
// library keeps for each stream -- except while the stream is being captured into a CUDA graph,
// where that buffer could be shared with work outside the graph, so such a call gets a kernel that
// needs no workspace. Pass one to capture split-K kernels too. Rules: 256-byte aligned, at least
// workspace_bytes() of the same call, zero-filled before its first use and then used by one call
// at a time (calls leave it zeroed; calls on one stream, or in one graph, may share it).
struct Workspace {
  void* data = nullptr;
  std::size_t bytes = 0;
};

// D[m, n] = Σ_k A[m, k]·sa · B[n, k]·sb (+ C[m, n]).
struct GemmArgs {
  i64 m = 0, n = 0, k = 0;
  Operand a, b;
  Scales a_scales, b_scales;
  Output d;
  Operand c;  // optional accumulator input, same shape as D; dtype fp32 or D's dtype
  Workspace workspace;
};

// Grouped GEMM over experts: B is [G, N, K]; how rows of A map to experts depends on `layout`.
//   contiguous_indices  A [m, K], D [m, N]. m_indices[m] (device, int32) is each row's expert,
//                       -1 marks a padding row. Each expert's rows start on a multiple of
//                       contiguous_alignment(). Padding rows of D are never written.
//   contiguous_offsets  A [m, K], D [m, N]. group_offsets[G] (device, int32) are cumulative end
//                       rows: expert g owns rows [offsets[g-1], offsets[g]). No padding needed;
//                       rows at or past offsets[G-1] are never written.
//   masked              A [G, m, K], D [G, m, N] with m = max_m. masked_m[G] (device, int32) is
//                       the number of valid rows of each expert; rows at or past it are never
//                       written. expected_m is a host-side hint for the heuristics. No host-device
//                       synchronisation: CUDA-graph capture once, replay with new masked_m.
// Out-of-range device values never cause out-of-bounds accesses: expert ids outside [0, G) are
// padding, offsets and masked_m are clamped to [0, m].
struct GroupedGemmArgs {
  Layout layout = Layout::contiguous_indices;
  int num_groups = 0;
  i64 m = 0;  // contiguous: total rows of A and D; masked: max_m, the rows of each group
  i64 n = 0, k = 0;
  Operand a, b;
  Scales a_scales, b_scales;
  Output d;
  Operand c;
  const i32* m_indices = nullptr;
  const i32* group_offsets = nullptr;
  const i32* masked_m = nullptr;
  i64 expected_m = 0;
  Workspace workspace;
};

// Launch on `stream` (0: the current context's default stream). Asynchronous; never synchronises.
// Throws InvalidArgument (before any GPU work), Unsupported, CompileError or CudaError.
void gemm(const GemmArgs& args, CUstream stream = nullptr, const GemmOptions& options = {});
void grouped_gemm(const GroupedGemmArgs& args, CUstream stream = nullptr,
                  const GemmOptions& options = {});

// The workspace bytes the kernel chosen for this call on `stream`'s device needs (0: none). The
// choice, and so the size, depends only on the shapes, dtypes, layout and options; nothing is
// launched or compiled.
std::size_t workspace_bytes(const GemmArgs& args, CUstream stream = nullptr, const GemmOptions& options = {});
std::size_t workspace_bytes(const GroupedGemmArgs& args, CUstream stream = nullptr,
                            const GemmOptions& options = {});

// Row alignment of each expert's segment in the contiguous_indices layout.
constexpr int contiguous_alignment() { return kContiguousAlignment; }

}  // namespace jit
