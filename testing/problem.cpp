#include "testing/problem.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "jit/errors.hpp"

namespace jit::testing {

namespace {

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }
i64 round_up(i64 a, i64 b) { return ceil_div(a, b) * b; }

}  // namespace

std::string ProblemSpec::describe() const {
  i64 total = std::accumulate(rows.begin(), rows.end(), i64{0});
  return fmt::format("{} G={} rows={} n={} k={} {}->{}{}{}", layout_name(layout), rows.size(), total, n,
                     k, dtype_name(ab), dtype_name(d),
                     sa != ScaleKind::none ? std::string(" sa=") + scale_kind_name(sa) : "",
                     sb != ScaleKind::none ? std::string(" sb=") + scale_kind_name(sb) : "");
}

std::vector<int> random_group_rows(int groups, int expected, double lo, double hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<int> rows(groups);
  for (auto& r : rows) r = std::max(0, static_cast<int>(expected * u(rng) + 0.5));
  return rows;
}

GpuProblem::GpuProblem(const ProblemSpec& spec, CUstream s) : spec_(spec) {
  const int G = num_groups();
  if (G < 1) throw InvalidArgument("rows", "a problem needs at least one group");
  if (spec_.layout == Layout::dense && G != 1) throw InvalidArgument("rows", "dense takes one group");
  if (spec_.layout == Layout::masked && spec_.max_m == 0)
    spec_.max_m = std::max(1, *std::max_element(spec_.rows.begin(), spec_.rows.end()));
  build_groups();

  const i64 n = spec_.n, k = spec_.k;
  const int es = dtype_size(spec_.ab), ds = dtype_size(spec_.d);
  const i64 a_rows = spec_.layout == Layout::masked ? G * spec_.max_m : m_;
  a_ = DeviceBuffer(std::max<i64>(a_rows * k * es, 16));
  b_ = DeviceBuffer(G * n * k * es);
  d_ = DeviceBuffer(std::max<i64>(d_rows_ * n * ds, 16));
  d_ref_ = DeviceBuffer(std::max<i64>(d_rows_ * n * ds, 16));
  const std::uint64_t seed = spec_.seed * 1000;
  fill_random(s, a_.get(), spec_.ab, a_rows * k, seed + 1, spec_.lo, spec_.hi);
  fill_random(s, b_.get(), spec_.ab, G * n * k, seed + 2, spec_.lo, spec_.hi);
  if (spec_.with_c) {
    c_ = DeviceBuffer(std::max<i64>(d_rows_ * n * dtype_size(spec_.c), 16));
    fill_random(s, c_.get(), spec_.c, d_rows_ * n, seed + 3, -1.f, 1.f);
  }
  // Scales: positive, around 1, so results stay in a comfortable range.
  const i64 scale_rows = spec_.layout == Layout::masked ? spec_.max_m : m_;
  const i64 kb = ceil_div(k, kScaleBlock);
  i64 sfa_count = 0, sfb_count = 0;
  switch (spec_.sa) {
    case ScaleKind::per_row: sfa_batch_ = scale_rows; sfa_count = sfa_batch_ * (spec_.layout == Layout::masked ? G : 1); break;
    case ScaleKind::block_1x128:
      sfa_ld_ = round_up(std::max<i64>(scale_rows, 1), 4);
      sfa_batch_ = kb * sfa_ld_;
      sfa_count = sfa_batch_ * (spec_.layout == Layout::masked ? G : 1);
      break;
    default: break;
  }
  switch (spec_.sb) {
    case ScaleKind::per_col: sfb_batch_ = n; sfb_count = n * G; break;
    case ScaleKind::block_128x128:
      sfb_ld_ = kb;
      sfb_batch_ = ceil_div(n, kScaleBlock) * kb;
      sfb_count = sfb_batch_ * G;
      break;
    default: break;
  }
  if (sfa_count) {
    sfa_ = DeviceBuffer(sfa_count * 4);
    fill_random(s, sfa_.get(), DType::fp32, sfa_count, seed + 4, 0.5f, 2.0f);
  }
  if (sfb_count) {
    sfb_ = DeviceBuffer(sfb_count * 4);
    fill_random(s, sfb_.get(), DType::fp32, sfb_count, seed + 5, 0.5f, 2.0f);
  }
  upload_groups();
}

void GpuProblem::build_groups() {
  const int G = num_groups();
  const auto& rows = spec_.rows;
  groups_host_.clear();
  switch (spec_.layout) {
    case Layout::dense:
      m_ = rows[0];
      d_rows_ = m_;
      row_valid_.assign(m_, 1);
      break;
    case Layout::contiguous_indices: {
      m_ = 0;
      for (int r : rows) m_ += round_up(r, contiguous_alignment());
      d_rows_ = m_;
      groups_host_.assign(m_, -1);
      row_valid_.assign(m_, 0);
      i64 at = 0;
      for (int g = 0; g < G; ++g) {
        for (int i = 0; i < rows[g]; ++i) {
          groups_host_[at + i] = g;
          row_valid_[at + i] = 1;
        }
        at += round_up(rows[g], contiguous_alignment());
      }
      break;
    }
    case Layout::contiguous_offsets: {
      i64 total = std::accumulate(rows.begin(), rows.end(), i64{0});
      if (m_ == 0) m_ = total + spec_.extra_rows;  // fixed at construction: set_rows keeps it
      d_rows_ = m_;
      row_valid_.assign(m_, 0);
      i64 end = 0;
      for (int g = 0; g < G; ++g) {
        end += rows[g];
        groups_host_.push_back(static_cast<int>(end));
      }
      std::fill(row_valid_.begin(), row_valid_.begin() + std::min<i64>(end, m_), 1);
      break;
    }
    case Layout::masked: {
      m_ = spec_.max_m;
      d_rows_ = G * spec_.max_m;
      row_valid_.assign(d_rows_, 0);
      for (int g = 0; g < G; ++g) {
        groups_host_.push_back(rows[g]);
        const i64 valid = std::clamp<i64>(rows[g], 0, spec_.max_m);
        std::fill(row_valid_.begin() + g * spec_.max_m, row_valid_.begin() + g * spec_.max_m + valid, 1);
      }
      break;
    }
  }
}

void GpuProblem::upload_groups() {
  if (!groups_host_.empty()) {
    if (groups_.size() < groups_host_.size() * 4) groups_ = DeviceBuffer(groups_host_.size() * 4);
    groups_.upload(groups_host_.data(), groups_host_.size() * 4);
  }
  if (row_valid_dev_.size() < std::max<std::size_t>(row_valid_.size(), 1))
    row_valid_dev_ = DeviceBuffer(std::max<std::size_t>(row_valid_.size(), 1));
  row_valid_dev_.upload(row_valid_.data(), row_valid_.size());
}

void GpuProblem::set_rows(const std::vector<int>& rows, CUstream s) {
  if (rows.size() != spec_.rows.size()) throw InvalidArgument("rows", "set_rows keeps the group count");
  if (spec_.layout == Layout::contiguous_indices || spec_.layout == Layout::dense)
    throw InvalidArgument("rows", "set_rows is for the masked and contiguous_offsets layouts");
  if (spec_.layout == Layout::contiguous_offsets &&
      std::accumulate(rows.begin(), rows.end(), i64{0}) > m_)
    throw InvalidArgument("rows", "contiguous_offsets: the new rows exceed the allocated total");
  spec_.rows = rows;
  build_groups();
  TEST_CU(cuStreamSynchronize(s));  // the caller's stream may still read the old counts
  upload_groups();
}

i64 GpuProblem::valid_rows() const {
  return std::count(row_valid_.begin(), row_valid_.end(), static_cast<unsigned char>(1));
}

GroupedGemmArgs GpuProblem::grouped_args(void* d) const {
  GroupedGemmArgs g;
  g.layout = spec_.layout;
  g.num_groups = num_groups();
  g.m = m_;
  g.n = spec_.n;
  g.k = spec_.k;
  g.a = {a_.get(), spec_.ab, 0, 0};
  g.b = {b_.get(), spec_.ab, 0, 0};
  g.d = {d ? d : d_.get(), spec_.d, 0, 0};
  if (spec_.with_c) g.c = {c_.get(), spec_.c, 0, 0};
  g.a_scales = {spec_.sa, sfa_.as<const float>(), sfa_ld_, spec_.layout == Layout::masked ? sfa_batch_ : 0};
  g.b_scales = {spec_.sb, sfb_.as<const float>(), sfb_ld_, sfb_batch_};
  const int* groups = groups_.as<const int>();
  if (spec_.layout == Layout::contiguous_indices) g.m_indices = groups;
  if (spec_.layout == Layout::contiguous_offsets) g.group_offsets = groups;
  if (spec_.layout == Layout::masked) {
    g.masked_m = groups;
    i64 total = std::accumulate(spec_.rows.begin(), spec_.rows.end(), i64{0});
    g.expected_m = std::max<i64>(1, total / num_groups());
  }
  return g;
}

GemmArgs GpuProblem::dense_args(void* d) const {
  if (spec_.layout != Layout::dense) throw InvalidArgument("layout", "dense_args needs a dense problem");
  GroupedGemmArgs g = grouped_args(d);
  GemmArgs a;
  a.m = g.m;
  a.n = g.n;
  a.k = g.k;
  a.a = g.a;
  a.b = g.b;
  a.d = g.d;
  a.c = g.c;
  a.a_scales = g.a_scales;
  a.b_scales = g.b_scales;
  return a;
}

void GpuProblem::poison(CUstream s, void* d) const {
  fill_bytes(s, d ? d : d_.get(), kPoison, d_.size());
}

void GpuProblem::run_reference(CUstream s, Runtime& rt) const {
  fill_bytes(s, d_ref_.get(), kPoison, d_ref_.size());
  GemmOptions o;
  o.family = Family::reference;
  if (spec_.layout == Layout::dense)
    rt.gemm(dense_args(d_ref_.get()), s, o);
  else
    rt.grouped_gemm(grouped_args(d_ref_.get()), s, o);
}

CheckResult GpuProblem::check(CUstream s, const void* out) const {
  CheckResult r = check_output(s, out ? out : d_.get(), spec_.n, d_ref_.get(), spec_.n, spec_.d,
                               d_rows_, spec_.n, row_valid_dev_.as<const unsigned char>());
  r.checked = valid_rows() * spec_.n;
  return r;
}

double GpuProblem::flops() const { return 2.0 * valid_rows() * spec_.n * spec_.k; }

double GpuProblem::bytes() const {
  const double es = dtype_size(spec_.ab), ds = dtype_size(spec_.d);
  const double rows = static_cast<double>(valid_rows());
  int experts = 0;
  for (int r : spec_.rows) experts += r > 0;
  double b = rows * spec_.k * es + double(experts) * spec_.n * spec_.k * es + rows * spec_.n * ds;
  if (spec_.sa == ScaleKind::block_1x128) b += rows * ceil_div(spec_.k, kScaleBlock) * 4;
  if (spec_.sb == ScaleKind::block_128x128)
    b += double(experts) * ceil_div(spec_.n, kScaleBlock) * ceil_div(spec_.k, kScaleBlock) * 4;
  return b;
}

std::vector<std::uint8_t> GpuProblem::download(const DeviceBuffer& b) const {
  std::vector<std::uint8_t> h(b.size());
  b.download(h.data(), h.size());
  return h;
}

}  // namespace jit::testing
