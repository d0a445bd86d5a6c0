// One exception hierarchy for everything the library throws. Library code never exits.
#pragma once

#include <stdexcept>
#include <string>

namespace jit {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A caller's argument broke a rule; thrown before anything touches the GPU.
class InvalidArgument : public Error {
 public:
  InvalidArgument(std::string argument, std::string rule)
      : Error("jit: invalid argument '" + argument + "': " + rule),
        argument_(std::move(argument)),
        rule_(std::move(rule)) {}
  const std::string& argument() const noexcept { return argument_; }
  const std::string& rule() const noexcept { return rule_; }

 private:
  std::string argument_, rule_;
};

// NVRTC rejected a kernel. Carries the full compiler log and where the rendered source was saved.
class CompileError : public Error {
 public:
  CompileError(const std::string& what, std::string log, std::string source_path)
      : Error(what + "\n--- NVRTC log ---\n" + log +
              (source_path.empty() ? std::string() : "\n--- source saved at " + source_path)),
        log_(std::move(log)),
        source_path_(std::move(source_path)) {}
  const std::string& log() const noexcept { return log_; }
  const std::string& source_path() const noexcept { return source_path_; }

 private:
  std::string log_, source_path_;
};

// A CUDA driver call failed: the driver's error name plus what the library was doing.
class CudaError : public Error {
 public:
  CudaError(int code, const std::string& name, const std::string& doing)
      : Error("jit: CUDA error " + name + " while " + doing), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// The request is valid but no kernel family can run it here (e.g. FP8 on sm_80).
class Unsupported : public Error {
 public:
  using Error::Error;
};

}  // namespace jit
