// The jitgemm CLI without a GPU: precompile, cache list/verify/prune/clear, info, errors.
#include <sys/wait.h>

#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "test_util.hpp"

namespace fs = std::filesystem;

namespace {

struct Run {
  int code;
  std::string out;
};

Run cli(const std::string& cache, const std::string& args) {
  const std::string cmd = "JITGEMM_CACHE_DIR='" + cache + "' JITGEMM_LOG=error '" JITGEMM_CLI "' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_SUITE("test_cli") {

TEST_CASE("precompile, list, verify, prune and clear") {
  jit::test::TempDir dir("cli");
  const std::string cache = dir.path() + "/c";
  Run r = cli(cache, "precompile --arch sm_80,sm_90a --preset demo --family reference --dtype bf16");
  CAPTURE(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("summary: 4 compiled") != std::string::npos);
  r = cli(cache, "precompile --arch sm_80,sm_90a --preset demo --family reference --dtype bf16");
  CHECK(r.out.find("4 already cached") != std::string::npos);

  r = cli(cache, "cache list");
  CHECK(r.code == 0);
  CHECK(r.out.find("reference") != std::string::npos);
  r = cli(cache, "cache list --json");
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 4);

  r = cli(cache, "cache verify");
  CHECK(r.code == 0);
  CHECK(r.out.find("4 entries, 0 bad") != std::string::npos);
  // Damage one entry: verify names it and fails.
  const fs::path victim = fs::directory_iterator(cache + "/kernels")->path();
  fs::resize_file(victim / "kernel.cubin", 10);
  r = cli(cache, "cache verify");
  CHECK(r.code == 1);
  CHECK(r.out.find(victim.filename().string()) != std::string::npos);
  CHECK(r.out.find("1 bad") != std::string::npos);

  r = cli(cache, "cache prune --older-than 30d");
  CHECK(r.out.find("removed 0 entries") != std::string::npos);
  r = cli(cache, "cache prune --max-bytes 1");
  CHECK(r.code == 0);
  CHECK(r.out.find("removed 4 entries") != std::string::npos);
  cli(cache, "precompile --arch sm_90a --preset demo --family reference --dtype bf16");
  r = cli(cache, "cache clear");
  CHECK(r.out.find("removed 2 entries") != std::string::npos);
  CHECK(fs::is_empty(cache + "/kernels"));
}

TEST_CASE("info and bad arguments") {
  jit::test::TempDir dir("cli-info");
  Run r = cli(dir.path(), "info");
  CHECK(r.code == 0);
  CHECK(r.out.find("NVRTC") != std::string::npos);
  CHECK(r.out.find(dir.path()) != std::string::npos);
  CHECK(cli(dir.path(), "precompile --preset no-such-suite").code != 0);
  CHECK(cli(dir.path(), "precompile --arch sm_70 --preset demo").code != 0);
  CHECK(cli(dir.path(), "precompile --preset demo --dtype fp64").code != 0);
  CHECK(cli(dir.path(), "cache prune --older-than soon").code != 0);
  CHECK(cli(dir.path(), "frobnicate").code != 0);
}

}  // TEST_SUITE
