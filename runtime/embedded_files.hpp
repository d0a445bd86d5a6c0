// Files compiled into the library by cmake/embed_files.cmake (kernel sources, benchmark suites).
#pragma once

#include <span>
#include <string_view>

namespace jit::detail {

struct EmbeddedFile {
  const char* name;           // "jit/reference/gemm.cuh", or a suite name
  std::string_view contents;
};

std::span<const EmbeddedFile> embedded_kernel_sources();
std::span<const EmbeddedFile> embedded_suites();

}  // namespace jit::detail
