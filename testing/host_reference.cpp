#include "testing/host_reference.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace jit::testing {

namespace {

float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t s = (h >> 15) & 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  float v;
  if (e == 0) v = std::ldexp(static_cast<float>(m), -24);
  else if (e == 31) v = m ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(m | 0x400), static_cast<int>(e) - 25);
  return s ? -v : v;
}

float e4m3_to_float(std::uint8_t b) {
  const int s = b >> 7, e = (b >> 3) & 0xf, m = b & 7;
  float v;
  if (e == 15 && m == 7) v = std::numeric_limits<float>::quiet_NaN();
  else if (e == 0) v = std::ldexp(static_cast<float>(m), -9);
  else v = std::ldexp(static_cast<float>(8 + m), e - 10);
  return s ? -v : v;
}

}  // namespace

float host_to_float(DType t, const std::uint8_t* p) {
  switch (t) {
    case DType::bf16: {
      std::uint16_t h;
      std::memcpy(&h, p, 2);
      return bits_to_float(static_cast<std::uint32_t>(h) << 16);
    }
    case DType::fp16: {
      std::uint16_t h;
      std::memcpy(&h, p, 2);
      return half_to_float(h);
    }
    case DType::fp32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case DType::e4m3: return e4m3_to_float(*p);
    case DType::s8: return static_cast<float>(static_cast<std::int8_t>(*p));
  }
  return 0;
}

std::vector<float> host_gemm(const GpuProblem& p) {
  const ProblemSpec& s = p.spec();
  const auto a = p.download(p.a()), b = p.download(p.b());
  const auto sfa_raw = p.download(p.sfa()), sfb_raw = p.download(p.sfb());
  const auto c = s.with_c ? p.download(p.c()) : std::vector<std::uint8_t>();
  const float* sfa = reinterpret_cast<const float*>(sfa_raw.data());
  const float* sfb = reinterpret_cast<const float*>(sfb_raw.data());
  const GroupedGemmArgs g = p.grouped_args();  // strides, as the library normalizes them
  const i64 n = s.n, k = s.k, es = dtype_size(s.ab);
  const i64 kb_count = (k + kScaleBlock - 1) / kScaleBlock;
  const i64 sfa_ld = s.sa == ScaleKind::block_1x128 ? g.a_scales.ld : 0;
  const i64 sfa_batch = s.sa == ScaleKind::block_1x128 ? kb_count * sfa_ld : (s.layout == Layout::masked ? p.m() : 0);
  const i64 sfb_ld = kb_count;
  const i64 sfb_batch = s.sb == ScaleKind::block_128x128 ? ((n + 127) / 128) * kb_count : n;
  const bool block = s.sa == ScaleKind::block_1x128 || s.sb == ScaleKind::block_128x128;
  const i64 block_k = block ? kScaleBlock : k;

  std::vector<float> d(p.d_rows() * n, std::numeric_limits<float>::quiet_NaN());
  const auto& groups = p.host_groups();
  for (i64 r = 0; r < p.d_rows(); ++r) {
    if (!p.row_valid()[r]) continue;
    int grp = 0;
    i64 row = r, batch = 0;  // row within A's matrix, batch (masked group) index
    if (s.layout == Layout::contiguous_indices) grp = groups[r];
    if (s.layout == Layout::contiguous_offsets)
      while (r >= groups[grp]) ++grp;
    if (s.layout == Layout::masked) {
      grp = static_cast<int>(r / p.m());
      row = r % p.m();
      batch = grp;
    }
    const std::uint8_t* arow = a.data() + ((batch * p.m() + row) * k) * es;
    for (i64 col = 0; col < n; ++col) {
      const std::uint8_t* brow = b.data() + ((grp * n + col) * k) * es;
      double acc = 0;
      for (i64 k0 = 0; k0 < k; k0 += block_k) {
        double part = 0;
        for (i64 kk = k0; kk < std::min(k, k0 + block_k); ++kk)
          part += double(host_to_float(s.ab, arow + kk * es)) * host_to_float(s.ab, brow + kk * es);
        double sc = 1;
        if (s.sa == ScaleKind::block_1x128) sc *= sfa[batch * sfa_batch + (k0 / 128) * sfa_ld + row];
        if (s.sb == ScaleKind::block_128x128) sc *= sfb[grp * sfb_batch + (col / 128) * sfb_ld + k0 / 128];
        acc += part * sc;
      }
      if (s.sa == ScaleKind::per_row) acc *= sfa[batch * sfa_batch + row];
      if (s.sb == ScaleKind::per_col) acc *= sfb[grp * sfb_batch + col];
      if (s.with_c) acc += host_to_float(s.c, c.data() + (r * n + col) * dtype_size(s.c));
      d[r * n + col] = static_cast<float>(acc);
    }
  }
  return d;
}

std::vector<float> host_output(const GpuProblem& p, const void* dptr) {
  const ProblemSpec& s = p.spec();
  const i64 count = p.d_rows() * s.n, ds = dtype_size(s.d);
  std::vector<std::uint8_t> raw(count * ds);
  TEST_CU(cuCtxSynchronize());  // the legacy-stream copy does not wait for non-blocking streams
  TEST_CU(cuMemcpyDtoH(raw.data(), reinterpret_cast<CUdeviceptr>(dptr), raw.size()));
  std::vector<float> out(count);
  for (i64 i = 0; i < count; ++i) out[i] = host_to_float(s.d, raw.data() + i * ds);
  return out;
}

}  // namespace jit::testing
