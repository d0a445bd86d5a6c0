// jitgemm info: devices, NVRTC, the cache directory and what it holds.
#include <nvrtc.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cache/store.hpp"
#include "cli/commands.hpp"
#include "jit/runtime.hpp"
#include "runtime/driver.hpp"
#include "runtime/nvrtc_compiler.hpp"

namespace jit::cli {

void add_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "devices, NVRTC version, cache directory and contents");
  static bool as_json = false;
  cmd->add_flag("--json", as_json, "print one JSON object");
  cmd->callback([] {
    const Options opts = Options::from_env();
    nlohmann::ordered_json j;
    j["version"] = JITGEMM_VERSION;
    j["nvrtc"] = detail::nvrtc_version();
    int n_archs = 0;
    nvrtcGetNumSupportedArchs(&n_archs);
    std::vector<int> archs(n_archs);
    if (n_archs) nvrtcGetSupportedArchs(archs.data());
    j["nvrtc_archs"] = archs;

    const auto& drv = detail::driver();
    j["driver_loaded"] = drv.loaded;
    j["devices"] = nlohmann::json::array();
    if (!drv.loaded) {
      j["driver_error"] = drv.error;
    } else if (drv.cuInit(0) == CUDA_SUCCESS) {
      int version = 0, count = 0;
      drv.cuDriverGetVersion(&version);
      j["driver_version"] = std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
      drv.cuDeviceGetCount(&count);
      for (int i = 0; i < count; ++i) {
        CUdevice dev;
        drv.cuDeviceGet(&dev, i);
        DeviceSpec s = query_device(dev);
        j["devices"].push_back({{"index", i}, {"name", s.name}, {"arch", s.arch}, {"sms", s.num_sms},
                                {"smem_optin_bytes", s.smem_per_block_optin}, {"l2_bytes", s.l2_bytes}});
      }
    }

    cache::DiskCache disk(opts.resolved_cache_dir(), CacheMode::read, detail::Logger(LogLevel::off));
    std::uint64_t bytes = 0;
    auto entries = disk.list(false);
    for (const auto& e : entries) bytes += e.bytes;
    const char* mode = opts.cache_mode == CacheMode::off ? "off" : opts.cache_mode == CacheMode::read ? "read" : "readwrite";
    j["cache"] = {{"dir", disk.root()}, {"mode", mode}, {"entries", entries.size()}, {"bytes", bytes}};

    if (as_json) {
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("jitgemm %s\n", JITGEMM_VERSION);
    std::printf("NVRTC   %s (archs:", detail::nvrtc_version().c_str());
    for (int a : archs) std::printf(" %d", a);
    std::printf(")\n");
    if (!drv.loaded) {
      std::printf("driver  not loaded: %s\n", drv.error.c_str());
    } else {
      std::printf("driver  %s\n", j.value("driver_version", std::string("?")).c_str());
    }
    if (j["devices"].empty()) std::printf("devices none\n");
    for (const auto& d : j["devices"])
      std::printf("device  %d: %s, %s, %d SMs, %d KB shared memory per block (opt-in), %lld MB L2\n",
                  d["index"].get<int>(), d["name"].get<std::string>().c_str(),
                  d["arch"].get<std::string>().c_str(), d["sms"].get<int>(),
                  d["smem_optin_bytes"].get<int>() / 1024, d["l2_bytes"].get<long long>() >> 20);
    std::printf("cache   %s (%s): %zu entries, %.1f MB\n", disk.root().c_str(), mode, entries.size(),
                bytes / 1048576.0);
  });
}

}  // namespace jit::cli
