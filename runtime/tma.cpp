#include "runtime/tma.hpp"

#include <fmt/format.h>

#include <cstring>

#include "jit/errors.hpp"
#include "jit/sm90/params.cuh"
#include "runtime/cuda_check.hpp"
#include "runtime/driver.hpp"

namespace jit::detail {

// Same bytes; TMA needs 64-byte alignment (CUDA 13's cuda.h declares 128, earlier ones 64).
static_assert(sizeof(sm90::TensorMap) == sizeof(CUtensorMap) && alignof(sm90::TensorMap) >= 64,
              "jit::sm90::TensorMap must mirror CUtensorMap");

std::string tma_check(const TmaDesc& d) {
  const std::string who = std::string("tensor map of ") + d.what;
  if (d.rank < 1 || d.rank > 5) return who + ": rank must be 1..5";
  if (reinterpret_cast<std::uintptr_t>(d.base) % 16 != 0) return who + ": the base address must be 16-byte aligned";
  for (int i = 0; i < d.rank; ++i) {
    if (d.dims[i] < 1 || d.dims[i] > (std::uint64_t{1} << 32))
      return fmt::format("{}: dimension {} is {} (must be in [1, 2^32])", who, i, d.dims[i]);
    if (d.box[i] < 1 || d.box[i] > 256)
      return fmt::format("{}: box dimension {} is {} (must be in [1, 256])", who, i, d.box[i]);
  }
  for (int i = 0; i + 1 < d.rank; ++i) {
    if (d.strides[i] % 16 != 0 || d.strides[i] >= (std::uint64_t{1} << 40))
      return fmt::format("{}: stride {} is {} bytes (must be a multiple of 16 below 2^40)", who, i, d.strides[i]);
  }
  const std::uint64_t inner = std::uint64_t{d.box[0]} * d.elem_bytes;
  if (inner % 16 != 0) return fmt::format("{}: the inner box is {} bytes (must be a multiple of 16)", who, inner);
  if (d.swizzle != TmaSwizzle::none && inner > static_cast<std::uint64_t>(d.swizzle))
    return fmt::format("{}: the inner box is {} bytes, wider than its {}-byte swizzle", who, inner,
                       static_cast<int>(d.swizzle));
  return {};
}

void tma_encode(const TmaDesc& d, void* out) {
  if (std::string why = tma_check(d); !why.empty()) throw InvalidArgument(d.what, why);
  if (reinterpret_cast<std::uintptr_t>(out) % 64 != 0) throw Error("jit: tensor map storage must be 64-byte aligned");
  CUtensorMapSwizzle sw = CU_TENSOR_MAP_SWIZZLE_NONE;
  switch (d.swizzle) {
    case TmaSwizzle::none: sw = CU_TENSOR_MAP_SWIZZLE_NONE; break;
    case TmaSwizzle::b32: sw = CU_TENSOR_MAP_SWIZZLE_32B; break;
    case TmaSwizzle::b64: sw = CU_TENSOR_MAP_SWIZZLE_64B; break;
    case TmaSwizzle::b128: sw = CU_TENSOR_MAP_SWIZZLE_128B; break;
  }
  cuuint64_t dims[5], strides[4];
  cuuint32_t box[5], elem_strides[5];
  for (int i = 0; i < d.rank; ++i) {
    dims[i] = d.dims[i];
    box[i] = d.box[i];
    elem_strides[i] = 1;
    if (i + 1 < d.rank) strides[i] = d.strides[i];
  }
  CUtensorMap map;
  // Out-of-bounds elements read as zero (FLOAT_OOB_FILL_NONE), which is what K, M and N tails
  // rely on: a zero A or B element adds nothing, a zero scale scales nothing.
  CU_CHECK(JIT_CU(cuTensorMapEncodeTiled)(&map, d.dtype, static_cast<cuuint32_t>(d.rank), const_cast<void*>(d.base),
                                          dims, strides, box, elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, sw,
                                          d.l2_promotion, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
           fmt::format("encoding the tensor map of {} (rank {}, dims {}x{}x{}, box {}x{}x{})", d.what, d.rank,
                       d.dims[0], d.dims[1], d.rank > 2 ? d.dims[2] : 1, d.box[0], d.box[1],
                       d.rank > 2 ? d.box[2] : 1));
  std::memcpy(out, &map, sizeof(map));
}

TmaDesc tma_matrix(const char* what, const void* base, CUtensorMapDataType dtype, int elem_bytes, i64 rows,
                   i64 cols, i64 ld, int groups, i64 batch, std::uint32_t box_rows, std::uint32_t box_cols,
                   TmaSwizzle swizzle, bool force_3d) {
  TmaDesc d;
  d.what = what;
  d.dtype = dtype;
  d.elem_bytes = elem_bytes;
  d.base = base;
  d.swizzle = swizzle;
  d.rank = (groups > 1 || force_3d) ? 3 : 2;
  d.dims[0] = static_cast<std::uint64_t>(cols);
  d.dims[1] = static_cast<std::uint64_t>(rows);
  d.strides[0] = static_cast<std::uint64_t>(ld) * elem_bytes;
  d.box[0] = box_cols;
  d.box[1] = box_rows;
  if (d.rank == 3) {
    d.dims[2] = static_cast<std::uint64_t>(groups);
    d.strides[1] = static_cast<std::uint64_t>(batch) * elem_bytes;
    d.box[2] = 1;
  }
  return d;
}

}  // namespace jit::detail
