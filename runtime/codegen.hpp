// Codegen helpers shared by every family: the instantiation stub with named template constants.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "jit/types.hpp"
#include "runtime/nvrtc_compiler.hpp"

namespace jit::detail {

std::string cpp_value(DType t);      // "jit::DType::bf16"
std::string cpp_value(Layout l);     // "jit::Layout::masked"
std::string cpp_value(ScaleKind s);  // "jit::ScaleKind::none"
inline std::string cpp_value(int v) { return std::to_string(v); }
inline std::string cpp_value(bool v) { return v ? "true" : "false"; }

// Named template arguments, rendered as "/*BLOCK_M=*/128" in the stub.
class TemplateArgs {
 public:
  template <class T>
  TemplateArgs& add(const char* name, T value) {
    args_.emplace_back(name, cpp_value(value));
    return *this;
  }
  std::string commented() const;
  std::string plain() const;

 private:
  std::vector<std::pair<std::string, std::string>> args_;
};

// "#include <header>" + "template __global__ void kernel<args>(params_type);"
KernelSource render_instantiation(const std::string& header, const std::string& kernel,
                                  const std::string& params_type, const TemplateArgs& args);

}  // namespace jit::detail
