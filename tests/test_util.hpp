// Shared by the test files: GPU gating and a private runtime over a private cache directory.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "jit/jitgemm.hpp"
#include "testing/device.hpp"

namespace jit::test {

// Decorator for GPU cases: skipped (and reported as such) where no GPU exists.
#define GPU_CASE(name) TEST_CASE(name * doctest::skip(!::jit::testing::gpu_available()))

// A fresh, empty directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline TempDir::TempDir(const std::string& tag) {
  static int counter = 0;
  path_ = (std::filesystem::temp_directory_path() /
           ("jitgemm-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter)))
              .string();
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

inline TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

inline Options quiet_options(const std::string& cache_dir) {
  Options o;
  o.cache_dir = cache_dir;
  o.log_level = LogLevel::error;
  return o;
}

}  // namespace jit::test
