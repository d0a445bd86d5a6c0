// Runtime: validate -> pick family -> heuristics -> in-memory table (per context) -> launch.
// A miss goes: codegen -> key -> in-process compile-once table -> disk cache -> NVRTC -> store.
//
// NOTES: the hot path (a config already loaded in the stream's context) takes two driver queries
// (stream context and its id), one shared lock to find the context, one shared lock to find the
// function, and the launch. It renders no source, hashes no source and touches no file.
#include "jit/runtime.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "cache/key.hpp"
#include "cache/store.hpp"
#include "jit/errors.hpp"
#include "runtime/cuda_check.hpp"
#include "runtime/driver.hpp"
#include "runtime/embedded_files.hpp"
#include "runtime/family.hpp"
#include "runtime/log.hpp"
#include "runtime/nvrtc_compiler.hpp"
#include "runtime/scoped_context.hpp"
#include "runtime/validate.hpp"
#include "runtime/workspace.hpp"

#ifndef JITGEMM_VERSION
#define JITGEMM_VERSION "0.0.0"
#endif

namespace jit {

using detail::KernelConfig;
using detail::KernelFamily;

namespace {

// A compiled kernel, shared by every context that loads it.
struct Cubin {
  std::string image;
  std::string lowered_name;
  std::string key;
  int registers = -1, spill_bytes = -1;
};
using CubinPtr = std::shared_ptr<const Cubin>;

// One loaded function in one context. `ready` flips once `fn` is usable; waiters use `done`.
struct FunctionSlot {
  std::atomic<bool> ready{false};
  CUfunction fn = nullptr;
  CUmodule module = nullptr;
  std::promise<void> promise;
  std::shared_future<void> done = promise.get_future().share();
};

struct ContextState {
  unsigned long long id = 0;
  CUcontext ctx = nullptr;
  DeviceSpec spec;
  std::shared_mutex mu;
  std::unordered_map<KernelConfig, std::shared_ptr<FunctionSlot>, detail::KernelConfigHash> functions;
  detail::StreamWorkspaces workspaces;
};

using detail::ScopedContext;

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

struct Runtime::Impl {
  Options opts;
  detail::Logger log;
  cache::DiskCache disk;
  const std::string nvrtc_ver = detail::nvrtc_version();
  const std::string lib_ver = JITGEMM_VERSION;

  std::once_flag headers_once;
  cache::Digest headers;

  std::mutex cubin_mu;
  std::unordered_map<std::string, std::shared_future<CubinPtr>> cubins;

  std::shared_mutex ctx_mu;
  std::vector<std::unique_ptr<ContextState>> contexts;

  std::atomic<std::uint64_t> launches{0}, memory_hits{0}, disk_hits{0}, compiles{0}, module_loads{0};

  explicit Impl(Options o)
      : opts(std::move(o)),
        log(opts.log_level),
        disk(opts.resolved_cache_dir(), opts.cache_mode, log) {}

  ~Impl() {
    // Best effort: contexts may already be gone (their ids then no longer resolve).
    if (!detail::driver().loaded) return;
    for (auto& c : contexts) {
      unsigned long long id = 0;
      if (JIT_CU(cuCtxGetId)(c->ctx, &id) != CUDA_SUCCESS || id != c->id) continue;
      if (JIT_CU(cuCtxPushCurrent)(c->ctx) != CUDA_SUCCESS) continue;
      for (auto& [cfg, slot] : c->functions)
        if (slot->module) JIT_CU(cuModuleUnload)(slot->module);
      const std::string prefix = std::to_string(c->id) + "|";
      for (auto& [id, mf] : aux)
        if (id.rfind(prefix, 0) == 0) JIT_CU(cuModuleUnload)(mf.first);
      try {
        c->workspaces.release(c->ctx);
      } catch (...) {
      }
      CUcontext dummy;
      JIT_CU(cuCtxPopCurrent)(&dummy);
    }
  }

  const cache::Digest& headers_digest() {
    std::call_once(headers_once, [&] {
      cache::Hasher h;
      for (const auto& f : detail::embedded_kernel_sources()) h.field(f.name).field(f.contents);
      headers = h.digest();
    });
    return headers;
  }

  ContextState& context_for(CUstream stream) {
    static const CUresult init = JIT_CU(cuInit)(0);  // idempotent; callers may use only the driver API
    CU_CHECK(init, "initialising the CUDA driver");
    CUcontext ctx = nullptr;
    CU_CHECK(JIT_CU(cuStreamGetCtx)(stream, &ctx),
             "finding the stream's CUDA context (is a context current, and the stream valid?)");
    unsigned long long id = 0;
    CU_CHECK(JIT_CU(cuCtxGetId)(ctx, &id), "reading the CUDA context id");
    {
      std::shared_lock lk(ctx_mu);
      for (auto& c : contexts)
        if (c->id == id) return *c;
    }
    auto st = std::make_unique<ContextState>();
    st->id = id;
    st->ctx = ctx;
    {
      ScopedContext scope(ctx);
      CUdevice dev;
      CU_CHECK(JIT_CU(cuCtxGetDevice)(&dev), "reading the context's device");
      st->spec = query_device(dev);
    }
    std::unique_lock lk(ctx_mu);
    for (auto& c : contexts)
      if (c->id == id) return *c;
    contexts.push_back(std::move(st));
    return *contexts.back();
  }

  const KernelFamily& pick(const ProblemDesc& p, const DeviceSpec& dev, const GemmOptions& o) const {
    const Family want = o.family != Family::automatic ? o.family : opts.force_family;
    for (const KernelFamily* f : detail::kernel_families()) {
      if (want == Family::automatic ? f->family() == Family::reference : f->family() != want) continue;
      if (!f->unsupported(p, dev)) return *f;
    }
    // Only errors get here: explain what each candidate said.
    std::string why;
    for (const KernelFamily* f : detail::kernel_families()) {
      if (want == Family::automatic ? f->family() == Family::reference : f->family() != want) continue;
      why += std::string("\n  ") + f->name() + ": " + f->unsupported(p, dev);
    }
    std::string what = fmt::format("{} {}x{}x{} {}->{} on {} ({})", layout_name(p.layout), p.m, p.n,
                                   p.k, dtype_name(p.a), dtype_name(p.d), dev.arch, dev.name);
    if (want == Family::automatic)
      throw Unsupported("jit: no fast kernel family runs " + what + why +
                        "\n  (family=reference runs anything, slowly)");
    throw Unsupported(std::string("jit: family ") + family_name(want) + " cannot run " + what +
                      (why.empty() ? std::string("\n  (no such family is built)") : why));
  }

  const char* forced_config(const GemmOptions& o) const {
    if (o.config) return o.config;
    return opts.force_config.empty() ? nullptr : opts.force_config.c_str();
  }

  // Compile-once per key in this process; the disk lock makes it once across processes too.
  CubinPtr get_cubin(const KernelFamily& fam, const KernelConfig& cfg, const DeviceSpec& dev,
                     bool* compiled) {
    return get_cubin(fam.render(cfg), fam.name(), fam.describe(cfg), dev, compiled);
  }

  CubinPtr get_cubin(const detail::KernelSource& src, const std::string& family,
                     const std::string& config, const DeviceSpec& dev, bool* compiled) {
    cache::KeyInputs in;
    in.stub = src.stub;
    in.name_expr = src.name_expr;
    in.arch = dev.arch;
    in.options = detail::nvrtc_options(dev.arch);
    in.nvrtc_version = nvrtc_ver;
    in.library_version = lib_ver;
    in.headers = headers_digest();
    const cache::Digest key = cache::make_key(in);
    const std::string hex = key.hex();

    std::promise<CubinPtr> promise;
    std::shared_future<CubinPtr> fut;
    bool owner = false;
    {
      std::lock_guard lk(cubin_mu);
      auto it = cubins.find(hex);
      if (it != cubins.end()) {
        fut = it->second;
      } else {
        fut = promise.get_future().share();
        cubins.emplace(hex, fut);
        owner = true;
      }
    }
    if (!owner) return fut.get();
    try {
      CubinPtr c = load_or_compile(family, config, src, in, key, compiled);
      promise.set_value(c);
      return c;
    } catch (...) {
      promise.set_exception(std::current_exception());
      std::lock_guard lk(cubin_mu);
      cubins.erase(hex);  // the next call retries (a disk or transient failure may pass)
      throw;
    }
  }

  CubinPtr from_disk(const cache::Loaded& l, const std::string& hex, double ms) {
    disk_hits.fetch_add(1, std::memory_order_relaxed);
    log.info("disk hit {} ({} {}) in {:.2f} ms", hex, l.meta.family, l.meta.config, ms);
    auto c = std::make_shared<Cubin>();
    c->image = l.cubin;
    c->lowered_name = l.meta.kernel;
    c->key = hex;
    c->registers = l.meta.registers;
    c->spill_bytes = l.meta.spill_stores + l.meta.spill_loads;
    return c;
  }

  CubinPtr load_or_compile(const std::string& family, const std::string& config,
                           const detail::KernelSource& src, const cache::KeyInputs& in,
                           const cache::Digest& key, bool* compiled) {
    const std::string hex = key.hex();
    auto t0 = std::chrono::steady_clock::now();
    auto ms_since = [&] {
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    if (auto l = disk.load(key)) return from_disk(*l, hex, ms_since());
    const std::string what = family + " " + config + " for " + in.arch;
    if (opts.no_compile)
      throw Error("jit: JITGEMM_NO_COMPILE is set and the cache has no kernel " + hex + " (" + what + ")");

    // Another process may be compiling this key: wait for it, then look again.
    auto lock = disk.lock(key);
    if (lock)
      if (auto l = disk.load(key)) return from_disk(*l, hex, ms_since());

    const std::string tag = family + "_" + hex.substr(0, 16);
    const std::string failure_dir =
        disk.writable() ? disk.root() + "/failed"
                        : (std::filesystem::temp_directory_path() / "jitgemm-failed").string();
    detail::CompileOutput out =
        detail::nvrtc_compile(src, in.options, tag, opts.dump_dir, failure_dir, log);
    compiles.fetch_add(1, std::memory_order_relaxed);
    if (compiled) *compiled = true;
    if (opts.ptxas_verbose) log.info("ptxas report for {}:\n{}", what, out.log);
    const int spills = std::max(0, out.spill_stores) + std::max(0, out.spill_loads);
    if (spills > 0) {
      if (opts.fail_on_spills)
        throw CompileError("jit: " + what + " spills " + std::to_string(spills) +
                               " bytes to local memory (JITGEMM_FAIL_ON_SPILLS)",
                           out.log, "");
      log.warn("{} spills {} bytes to local memory", what, spills);
    }

    cache::EntryMeta meta;
    meta.format = cache::kEntryFormat;
    meta.key = hex;
    meta.family = family;
    meta.config = config;
    meta.kernel = out.lowered_name;
    meta.name_expr = in.name_expr;
    meta.stub = in.stub;
    meta.arch = in.arch;
    meta.nvrtc_version = in.nvrtc_version;
    meta.library_version = in.library_version;
    meta.headers_digest = in.headers.hex();
    meta.options = in.options;
    meta.cubin_bytes = out.cubin.size();
    meta.cubin_xxh3 = cache::digest_bytes(out.cubin).hex();
    meta.compile_ms = out.ms;
    meta.registers = out.registers;
    meta.spill_stores = out.spill_stores;
    meta.spill_loads = out.spill_loads;
    meta.stack_bytes = out.stack_bytes;
    meta.created = now_iso8601();
    disk.store(key, out.cubin, meta);
    log.info("compiled {} in {:.0f} ms: {} registers, {} bytes spilled, key {}", what, out.ms,
             out.registers, spills, hex);

    auto c = std::make_shared<Cubin>();
    c->image = std::move(out.cubin);
    c->lowered_name = out.lowered_name;
    c->key = hex;
    c->registers = out.registers;
    c->spill_bytes = spills;
    return c;
  }

  void load_module(ContextState& cs, const Cubin& cubin, unsigned smem, CUmodule* mod_out,
                   CUfunction* fn_out) {
    ScopedContext scope(cs.ctx);
    CUmodule mod = nullptr;
    CU_CHECK(JIT_CU(cuModuleLoadData)(&mod, cubin.image.data()), "loading the cubin of " + cubin.key);
    module_loads.fetch_add(1, std::memory_order_relaxed);
    CUfunction fn = nullptr;
    CUresult r = JIT_CU(cuModuleGetFunction)(&fn, mod, cubin.lowered_name.c_str());
    if (r == CUDA_SUCCESS && smem > 0)
      r = JIT_CU(cuFuncSetAttribute)(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, static_cast<int>(smem));
    if (r != CUDA_SUCCESS) {
      JIT_CU(cuModuleUnload)(mod);
      CU_CHECK(r, "preparing kernel " + cubin.lowered_name);
    }
    *mod_out = mod;
    *fn_out = fn;
  }

  // Auxiliary kernels (test and benchmark utilities): same compile path, keyed by name expression.
  std::mutex aux_mu;
  std::unordered_map<std::string, std::pair<CUmodule, CUfunction>> aux;  // "<ctx id>|<name expr>"

  CUfunction load_aux(CUstream stream, const detail::KernelSource& src, unsigned smem) {
    ContextState& cs = context_for(stream);
    const std::string id = std::to_string(cs.id) + "|" + src.name_expr;
    std::lock_guard lk(aux_mu);  // utilities are off every hot path: one lock is enough
    auto it = aux.find(id);
    if (it != aux.end()) return it->second.second;
    CubinPtr cubin = get_cubin(src, "aux", src.name_expr, cs.spec, nullptr);
    CUmodule mod;
    CUfunction fn;
    load_module(cs, *cubin, smem, &mod, &fn);
    aux.emplace(id, std::make_pair(mod, fn));
    return fn;
  }

  CUfunction get_function(ContextState& cs, const KernelFamily& fam, const KernelConfig& cfg) {
    {
      std::shared_lock lk(cs.mu);
      auto it = cs.functions.find(cfg);
      if (it != cs.functions.end() && it->second->ready.load(std::memory_order_acquire)) {
        memory_hits.fetch_add(1, std::memory_order_relaxed);
        return it->second->fn;
      }
    }
    std::shared_ptr<FunctionSlot> slot;
    bool owner = false;
    {
      std::unique_lock lk(cs.mu);
      auto [it, inserted] = cs.functions.try_emplace(cfg, nullptr);
      if (inserted) it->second = std::make_shared<FunctionSlot>();
      slot = it->second;
      owner = inserted;
    }
    if (!owner) {
      slot->done.get();  // rethrows the owner's failure
      memory_hits.fetch_add(1, std::memory_order_relaxed);
      return slot->fn;
    }
    try {
      CubinPtr cubin = get_cubin(fam, cfg, cs.spec, nullptr);
      const unsigned smem = fam.dynamic_smem(cfg);
      if (smem > static_cast<unsigned>(cs.spec.smem_per_block_optin))
        throw Unsupported(fmt::format("jit: {} {} needs {} bytes of shared memory; {} allows {}",
                                      fam.name(), fam.describe(cfg), smem, cs.spec.name,
                                      cs.spec.smem_per_block_optin));
      load_module(cs, *cubin, smem, &slot->module, &slot->fn);
      slot->ready.store(true, std::memory_order_release);
      slot->promise.set_value();
      return slot->fn;
    } catch (...) {
      slot->promise.set_exception(std::current_exception());
      std::unique_lock lk(cs.mu);
      cs.functions.erase(cfg);
      throw;
    }
  }

  // What a call on `stream` runs: its context, problem, family and the heuristics' config.
  struct Choice {
    ContextState& cs;
    ProblemDesc p;
    const KernelFamily& fam;
    KernelConfig cfg;
  };
  Choice choose_for(const GroupedGemmArgs& args, CUstream stream, const GemmOptions& o) {
    ContextState& cs = context_for(stream);
    const ProblemDesc p = describe(args);
    const KernelFamily& fam = pick(p, cs.spec, o);
    return {cs, p, fam, fam.choose(p, cs.spec, forced_config(o), o)};
  }

  void run(const GroupedGemmArgs& raw, CUstream stream, const GemmOptions& o) {
    GroupedGemmArgs args = detail::normalize(raw);
    if (args.m == 0) return;  // nothing to compute, nothing to write
    auto [cs, p, fam, cfg] = choose_for(args, stream, o);
    // A kernel that needs a workspace gets the caller's, or the stream's own -- except in a graph
    // capture without the caller's (jit::Workspace says why), which takes a kernel without.
    if (const std::int64_t need = fam.workspace_bytes(cfg, p, cs.spec); need > 0) {
      if (args.workspace.data) {
        if (args.workspace.bytes < static_cast<std::size_t>(need))
          throw InvalidArgument("workspace.bytes",
                                fmt::format("the chosen kernel needs {} bytes (jit::workspace_bytes), got {}",
                                            need, args.workspace.bytes));
      } else if (detail::stream_capturing(stream)) {
        GemmOptions without = o;
        without.no_split_k = true;
        cfg = fam.choose(p, cs.spec, forced_config(o), without);
      } else {
        args.workspace = {cs.workspaces.get(cs.ctx, stream, need), static_cast<std::size_t>(need)};
      }
    }
    CUfunction fn = get_function(cs, fam, cfg);
    fam.launch(fn, cfg, args, cs.spec, stream);
    launches.fetch_add(1, std::memory_order_relaxed);
  }

  std::size_t workspace_bytes(const GroupedGemmArgs& raw, CUstream stream, const GemmOptions& o) {
    const GroupedGemmArgs args = detail::normalize(raw);
    if (args.m == 0) return 0;
    const Choice c = choose_for(args, stream, o);
    return static_cast<std::size_t>(c.fam.workspace_bytes(c.cfg, c.p, c.cs.spec));
  }
};

Runtime::Runtime(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Runtime::~Runtime() = default;

Runtime& Runtime::global() {
  // Never destroyed: kernels may still be in flight at exit, and the driver may be gone first.
  static Runtime* g = new Runtime(Options::from_env());
  return *g;
}

const Options& Runtime::options() const { return impl_->opts; }

RuntimeStats Runtime::stats() const {
  RuntimeStats s;
  s.launches = impl_->launches.load();
  s.memory_hits = impl_->memory_hits.load();
  s.disk_hits = impl_->disk_hits.load();
  s.compiles = impl_->compiles.load();
  s.module_loads = impl_->module_loads.load();
  return s;
}

void Runtime::gemm(const GemmArgs& args, CUstream stream, const GemmOptions& o) {
  impl_->run(detail::as_grouped(args), stream, o);
}

std::size_t Runtime::workspace_bytes(const GemmArgs& args, CUstream stream, const GemmOptions& o) {
  return impl_->workspace_bytes(detail::as_grouped(args), stream, o);
}

std::size_t Runtime::workspace_bytes(const GroupedGemmArgs& args, CUstream stream, const GemmOptions& o) {
  return impl_->workspace_bytes(args, stream, o);
}

void Runtime::grouped_gemm(const GroupedGemmArgs& args, CUstream stream, const GemmOptions& o) {
  if (args.layout == Layout::dense)
    throw InvalidArgument("layout", "grouped_gemm takes a grouped layout; use jit::gemm for dense");
  impl_->run(args, stream, o);
}

PrecompileResult Runtime::precompile(const ProblemDesc& p, const DeviceSpec& dev,
                                     const GemmOptions& o) {
  PrecompileResult r;
  auto t0 = std::chrono::steady_clock::now();
  try {
    const KernelFamily& fam = impl_->pick(p, dev, o);
    const KernelConfig cfg = fam.choose(p, dev, impl_->forced_config(o), o);
    r.family = fam.name();
    r.config = fam.describe(cfg);
    bool compiled = false;
    CubinPtr c = impl_->get_cubin(fam, cfg, dev, &compiled);
    r.status = compiled ? PrecompileResult::Status::compiled : PrecompileResult::Status::cached;
    r.key = c->key;
    r.registers = c->registers;
    r.spill_bytes = c->spill_bytes;
  } catch (const Unsupported& e) {
    r.status = PrecompileResult::Status::unsupported;
    r.error = e.what();
  } catch (const std::exception& e) {
    r.status = PrecompileResult::Status::failed;
    r.error = e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string Runtime::choice(const ProblemDesc& p, const DeviceSpec& dev, const GemmOptions& o) {
  const KernelFamily& fam = impl_->pick(p, dev, o);
  return std::string(fam.name()) + " " + fam.describe(fam.choose(p, dev, impl_->forced_config(o), o));
}

const DeviceSpec& Runtime::device_of(CUstream stream) { return impl_->context_for(stream).spec; }

CUfunction Runtime::load_kernel(CUstream stream, const std::string& source,
                                const std::string& name_expr, unsigned dynamic_smem) {
  return impl_->load_aux(stream, detail::KernelSource{source, name_expr}, dynamic_smem);
}

void gemm(const GemmArgs& args, CUstream stream, const GemmOptions& o) {
  Runtime::global().gemm(args, stream, o);
}

void grouped_gemm(const GroupedGemmArgs& args, CUstream stream, const GemmOptions& o) {
  Runtime::global().grouped_gemm(args, stream, o);
}

std::size_t workspace_bytes(const GemmArgs& args, CUstream stream, const GemmOptions& o) {
  return Runtime::global().workspace_bytes(args, stream, o);
}

std::size_t workspace_bytes(const GroupedGemmArgs& args, CUstream stream, const GemmOptions& o) {
  return Runtime::global().workspace_bytes(args, stream, o);
}

}  // namespace jit
