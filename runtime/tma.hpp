// Host side of TMA: tensor maps (CUtensorMap) built with cuTensorMapEncodeTiled through the
// dlopen'ed driver, for the SM90 families. Every rule TMA imposes is checked here first, so a bad
// map is an exception naming the operand rather than a launch failure.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <string>

#include "jit/types.hpp"

namespace jit::detail {

enum class TmaSwizzle { none = 0, b32 = 32, b64 = 64, b128 = 128 };

// A tiled tensor map over `rank` (1-5) dimensions, innermost first: dims[i] elements, strides[i]
// bytes between consecutive indices of dimension i+1 (rank-1 values), a box of box[i] elements.
struct TmaDesc {
  const char* what = "tensor";  // for messages: "a", "b", "sfa", "d"
  CUtensorMapDataType dtype = CU_TENSOR_MAP_DATA_TYPE_UINT8;
  int elem_bytes = 1;
  int rank = 2;
  const void* base = nullptr;
  std::uint64_t dims[5] = {};
  std::uint64_t strides[4] = {};
  std::uint32_t box[5] = {};
  TmaSwizzle swizzle = TmaSwizzle::none;
  CUtensorMapL2promotion l2_promotion = CU_TENSOR_MAP_L2_PROMOTION_L2_256B;
};

// Why `d` breaks a TMA rule (empty when it does not): base 16-byte aligned, strides multiples
// of 16 below 2^40, dims in [1, 2^32], box in [1, 256] and within the dims' limits, the inner box
// a multiple of 16 bytes and at most the swizzle span.
std::string tma_check(const TmaDesc& d);

// Encodes the map (throws InvalidArgument for a broken rule, CudaError if the driver refuses)
// into `out`, which must be a 64-byte aligned, 128-byte buffer (e.g. jit::sm90::TensorMap).
void tma_encode(const TmaDesc& d, void* out);

// A K-major matrix stack for a 2D (groups == 1 and not `force_3d`) or 3D map: rows x cols
// elements of `elem_bytes`, `ld` elements between rows, `batch` elements between groups, box
// box_cols x box_rows.
TmaDesc tma_matrix(const char* what, const void* base, CUtensorMapDataType dtype, int elem_bytes,
                   i64 rows, i64 cols, i64 ld, int groups, i64 batch, std::uint32_t box_rows,
                   std::uint32_t box_cols, TmaSwizzle swizzle, bool force_3d);

}  // namespace jit::detail
