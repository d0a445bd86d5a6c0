// The vocabulary shared by the host API and the kernels: element types, MoE layouts, scale kinds.
// This header is also embedded for NVRTC as "jit/types.hpp", so it must stay plain C++ with no
// includes: one definition of every enum, read by both sides.
#pragma once

namespace jit {

using i32 = int;
using u32 = unsigned int;
using i64 = long long;
using u64 = unsigned long long;
static_assert(sizeof(i64) == 8 && sizeof(u32) == 4, "unexpected integer widths");

// Element types of operands and outputs.
enum class DType : int {
  bf16 = 0,
  fp16 = 1,
  fp32 = 2,
  e4m3 = 3,  // fp8 e4m3 (OCP "fn": no infinities, 0x7f/0xff are NaN)
  s8 = 4,
};

// Which rows of A belong to which group (expert). Contracts: README.md, "Layouts".
enum class Layout : int {
  dense = 0,               // one B; G must be 1
  contiguous_indices = 1,  // A [M, K]; m_indices[M]: expert id per row, -1 = padding row
  contiguous_offsets = 2,  // A [M, K]; group_offsets[G]: cumulative end row of each expert
  masked = 3,              // A [G, max_m, K]; masked_m[G] on the device: valid rows per expert
};

// How an operand is scaled before accumulation. A takes the row kinds, B the column kinds.
enum class ScaleKind : int {
  none = 0,
  per_row = 1,        // A: one fp32 per row (per token)
  per_col = 2,        // B: one fp32 per output column (per channel), per group
  block_1x128 = 3,    // A: one fp32 per row per 128 K, stored M-major (transposed)
  block_128x128 = 4,  // B: one fp32 per 128x128 block, [G, ceil(N/128), ceil(K/128)]
};

constexpr int dtype_size(DType t) {
  return t == DType::fp32 ? 4 : (t == DType::bf16 || t == DType::fp16) ? 2 : 1;
}

constexpr const char* dtype_name(DType t) {
  switch (t) {
    case DType::bf16: return "bf16";
    case DType::fp16: return "fp16";
    case DType::fp32: return "fp32";
    case DType::e4m3: return "e4m3";
    case DType::s8: return "s8";
  }
  return "?";
}

constexpr const char* layout_name(Layout l) {
  switch (l) {
    case Layout::dense: return "dense";
    case Layout::contiguous_indices: return "contiguous_indices";
    case Layout::contiguous_offsets: return "contiguous_offsets";
    case Layout::masked: return "masked";
  }
  return "?";
}

constexpr const char* scale_kind_name(ScaleKind s) {
  switch (s) {
    case ScaleKind::none: return "none";
    case ScaleKind::per_row: return "per_row";
    case ScaleKind::per_col: return "per_col";
    case ScaleKind::block_1x128: return "block_1x128";
    case ScaleKind::block_128x128: return "block_128x128";
  }
  return "?";
}

// Rows of one expert in the m_indices layout start on a multiple of this (the largest BLOCK_M).
constexpr int kContiguousAlignment = 128;
// Granularity of the FP8 block-scaling recipe along K (and N for B).
constexpr int kScaleBlock = 128;

}  // namespace jit
