// The cuBLAS/cuBLASLt peers: what each computes for a problem (planning, pure and CPU-tested),
// the host-side scale repacks into cuBLASLt's layouts, and the prepared calls (bench_peers_cublas.cpp).
//
// Operand swap: we compute row-major D[M,N] = A[M,K]·B[N,K]^T. Column-major cuBLAS sees our D as
// D^T [N,M] (ld N), our B as a K x N matrix (ld K) and our A as a K x M matrix (ld K), so every peer
// computes D^T = op(B)·A^T with transa = T, transb = N ("TN"): cuBLAS's A is our B, its B our A,
// m = N, n = M.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_config.hpp"
#include "testing/problem.hpp"

namespace jit::bench {

// Rows [row0, row0 + rows) of A and D that belong to expert `group` (A and D share row positions
// in every layout; masked: row0 = group * max_m).
struct GroupSlice {
  int group = 0;
  i64 row0 = 0, rows = 0;
};
std::vector<GroupSlice> group_slices(const testing::ProblemSpec& spec);  // non-empty experts only

// A dense peer on an MoE layout runs ONE GEMM over as many rows as are valid (V), reading A's memory
// from the first non-empty expert's first row on, with that expert's B: the same FLOPs as the grouped
// problem, not the same math. Only that expert's rows are comparable with the reference.
struct DenseEquivalent {
  int group = 0;       // the expert whose B (and B scales) it uses
  i64 a_row0 = 0;      // first row of A (and of the reference D) it reads
  i64 rows = 0;        // V = valid rows of the whole problem: the GEMM's M
  i64 check_rows = 0;  // rows of `group`: checked against reference rows [a_row0, a_row0 + check_rows)
};
DenseEquivalent dense_equivalent(const testing::ProblemSpec& spec);

// Bytes an implementation must move for `spec` run as `recipe` (what GB/s and %roof count): valid
// rows of A and D, the B of every expert that has rows, block scales. Same count as GpuProblem::bytes().
double grouped_bytes(const testing::ProblemSpec& spec, const Recipe& recipe);
// The same for its dense-equivalent: V rows of A and D and ONE expert's B.
double dense_equivalent_bytes(const testing::ProblemSpec& spec, const Recipe& recipe);

// Machine balance for judging a dense-equivalent (compute ceilings and HBM bandwidth; 0 = PEERS.md's
// H200 figures: 800 TFLOP/s BF16, 1450 FP8, 4300 GB/s). Only the ratio compute/bandwidth matters.
struct MachineBalance {
  double tflops_16 = 0, tflops_8 = 0, hbm_gbs = 0;
  double flop_per_byte(DType ab) const;
};
// "" when the dense-equivalent is a fair speed reference, else why not. It is when its roofline floor
// max(FLOPs / compute, bytes / HBM) is at least half the grouped problem's; a memory-bound MoE case
// (decode: many experts, few rows each) must read every expert's weights, the dense GEMM one
// expert's, so it would look up to G times faster for reading less.
std::string dense_equivalent_skip_reason(const testing::ProblemSpec& spec, const Recipe& recipe,
                                         const MachineBalance& mb = {});

// How a peer's output is checked against the reference of the problem it ran.
enum class CheckScope {
  full,        // D has the problem's layout: every valid row compared, padding must stay poison
  group_rows,  // dense-equivalent: DenseEquivalent::check_rows rows compared
};

// What a peer will do for one problem; `unsupported` non-empty = it cannot (the table says why).
struct PeerPlan {
  PeerId id = PeerId::cublas;
  std::string name;
  Recipe recipe;           // the math it runs; differs from the bench recipe for speed references
  bool same_math = false;  // same recipe and same grouped semantics as our kernels
  bool dense_eq = false;   // dense peer on an MoE layout (see DenseEquivalent)
  CheckScope scope = CheckScope::full;
  std::string computes;    // exactly what it computes, for the legend and the JSON record
  std::string unsupported;
  // fp8_blk only: leading dimensions of the repacked scales. PyTorch's _scaled_mm convention is the
  // default: cuBLAS's B scales (our A) with ld = rows, its A scales (our B) with the K blocks padded
  // to a multiple of 4. scale_variants() gives the alternatives for shapes where they differ.
  bool pad_rows = false;     // VEC128: ld = rows rounded up to 4
  bool pad_kblocks = true;   // BLK128x128: ld = ceil(K/128) rounded up to 4
};
// cc_major/cc_minor: the device's compute capability; mb: for dense_equivalent_skip_reason.
PeerPlan plan_peer(PeerId id, const Recipe& bench_recipe, const testing::ProblemSpec& spec, int cc_major,
                   int cc_minor, const MachineBalance& mb = {});

// `plan` and, for fp8_blk when rows or K blocks are not multiples of 4, the other scale leading
// dimensions: tried in order until one passes the check (the docs do not pin these cases down).
std::vector<PeerPlan> scale_variants(const PeerPlan& plan, const testing::ProblemSpec& spec);
std::string describe_scale_lds(const PeerPlan& plan);

// The spec a peer's problem is built from: `spec` with the peer's recipe (same shape, rows, seed).
testing::ProblemSpec peer_spec(const testing::ProblemSpec& spec, const Recipe& peer_recipe);

// Bytes the peer moves (for GB/s): the problem's bytes, or the dense-equivalent GEMM's.
double peer_bytes(const PeerPlan& plan, const testing::GpuProblem& problem);

// --- Scale repacks into cuBLASLt's layouts (host side, done once before timing) ---
// cuBLAS's B is our A: VEC128_32F wants one fp32 per (128-K block, row) with rows fastest and a
// leading dimension equal to the row count (PyTorch's _scaled_mm checks the same: shape [M, K/128],
// stride [1, M]). Our block_1x128 scales are M-major too, but with ld = rows rounded up to 4 and
// per-group batches when masked; this gathers `rows` rows of A starting at `a_row0` (the A row as
// the problem stores it, masked rows spanning groups) into [kb][ld_out] (ld_out >= rows; 0: rows).
std::vector<float> vec128_for_cublas(const std::vector<float>& sfa, const testing::ProblemSpec& spec,
                                     i64 sfa_ld, i64 sfa_batch, i64 a_row0, i64 rows, i64 ld_out = 0);
// cuBLAS's A is our B: BLK128x128_32F wants the 128x128 blocks with K blocks fastest and a leading
// dimension of ceil(K/128) rounded up to 4 (PyTorch: [L4, N/128], stride [1, L4]). Ours are
// [ceil(N/128)][ld] with ld = ceil(K/128): the same order, padded here when ceil(K/128) % 4 != 0.
std::vector<float> blk128_for_cublas(const std::vector<float>& sfb_group, i64 n, i64 k, i64 sfb_ld,
                                     bool pad_to_4 = true);
// OUTER_VEC_32F for cuBLAS's B (our A): one fp32 per row, for `rows` rows of A from `a_row0`.
std::vector<float> rows_for_cublas(const std::vector<float>& sfa, const testing::ProblemSpec& spec,
                                   i64 sfa_batch, i64 a_row0, i64 rows);

// The single dense GEMM a cublasGemmEx / cublasLtMatmul peer runs, in our terms: `rows` rows of A
// from `a_row0`, expert `group`'s B. cuBLAS (TN) sees m = n, n = rows, k = k.
struct DenseCall {
  i64 rows = 0, n = 0, k = 0, a_row0 = 0;
  int group = 0;
};
DenseCall dense_call(const PeerPlan& plan, const testing::ProblemSpec& spec);

// Host copies of a problem's scales with their strides (GpuProblem::grouped_args's a/b_scales).
struct HostScales {
  std::vector<float> sfa, sfb;
  i64 sfa_ld = 0, sfa_batch = 0, sfb_ld = 0, sfb_batch = 0;
};
// The scale tensors of a cuBLASLt FP8 peer in cuBLAS's roles (TN swap): `a` is cuBLAS's A scale (our
// B's), `b` cuBLAS's B scale (our A's), each holding at least the floats cuBLAS reads from it:
//   OUTER_VEC_32F (cublasLt.h: "vectors ... expected to have M and N elements"; cuBLAS's M is our N):
//     a = expert `group`'s per-column scales [N], b = the call's per-row scales [rows];
//   BLK128x128_32F / VEC128_32F: a = ceil(N/128) x ld_a, b = ceil(K/128) x ld_b (see the repacks).
// Throws Error when the host copies are smaller than the problem says (never reads past them).
struct LtScales {
  std::vector<float> a, b;
  i64 a_reads = 0, b_reads = 0;  // floats cuBLAS reads from each
};
LtScales lt_scales(const PeerPlan& plan, const testing::ProblemSpec& spec, const HostScales& scales);

// --- Prepared calls ---
// A peer ready to be timed: descriptors, algorithm, pointer arrays and repacked scales are built;
// enqueue() is the call being measured.
class PeerRun {
 public:
  virtual ~PeerRun() = default;
  virtual void enqueue(CUstream stream) = 0;
  virtual void* out() const = 0;
  virtual std::size_t out_bytes() const = 0;
  virtual std::string algo() const { return {}; }  // e.g. the cuBLASLt algo id, for the record
};

bool have_cublas();
std::string cublas_version();  // "13.1.0 (runtime 130100)", or why there is none
// Once per process, after the device's primary context is current: binds the CUDA runtime to it.
void init_peers(CUstream stream);
// Builds the call for `problem` (built from peer_spec(...)). Throws Error with cuBLAS's status
// name when cuBLAS refuses (no algorithm, unsupported) -- the table then shows why. It waits for
// `stream` before reading the problem back (its random fills may still be running there: the
// stream does not synchronise with the legacy stream that cuMemcpyDtoH uses) and for the context
// after uploading its own buffers, so the first enqueue sees them complete.
std::unique_ptr<PeerRun> prepare_peer(const PeerPlan& plan, const testing::GpuProblem& problem, CUstream stream);

}  // namespace jit::bench
