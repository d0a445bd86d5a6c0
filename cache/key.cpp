#include "cache/key.hpp"

namespace jit::cache {

Digest make_key(const KeyInputs& in) {
  Hasher h;
  h.field("jitgemm-cache-key").field(static_cast<std::uint64_t>(kEntryFormat));
  h.field(in.library_version).field(in.nvrtc_version).field(in.arch);
  h.field(static_cast<std::uint64_t>(in.options.size()));
  for (const auto& o : in.options) h.field(o);
  h.field(in.name_expr).field(in.stub);
  h.field(in.headers.hi).field(in.headers.lo);
  return h.digest();
}

}  // namespace jit::cache
