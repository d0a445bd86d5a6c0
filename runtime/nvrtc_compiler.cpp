#include "runtime/nvrtc_compiler.hpp"

#include <nvrtc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include "jit/errors.hpp"
#include "runtime/cuda_check.hpp"
#include "runtime/embedded_files.hpp"

namespace jit::detail {

namespace {

struct ProgramDeleter {
  void operator()(nvrtcProgram* p) const {
    nvrtcDestroyProgram(p);
    delete p;
  }
};

void write_text(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string save_source(const std::string& dir, const std::string& tag, const std::string& src) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string path = dir + "/" + tag + ".cu";
  write_text(path, src);
  return std::filesystem::exists(path, ec) ? path : std::string();
}

// cuobjdump from the toolkit, if one is installed: only used to dump SASS for debugging.
std::string find_cuobjdump() {
  std::vector<std::string> candidates;
  if (const char* home = std::getenv("CUDA_HOME")) candidates.push_back(std::string(home) + "/bin/cuobjdump");
  candidates.push_back("/usr/local/cuda/bin/cuobjdump");
  for (const auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) return c;
  return {};
}

void dump_all(const std::string& dir, const std::string& tag, const KernelSource& src,
              const CompileOutput& out, const Logger& log) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string base = dir + "/" + tag;
  write_text(base + ".cu", src.stub);
  write_text(base + ".ptx", out.ptx);
  write_text(base + ".cubin", out.cubin);
  write_text(base + ".log", out.log);
  std::string tool = find_cuobjdump();
  if (tool.empty()) {
    log.warn("JITGEMM_DUMP_DIR: no cuobjdump found (set CUDA_HOME); SASS not dumped");
    return;
  }
  std::string cmd = tool + " -sass '" + base + ".cubin' > '" + base + ".sass' 2>&1";
  if (std::system(cmd.c_str()) != 0) log.warn("cuobjdump failed on {}.cubin", base);
}

}  // namespace

std::vector<std::string> nvrtc_options(const std::string& arch) {
  return {
      "--gpu-architecture=" + arch,
      "-std=c++20",
      "--device-as-default-execution-space",
      "-lineinfo",
      "-Xptxas=-v",  // the resource report (registers, spills) is parsed from the log
  };
}

std::string nvrtc_version() {
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  return std::to_string(major) + "." + std::to_string(minor);
}

void parse_ptxas_report(const std::string& log, CompileOutput* out) {
  static const std::regex regs(R"(Used (\d+) registers)");
  static const std::regex frame(
      R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  std::smatch m;
  if (std::regex_search(log, m, regs)) out->registers = std::stoi(m[1]);
  if (std::regex_search(log, m, frame)) {
    out->stack_bytes = std::stoi(m[1]);
    out->spill_stores = std::stoi(m[2]);
    out->spill_loads = std::stoi(m[3]);
  }
}

CompileOutput nvrtc_compile(const KernelSource& src, const std::vector<std::string>& options,
                            const std::string& tag, const std::string& dump_dir,
                            const std::string& failure_dir, const Logger& log) {
  const auto t0 = std::chrono::steady_clock::now();
  auto headers = embedded_kernel_sources();
  std::vector<const char*> names, contents;
  std::vector<std::string> storage;  // NUL-terminated copies: string_views are not terminated
  storage.reserve(headers.size());
  for (const auto& h : headers) {
    storage.emplace_back(h.contents);
    names.push_back(h.name);
    contents.push_back(storage.back().c_str());
  }

  std::unique_ptr<nvrtcProgram, ProgramDeleter> prog(new nvrtcProgram{});
  nvrtcResult r = nvrtcCreateProgram(prog.get(), src.stub.c_str(), (tag + ".cu").c_str(),
                                     static_cast<int>(names.size()), contents.data(), names.data());
  if (r != NVRTC_SUCCESS) {
    delete prog.release();
    throw CompileError("jit: nvrtcCreateProgram failed: " + nvrtc_error_string(r), "",
                       save_source(failure_dir, tag, src.stub));
  }
  nvrtcAddNameExpression(*prog, src.name_expr.c_str());

  std::vector<const char*> opts;
  for (const auto& o : options) opts.push_back(o.c_str());
  r = nvrtcCompileProgram(*prog, static_cast<int>(opts.size()), opts.data());

  CompileOutput out;
  std::size_t n = 0;
  nvrtcGetProgramLogSize(*prog, &n);
  out.log.resize(n);
  if (n) nvrtcGetProgramLog(*prog, out.log.data());
  while (!out.log.empty() && (out.log.back() == '\0' || out.log.back() == '\n')) out.log.pop_back();
  if (r != NVRTC_SUCCESS) {
    throw CompileError("jit: NVRTC failed to compile " + tag + " (" + nvrtc_error_string(r) + ")",
                       out.log, save_source(dump_dir.empty() ? failure_dir : dump_dir, tag, src.stub));
  }

  const char* lowered = nullptr;
  if (nvrtcGetLoweredName(*prog, src.name_expr.c_str(), &lowered) != NVRTC_SUCCESS || !lowered)
    throw CompileError("jit: NVRTC could not lower the name expression " + src.name_expr, out.log,
                       save_source(failure_dir, tag, src.stub));
  out.lowered_name = lowered;

  nvrtcGetCUBINSize(*prog, &n);
  out.cubin.resize(n);
  nvrtcGetCUBIN(*prog, out.cubin.data());
  if (nvrtcGetPTXSize(*prog, &n) == NVRTC_SUCCESS && n > 1) {
    out.ptx.resize(n - 1);
    nvrtcGetPTX(*prog, out.ptx.data());
  }
  out.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  parse_ptxas_report(out.log, &out);
  if (!dump_dir.empty()) dump_all(dump_dir, tag, src, out, log);
  return out;
}

}  // namespace jit::detail
