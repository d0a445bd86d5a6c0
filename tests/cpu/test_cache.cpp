// The disk cache: key stability and sensitivity, atomic entries, corruption recovery, cache modes,
// and several processes compiling the same keys at once.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "cache/key.hpp"
#include "cache/store.hpp"
#include "runtime/embedded_files.hpp"
#include "test_util.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace jit;

namespace {

cache::KeyInputs sample_inputs() {
  cache::KeyInputs in;
  in.stub = "#include <jit/reference/gemm.cuh>\ntemplate __global__ void k<1>(P);\n";
  in.name_expr = "&k<1>";
  in.arch = "sm_90a";
  in.options = {"--gpu-architecture=sm_90a", "-std=c++20"};
  in.nvrtc_version = "13.0";
  in.library_version = "0.1.0";
  in.headers = cache::digest_bytes("headers");
  return in;
}

ProblemDesc small_problem(DType t = DType::bf16) {
  ProblemDesc p;
  p.layout = Layout::masked;
  p.num_groups = 2;
  p.m = 64;
  p.n = 64;
  p.k = 128;
  p.a = p.b = t;
  return p;
}

GemmOptions reference_only() {
  GemmOptions o;
  o.family = Family::reference;
  return o;
}

std::string only_entry_dir(const std::string& root) {
  std::vector<std::string> dirs;
  for (const auto& e : fs::directory_iterator(root + "/kernels")) dirs.push_back(e.path().string());
  REQUIRE(dirs.size() == 1);
  return dirs[0];
}

// Captures stderr (the library's log) during a scope.
class CaptureStderr {
 public:
  CaptureStderr() : path_(fs::temp_directory_path() / ("jitgemm-stderr-" + std::to_string(::getpid()))) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
  }
  std::string finish() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    std::ifstream f(path_);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    fs::remove(path_);
    return s;
  }

 private:
  fs::path path_;
  int saved_;
};

int count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("test_cache") {

TEST_CASE("key: the same inputs give the same key") {
  CHECK(cache::make_key(sample_inputs()) == cache::make_key(sample_inputs()));
  CHECK(cache::make_key(sample_inputs()).hex().size() == 32);
}

TEST_CASE("key: changing any one input changes the key") {
  const cache::Digest base = cache::make_key(sample_inputs());
  std::vector<std::function<void(cache::KeyInputs&)>> edits = {
      [](auto& i) { i.stub += " "; },
      [](auto& i) { i.name_expr = "&k<2>"; },
      [](auto& i) { i.arch = "sm_80"; },
      [](auto& i) { i.options.push_back("-lineinfo"); },
      [](auto& i) { i.options[1] = "-std=c++17"; },
      [](auto& i) { i.nvrtc_version = "13.1"; },
      [](auto& i) { i.library_version = "0.1.1"; },
      [](auto& i) { i.headers = cache::digest_bytes("headers2"); },
      // Field boundaries matter: moving a character between fields is a different key.
      [](auto& i) { i.options = {"--gpu-architecture=sm_90a-std=c++20"}; },
  };
  std::set<std::string> seen{base.hex()};
  for (auto& edit : edits) {
    cache::KeyInputs in = sample_inputs();
    edit(in);
    CHECK(seen.insert(cache::make_key(in).hex()).second);
  }
}

TEST_CASE("key: runtimes agree, entries name no absolute path, headers are all hashed") {
  test::TempDir a("keys-a"), b("keys-b");
  Runtime ra(test::quiet_options(a.path())), rb(test::quiet_options(b.path()));
  auto r1 = ra.precompile(small_problem(), flagship_device("sm_90a"), reference_only());
  auto r2 = rb.precompile(small_problem(), flagship_device("sm_90a"), reference_only());
  REQUIRE(r1.status == PrecompileResult::Status::compiled);
  REQUIRE(r2.status == PrecompileResult::Status::compiled);
  CHECK(r1.key == r2.key);  // different cache directories, same key
  std::ifstream meta(only_entry_dir(a.path()) + "/meta.json");
  std::string text((std::istreambuf_iterator<char>(meta)), std::istreambuf_iterator<char>());
  CHECK(text.find(a.path()) == std::string::npos);
  CHECK(text.find("/work/") == std::string::npos);
  CHECK(text.find("\"registers\"") != std::string::npos);
  CHECK(text.find("\"cubin_xxh3_128\"") != std::string::npos);
  // Another arch or dtype: another key.
  auto r3 = ra.precompile(small_problem(), flagship_device("sm_80"), reference_only());
  auto r4 = ra.precompile(small_problem(DType::fp16), flagship_device("sm_90a"), reference_only());
  CHECK(r3.key != r1.key);
  CHECK(r4.key != r1.key);
  CHECK(detail::embedded_kernel_sources().size() >= 5);
}

TEST_CASE("store: entries are whole directories, written atomically, read back verified") {
  test::TempDir dir("store");
  detail::Logger log(LogLevel::off);
  cache::DiskCache disk(dir.path(), CacheMode::readwrite, log);
  REQUIRE(disk.writable());
  const cache::Digest key = cache::digest_bytes("k1");
  std::string cubin(5000, '\0');
  for (std::size_t i = 0; i < cubin.size(); ++i) cubin[i] = static_cast<char>(i * 7);
  cache::EntryMeta meta;
  meta.format = cache::kEntryFormat;
  meta.key = key.hex();
  meta.kernel = "kern";
  meta.cubin_bytes = cubin.size();
  meta.cubin_xxh3 = cache::digest_bytes(cubin).hex();
  CHECK_FALSE(disk.load(key).has_value());
  REQUIRE(disk.store(key, cubin, meta));
  auto loaded = disk.load(key);
  REQUIRE(loaded.has_value());
  CHECK(loaded->cubin == cubin);
  CHECK(loaded->meta.kernel == "kern");
  // Nothing left in tmp/, and the entry dir has exactly the two files.
  CHECK(fs::is_empty(dir.path() + "/tmp"));
  CHECK(std::distance(fs::directory_iterator(disk.entry_dir(key)), fs::directory_iterator()) == 2);
  // A second writer of the same key (lost race) also succeeds and leaves the entry intact.
  CHECK(disk.store(key, cubin, meta));
  CHECK(disk.load(key)->cubin == cubin);
  // Threads storing the same key at once: all succeed.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  const cache::Digest key2 = cache::digest_bytes("k2");
  meta.key = key2.hex();
  for (int t = 0; t < 8; ++t) threads.emplace_back([&] { ok += disk.store(key2, cubin, meta); });
  for (auto& t : threads) t.join();
  CHECK(ok == 8);
  CHECK(disk.load(key2).has_value());
  auto entries = disk.list(true);
  CHECK(entries.size() == 2);
  for (const auto& e : entries) CHECK(e.ok);
}

TEST_CASE("recovery: truncated, bit-flipped and garbled entries are detected and recompiled") {
  test::TempDir dir("recover");
  const ProblemDesc p = small_problem();
  const DeviceSpec dev = flagship_device("sm_80");
  std::string key;
  {
    Runtime rt(test::quiet_options(dir.path()));
    auto r = rt.precompile(p, dev, reference_only());
    REQUIRE(r.status == PrecompileResult::Status::compiled);
    key = r.key;
  }
  const std::string entry = dir.path() + "/kernels/" + key;
  const std::vector<std::pair<const char*, std::function<void()>>> damages = {
      {"truncated", [&] { fs::resize_file(entry + "/kernel.cubin", fs::file_size(entry + "/kernel.cubin") / 2); }},
      {"bit flip",
       [&] {
         std::fstream f(entry + "/kernel.cubin", std::ios::in | std::ios::out | std::ios::binary);
         f.seekg(100);
         char c = 0;
         f.read(&c, 1);
         c ^= 0x10;
         f.seekp(100);
         f.write(&c, 1);
       }},
      {"garbled metadata", [&] { std::ofstream(entry + "/meta.json") << "{ not json"; }},
      {"missing cubin", [&] { fs::remove(entry + "/kernel.cubin"); }},
  };
  for (const auto& [what, damage] : damages) {
    CAPTURE(what);
    damage();
    Options o = test::quiet_options(dir.path());
    o.log_level = LogLevel::warn;
    Runtime rt(o);
    CaptureStderr cap;
    auto r = rt.precompile(p, dev, reference_only());
    const std::string err = cap.finish();
    CHECK(r.status == PrecompileResult::Status::compiled);  // detected, so compiled again
    CHECK(r.key == key);
    CHECK(count(err, "is bad") == 1);                        // one warning
    // The new entry is whole: a fresh runtime gets it from disk.
    Runtime rt2(test::quiet_options(dir.path()));
    CHECK(rt2.precompile(p, dev, reference_only()).status == PrecompileResult::Status::cached);
    CHECK(rt2.stats().disk_hits == 1);
  }
}

TEST_CASE("modes: read-only and off never write; read-only still reads") {
  test::TempDir dir("modes");
  const ProblemDesc p = small_problem();
  const DeviceSpec dev = flagship_device("sm_90a");
  Options ro = test::quiet_options(dir.path());
  ro.cache_mode = CacheMode::read;
  {
    Runtime rt(ro);
    CHECK(rt.precompile(p, dev, reference_only()).status == PrecompileResult::Status::compiled);
    CHECK(rt.stats().compiles == 1);
    CHECK_FALSE(fs::exists(dir.path() + "/kernels"));  // nothing created
  }
  {
    Runtime rt(test::quiet_options(dir.path()));  // readwrite fills it
    CHECK(rt.precompile(p, dev, reference_only()).status == PrecompileResult::Status::compiled);
  }
  {
    Runtime rt(ro);
    CHECK(rt.precompile(p, dev, reference_only()).status == PrecompileResult::Status::cached);
    CHECK(rt.stats().disk_hits == 1);
  }
  Options off = test::quiet_options(dir.path());
  off.cache_mode = CacheMode::off;
  {
    Runtime rt(off);
    CHECK(rt.precompile(p, dev, reference_only()).status == PrecompileResult::Status::compiled);
    CHECK(rt.stats().disk_hits == 0);
    // The second request is an in-memory hit.
    CHECK(rt.precompile(p, dev, reference_only()).status == PrecompileResult::Status::cached);
    CHECK(rt.stats().compiles == 1);
  }
}

TEST_CASE("modes: an unwritable directory falls back to memory with one warning") {
  test::TempDir dir("unwritable");
  const std::string blocker = dir.path() + "/file";
  std::ofstream(blocker) << "a file where the cache's parent should be";
  Options o = test::quiet_options(blocker + "/cache");  // mkdir fails (ENOTDIR), even as root
  o.log_level = LogLevel::warn;
  CaptureStderr cap;
  Runtime rt(o);
  auto r1 = rt.precompile(small_problem(), flagship_device("sm_90a"), reference_only());
  auto r2 = rt.precompile(small_problem(DType::fp16), flagship_device("sm_90a"), reference_only());
  const std::string err = cap.finish();
  CHECK(r1.status == PrecompileResult::Status::compiled);
  CHECK(r2.status == PrecompileResult::Status::compiled);
  CHECK(count(err, "not writable") == 1);
}

TEST_CASE("no_compile: a miss throws instead of compiling") {
  test::TempDir dir("nocompile");
  Options o = test::quiet_options(dir.path());
  o.no_compile = true;
  Runtime rt(o);
  auto r = rt.precompile(small_problem(), flagship_device("sm_90a"), reference_only());
  CHECK(r.status == PrecompileResult::Status::failed);
  CHECK(r.error.find("JITGEMM_NO_COMPILE") != std::string::npos);
  CHECK(rt.stats().compiles == 0);
}

TEST_CASE("processes: 4 processes precompiling the same keys into an empty cache all succeed, each key compiled once") {
  test::TempDir dir("procs");
  const std::string cache = dir.path() + "/cache";
  std::vector<pid_t> pids;
  std::vector<std::string> logs;
  for (int i = 0; i < 4; ++i) {
    logs.push_back(dir.path() + "/out" + std::to_string(i));
    const std::string cmd = "JITGEMM_CACHE_DIR='" + cache + "' JITGEMM_LOG=error '" JITGEMM_CLI
                            "' precompile --arch sm_80,sm_90a --preset odd --dtype bf16,fp8 --family reference -j 2 > '" +
                            logs.back() + "' 2>&1";
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    pid_t pid;
    REQUIRE(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) == 0);
    pids.push_back(pid);
  }
  int compiled_total = 0;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    int status = 0;
    REQUIRE(waitpid(pids[i], &status, 0) == pids[i]);
    std::ifstream f(logs[i]);
    std::string out((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CAPTURE(out);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(out.find("0 failed") != std::string::npos);
    std::size_t at = out.find("summary: ");
    REQUIRE(at != std::string::npos);
    compiled_total += std::stoi(out.substr(at + 9));
  }
  detail::Logger log(LogLevel::off);
  cache::DiskCache disk(cache, CacheMode::read, log);
  auto entries = disk.list(true);
  // odd has 7 shapes x 2 dtypes x 2 arches; distinct reference kernels: layouts x dtypes x arches.
  CHECK(entries.size() == 16);
  for (const auto& e : entries) CHECK(e.ok);
  // The per-key lock made the other processes wait and read the entry instead of compiling it.
  CHECK(compiled_total == static_cast<int>(entries.size()));
  CHECK(fs::is_empty(cache + "/tmp"));
}

}  // TEST_SUITE
