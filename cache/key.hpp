// The cache key: what determines a cubin's bytes, and nothing else (no paths, no device serial).
#pragma once

#include <string>
#include <vector>

#include "cache/hash.hpp"

namespace jit::cache {

// Bump when the entry format or the key recipe changes.
constexpr int kEntryFormat = 1;

struct KeyInputs {
  std::string stub;                  // the rendered instantiation source
  std::string name_expr;             // the kernel's name expression
  std::string arch;                  // sm_90a, ...
  std::vector<std::string> options;  // every NVRTC option, arch included
  std::string nvrtc_version;         // "13.0"
  std::string library_version;       // jitgemm's
  Digest headers;                    // digest of every embedded header (name + contents)
};

Digest make_key(const KeyInputs& in);

}  // namespace jit::cache
