// The cuBLAS/cuBLASLt peers, prepared once per problem and then enqueued by the timer. Built only
// with JITGEMM_HAVE_CUBLAS; otherwise every peer says "built without cuBLAS". The CUDA runtime that
// cuBLAS uses is bound to the device's primary context, the one the driver-API side uses, so device
// pointers and streams (cudaStream_t == CUstream) pass between the two unchanged.
#include <fmt/format.h>

#include "bench/bench_peers.hpp"
#include "jit/errors.hpp"
#include "testing/device.hpp"

#ifdef JITGEMM_HAVE_CUBLAS
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#endif

namespace jit::bench {

#ifndef JITGEMM_HAVE_CUBLAS

bool have_cublas() { return false; }
std::string cublas_version() { return "not built: cuBLAS was not found at configure time"; }
void init_peers(CUstream) {}
std::unique_ptr<PeerRun> prepare_peer(const PeerPlan&, const testing::GpuProblem&, CUstream) {
  throw Error("built without cuBLAS (JITGEMM_HAVE_CUBLAS off)");
}

#else

namespace {

constexpr std::size_t kWorkspaceBytes = std::size_t{32} << 20;  // cuBLAS's recommendation for Hopper

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw Error(fmt::format("{}: {}", what, cublasGetStatusName(s)));
}

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::bf16: return CUDA_R_16BF;
    case DType::fp16: return CUDA_R_16F;
    case DType::fp32: return CUDA_R_32F;
    case DType::e4m3: return CUDA_R_8F_E4M3;
    case DType::s8: return CUDA_R_8I;
  }
  return CUDA_R_32F;
}

// Handles and workspace for the whole process; deliberately never destroyed (the CUDA runtime may
// already be torn down when static destructors run).
struct Lib {
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t lt = nullptr;
  testing::DeviceBuffer* workspace = nullptr;
};
Lib& lib() {
  static Lib l;
  return l;
}

const char* byte_ptr(const void* p) { return static_cast<const char*>(p); }

// Operand pointers of a dense GEMM (the problem itself, or its dense-equivalent on an MoE layout).
struct DenseGeometry {
  i64 m = 0, n = 0, k = 0;  // our terms: m = rows of A and D
  i64 a_row0 = 0;
  int group = 0;
  const void* a = nullptr;
  const void* b = nullptr;
};

DenseGeometry dense_geometry(const PeerPlan& plan, const testing::GpuProblem& p) {
  const DenseCall c = dense_call(plan, p.spec());
  DenseGeometry g;
  g.m = c.rows;
  g.n = c.n;
  g.k = c.k;
  g.a_row0 = c.a_row0;
  g.group = c.group;
  const int es = dtype_size(p.spec().ab);
  g.a = byte_ptr(p.a().get()) + g.a_row0 * g.k * es;
  g.b = byte_ptr(p.b().get()) + static_cast<i64>(g.group) * g.n * g.k * es;
  return g;
}

std::size_t out_size(const PeerPlan& plan, const testing::GpuProblem& p, const DenseGeometry& g) {
  if (!plan.dense_eq) return p.out_bytes();
  return static_cast<std::size_t>(std::max<i64>(g.m * g.n * dtype_size(p.spec().d), 16));
}

// cuMemcpyDtoH runs on the legacy stream, which does NOT wait for our non-blocking stream: the
// problem's random fills may still be queued there (a companion problem is built just before its
// peer is prepared). Reading without this wait gave the fp8-row peer stale scales on some shapes.
template <class T>
std::vector<T> download_all(const testing::DeviceBuffer& b, CUstream stream) {
  TEST_CU(cuStreamSynchronize(stream));
  std::vector<T> h(b.size() / sizeof(T));
  b.download(h.data(), h.size() * sizeof(T));
  return h;
}

// Scale tensors get 4 KB of slack: a layout variant that cuBLAS reads differently (see
// scale_variants) must give a wrong result, never an out-of-bounds read.
testing::DeviceBuffer upload_floats(const std::vector<float>& v) {
  testing::DeviceBuffer d(v.size() * sizeof(float) + 4096);
  d.upload(v.data(), v.size() * sizeof(float));
  return d;
}

// cublasGemmEx, TN: cuBLAS computes D^T[N,M] = op(A)·op(B) with A = our B (K x N, ld K, op T) and
// B = our A (K x M, ld K, op N).
class GemmExRun final : public PeerRun {
 public:
  GemmExRun(const PeerPlan& plan, const testing::GpuProblem& p)
      : g_(dense_geometry(plan, p)), ab_(cuda_type(p.spec().ab)), d_type_(cuda_type(p.spec().d)),
        out_(out_size(plan, p, g_)) {}
  void enqueue(CUstream s) override {
    const float alpha = 1.f, beta = 0.f;
    check(cublasSetStream(lib().blas, s), "cublasSetStream");
    check(cublasGemmEx(lib().blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(g_.n), static_cast<int>(g_.m),
                       static_cast<int>(g_.k), &alpha, g_.b, ab_, static_cast<int>(g_.k), g_.a, ab_,
                       static_cast<int>(g_.k), &beta, out_.get(), d_type_, static_cast<int>(g_.n),
                       CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx");
  }
  void* out() const override { return out_.get(); }
  std::size_t out_bytes() const override { return out_.size(); }

 private:
  DenseGeometry g_;
  cudaDataType_t ab_, d_type_;
  testing::DeviceBuffer out_;
};

// cublasLtMatmul, TN, for BF16/FP16 and for e4m3 with block (VEC128 / BLK128x128) or outer-vector
// scales. The scale roles swap with the operands: cuBLAS's A scale is our B's, its B scale our A's.
class LtRun final : public PeerRun {
 public:
  LtRun(const PeerPlan& plan, const testing::GpuProblem& p, CUstream stream)
      : g_(dense_geometry(plan, p)), out_(out_size(plan, p, g_)) {
    const testing::ProblemSpec& s = p.spec();
    check(cublasLtMatmulDescCreate(&op_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
    set(CUBLASLT_MATMUL_DESC_TRANSA, std::int32_t{CUBLAS_OP_T});
    set(CUBLASLT_MATMUL_DESC_TRANSB, std::int32_t{CUBLAS_OP_N});
    if (plan.id == PeerId::fp8_blk || plan.id == PeerId::fp8_row) set_scales(plan, p, stream);
    const cudaDataType_t ab = cuda_type(s.ab), d = cuda_type(s.d);
    check(cublasLtMatrixLayoutCreate(&a_, ab, g_.k, g_.n, g_.k), "cublasLtMatrixLayoutCreate(A)");
    check(cublasLtMatrixLayoutCreate(&b_, ab, g_.k, g_.m, g_.k), "cublasLtMatrixLayoutCreate(B)");
    check(cublasLtMatrixLayoutCreate(&d_, d, g_.n, g_.m, g_.n), "cublasLtMatrixLayoutCreate(D)");
    cublasLtMatmulPreference_t pref = nullptr;
    check(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
    const std::uint64_t ws = kWorkspaceBytes;
    check(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)),
          "cublasLtMatmulPreferenceSetAttribute");
    cublasLtMatmulHeuristicResult_t result{};
    int count = 0;
    const cublasStatus_t st =
        cublasLtMatmulAlgoGetHeuristic(lib().lt, op_, a_, b_, d_, d_, pref, 1, &result, &count);
    cublasLtMatmulPreferenceDestroy(pref);
    check(st, "cublasLtMatmulAlgoGetHeuristic");
    if (count < 1 || result.state != CUBLAS_STATUS_SUCCESS)
      throw Error("cublasLtMatmulAlgoGetHeuristic: no algorithm for this case");
    algo_ = result.algo;
    int id = -1;
    std::size_t written = 0;
    if (cublasLtMatmulAlgoConfigGetAttribute(&algo_, CUBLASLT_ALGO_CONFIG_ID, &id, sizeof(id), &written) ==
        CUBLAS_STATUS_SUCCESS)
      algo_name_ = fmt::format("algo {} ws {} KB waves {:.2f}", id, result.workspaceSize / 1024, result.wavesCount);
  }
  ~LtRun() override {
    if (a_) cublasLtMatrixLayoutDestroy(a_);
    if (b_) cublasLtMatrixLayoutDestroy(b_);
    if (d_) cublasLtMatrixLayoutDestroy(d_);
    if (op_) cublasLtMatmulDescDestroy(op_);
  }
  void enqueue(CUstream s) override {
    const float alpha = 1.f, beta = 0.f;
    check(cublasLtMatmul(lib().lt, op_, &alpha, g_.b, a_, g_.a, b_, &beta, out_.get(), d_, out_.get(), d_, &algo_,
                         lib().workspace->get(), kWorkspaceBytes, s),
          "cublasLtMatmul");
  }
  void* out() const override { return out_.get(); }
  std::size_t out_bytes() const override { return out_.size(); }
  std::string algo() const override { return algo_name_; }

 private:
  template <class T>
  void set(cublasLtMatmulDescAttributes_t attr, const T& v) {
    check(cublasLtMatmulDescSetAttribute(op_, attr, &v, sizeof(v)), "cublasLtMatmulDescSetAttribute");
  }

  void set_scales(const PeerPlan& plan, const testing::GpuProblem& p, CUstream stream) {
    const GroupedGemmArgs args = p.grouped_args();
    HostScales h;
    h.sfa = download_all<float>(p.sfa(), stream);
    h.sfb = download_all<float>(p.sfb(), stream);
    h.sfa_ld = args.a_scales.ld;
    h.sfa_batch = args.a_scales.batch_stride;
    h.sfb_ld = args.b_scales.ld;
    h.sfb_batch = args.b_scales.batch_stride;
    const LtScales ls = lt_scales(plan, p.spec(), h);  // cuBLAS's A scale = our B's, its B scale = our A's
    const std::int32_t a_mode = plan.id == PeerId::fp8_blk ? CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F
                                                           : CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
    const std::int32_t b_mode = plan.id == PeerId::fp8_blk ? CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F
                                                           : CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
    set(CUBLASLT_MATMUL_DESC_A_SCALE_MODE, a_mode);
    set(CUBLASLT_MATMUL_DESC_B_SCALE_MODE, b_mode);
    scale_a_ = upload_floats(ls.a);
    scale_b_ = upload_floats(ls.b);
    set(CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, static_cast<const void*>(scale_a_.get()));
    set(CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, static_cast<const void*>(scale_b_.get()));
  }

  DenseGeometry g_;
  testing::DeviceBuffer out_, scale_a_, scale_b_;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, d_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  std::string algo_name_;
};

// cublasGemmGroupedBatchedEx: one group of size 1 per non-empty expert, writing D rows at the same
// positions as our kernels (so padding rows stay untouched and the full check applies).
class GroupedRun final : public PeerRun {
 public:
  GroupedRun(const PeerPlan&, const testing::GpuProblem& p) : out_(p.out_bytes()) {
    const testing::ProblemSpec& s = p.spec();
    ab_ = cuda_type(s.ab);
    d_type_ = cuda_type(s.d);
    const int es = dtype_size(s.ab), ds = dtype_size(s.d);
    std::vector<const void*> pa, pb;
    std::vector<void*> pc;
    for (const GroupSlice& g : group_slices(s)) {
      pa.push_back(byte_ptr(p.b().get()) + static_cast<i64>(g.group) * s.n * s.k * es);  // cuBLAS A = our B_g
      pb.push_back(byte_ptr(p.a().get()) + g.row0 * s.k * es);                            // cuBLAS B = our A rows
      pc.push_back(static_cast<char*>(out_.get()) + g.row0 * s.n * ds);
      m_.push_back(static_cast<int>(s.n));
      n_.push_back(static_cast<int>(g.rows));
    }
    count_ = static_cast<int>(pa.size());
    k_.assign(count_, static_cast<int>(s.k));
    ldc_.assign(count_, static_cast<int>(s.n));
    ta_.assign(count_, CUBLAS_OP_T);
    tb_.assign(count_, CUBLAS_OP_N);
    size_.assign(count_, 1);
    alpha_.assign(count_, 1.f);
    beta_.assign(count_, 0.f);
    ptrs_ = testing::DeviceBuffer(std::max<std::size_t>(3 * count_ * sizeof(void*), 16));
    ptrs_.upload(pa.data(), count_ * sizeof(void*));
    ptrs_.upload(pb.data(), count_ * sizeof(void*), count_ * sizeof(void*));
    ptrs_.upload(pc.data(), count_ * sizeof(void*), 2 * count_ * sizeof(void*));
  }
  void enqueue(CUstream s) override {
    auto** base = static_cast<void**>(ptrs_.get());
    check(cublasSetStream(lib().blas, s), "cublasSetStream");
    check(cublasGemmGroupedBatchedEx(lib().blas, ta_.data(), tb_.data(), m_.data(), n_.data(), k_.data(),
                                     alpha_.data(), const_cast<const void* const*>(base), ab_, k_.data(),
                                     const_cast<const void* const*>(base + count_), ab_, k_.data(), beta_.data(),
                                     base + 2 * count_, d_type_, ldc_.data(), count_, size_.data(), CUBLAS_COMPUTE_32F),
          "cublasGemmGroupedBatchedEx");
  }
  void* out() const override { return out_.get(); }
  std::size_t out_bytes() const override { return out_.size(); }

 private:
  testing::DeviceBuffer out_, ptrs_;
  cudaDataType_t ab_{}, d_type_{};
  int count_ = 0;
  std::vector<int> m_, n_, k_, ldc_, size_;
  std::vector<cublasOperation_t> ta_, tb_;
  std::vector<float> alpha_, beta_;
};

}  // namespace

bool have_cublas() { return true; }

std::string cublas_version() {
  const std::size_t v = cublasLtGetVersion();
  return fmt::format("{}.{}.{} (headers {}.{}.{})", v / 10000, v / 100 % 100, v % 100, CUBLAS_VER_MAJOR,
                     CUBLAS_VER_MINOR, CUBLAS_VER_PATCH);
}

void init_peers(CUstream stream) {
  Lib& l = lib();
  if (l.blas) return;
  CUcontext ctx = nullptr;
  TEST_CU(cuStreamGetCtx(stream, &ctx));
  CUdevice dev = 0;
  TEST_CU(cuCtxGetDevice(&dev));
  // cudaSetDevice binds the runtime to the device's primary context: the one testing::use_device made current.
  if (cudaError_t e = cudaSetDevice(static_cast<int>(dev)); e != cudaSuccess)
    throw Error(std::string("cudaSetDevice: ") + cudaGetErrorName(e));
  check(cublasCreate(&l.blas), "cublasCreate");
  check(cublasLtCreate(&l.lt), "cublasLtCreate");
  l.workspace = new testing::DeviceBuffer(kWorkspaceBytes);
  check(cublasSetWorkspace(l.blas, l.workspace->get(), kWorkspaceBytes), "cublasSetWorkspace");
  check(cublasSetStream(l.blas, stream), "cublasSetStream");
}

std::unique_ptr<PeerRun> prepare_peer(const PeerPlan& plan, const testing::GpuProblem& problem, CUstream stream) {
  if (!plan.unsupported.empty()) throw Error(plan.unsupported);
  init_peers(stream);
  std::unique_ptr<PeerRun> run;
  switch (plan.id) {
    case PeerId::cublas: run = std::make_unique<GemmExRun>(plan, problem); break;
    case PeerId::cublaslt:
    case PeerId::fp8_blk:
    case PeerId::fp8_row: run = std::make_unique<LtRun>(plan, problem, stream); break;
    case PeerId::cublas_grouped: run = std::make_unique<GroupedRun>(plan, problem); break;
    case PeerId::cublaslt_grouped: throw Error(std::string(plan.name) + ": not implemented");
  }
  // Pageable cuMemcpyHtoD may return before its DMA lands; the uploads (scales, pointer arrays)
  // must be complete before the first enqueue on our stream reads them.
  TEST_CU(cuCtxSynchronize());
  return run;
}

#endif

}  // namespace jit::bench
