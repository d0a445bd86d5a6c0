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
};
// cc_major/cc_minor: the device's compute capability.
PeerPlan plan_peer(PeerId id, const Recipe& bench_recipe, const testing::ProblemSpec& spec, int cc_major,
                   int cc_minor);

// The spec a peer's problem is built from: `spec` with the peer's recipe (same shape, rows, seed).
testing::ProblemSpec peer_spec(const testing::ProblemSpec& spec, const Recipe& peer_recipe);

// Bytes the peer moves (for GB/s): the problem's bytes, or the dense-equivalent GEMM's.
double peer_bytes(const PeerPlan& plan, const testing::GpuProblem& problem);

// --- Scale repacks into cuBLASLt's layouts (host side, done once before timing) ---
// cuBLAS's B is our A: VEC128_32F wants one fp32 per (128-K block, row) with rows fastest and a
// leading dimension equal to the row count (PyTorch's _scaled_mm checks the same: shape [M, K/128],
// stride [1, M]). Our block_1x128 scales are M-major too, but with ld = rows rounded up to 4 and
// per-group batches when masked; this gathers `rows` rows of A starting at `a_row0` (the A row as
// the problem stores it, masked rows spanning groups) into [kb][rows].
std::vector<float> vec128_for_cublas(const std::vector<float>& sfa, const testing::ProblemSpec& spec,
                                     i64 sfa_ld, i64 sfa_batch, i64 a_row0, i64 rows);
// cuBLAS's A is our B: BLK128x128_32F wants the 128x128 blocks with K blocks fastest and a leading
// dimension of ceil(K/128) rounded up to 4 (PyTorch: [L4, N/128], stride [1, L4]). Ours are
// [ceil(N/128)][ld] with ld = ceil(K/128): the same order, padded here when ceil(K/128) % 4 != 0.
std::vector<float> blk128_for_cublas(const std::vector<float>& sfb_group, i64 n, i64 k, i64 sfb_ld);
// OUTER_VEC_32F for cuBLAS's B (our A): one fp32 per row, for `rows` rows of A from `a_row0`.
std::vector<float> rows_for_cublas(const std::vector<float>& sfa, const testing::ProblemSpec& spec,
                                   i64 sfa_batch, i64 a_row0, i64 rows);

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
// name when cuBLAS refuses (no algorithm, unsupported) -- the table then shows why.
std::unique_ptr<PeerRun> prepare_peer(const PeerPlan& plan, const testing::GpuProblem& problem, CUstream stream);

}  // namespace jit::bench
