// Shared by the SM90 compile tests: one runtime whose compiles leave their ptxas log and SASS in a
// dump directory, and the checks every compiled kernel must pass -- no failure, no spills, entry
// registers within the launch bounds, no ptxas warning of serialized wgmma or ignored setmaxnreg,
// and, where cuobjdump left SASS, the expected wgmma, no local memory, and consumer registers
// within their setmaxnreg budget.
#pragma once

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "test_util.hpp"

namespace jit::test {

struct Sm90KernelTraits {
  const char* family;       // "sm90_fp8"
  const char* wgmma_sass;   // "QGMMA", "HGMMA.64x"
  int threads;              // block size (launch bounds)
  int math_threads;         // consumer threads: 256 means setmaxnreg moves registers to them
  int consumer_regs;        // their setmaxnreg budget
};

struct Sm90CompileEnv {
  explicit Sm90CompileEnv(const std::string& tag)
      : dir(tag), dump(dir.path() + "/dump"), rt([&] {
          Options o = quiet_options(dir.path() + "/cache");
          o.dump_dir = dump;  // every compile leaves <family>_<key16>.{log,cubin,sass}
          return o;
        }()) {}

  TempDir dir;
  std::string dump;
  Runtime rt;
  DeviceSpec dev = flagship_device("sm_90a");
  int sass_checked = 0;

  // Returns the highest register index the SASS uses + 1 (the consumers' real need under
  // setmaxnreg), or ptxas's count where there is no SASS.
  int check(const PrecompileResult& r, const Sm90KernelTraits& k, const std::string& what) {
    INFO(what);
    INFO(r.error);
    REQUIRE(r.status != PrecompileResult::Status::failed);
    REQUIRE(r.status != PrecompileResult::Status::unsupported);
    CHECK(r.family == k.family);
    CHECK(r.registers > 0);
    CHECK(r.registers <= std::min(255, 65536 / k.threads / 8 * 8));  // 384 threads: 168
    CHECK(r.spill_bytes == 0);

    const std::string base = dump + "/" + k.family + "_" + r.key.substr(0, 16);
    if (r.status == PrecompileResult::Status::compiled) {
      // ptxas says so when it serializes wgmma (a branch between a wgmma and one in flight,
      // register pressure) or cannot honour setmaxnreg: either costs most of the speed.
      const std::string log = read(base + ".log");
      for (const char* bad : {"Performance Loss", "setmaxnreg", "C7508", "C7510", "C7515", "C7518"})
        CHECK_MESSAGE(log.find(bad) == std::string::npos, log);
    }
    const std::string sass = read(base + ".sass");
    if (sass.find("Function") == std::string::npos) return r.registers;  // no cuobjdump: no SASS
    ++sass_checked;
    CHECK_MESSAGE(sass.find(k.wgmma_sass) != std::string::npos, "no " << k.wgmma_sass << " in the SASS");
    CHECK_MESSAGE(!std::regex_search(sass, std::regex(R"(\b(LDL|STL)\b)")), "local memory in the SASS");
    int max_reg = -1;
    static const std::regex reg(R"(\bR(\d+)\b)");
    for (auto it = std::sregex_iterator(sass.begin(), sass.end(), reg); it != std::sregex_iterator(); ++it)
      max_reg = std::max(max_reg, std::stoi((*it)[1]));
    if (k.math_threads == 256) {
      CHECK(sass.find("USETMAXREG") != std::string::npos);
      CHECK(max_reg < k.consumer_regs);
    } else {
      CHECK(max_reg < r.registers);
    }
    return max_reg + 1;
  }

  static std::string read(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
};

}  // namespace jit::test
