// NVRTC: the reference family compiles for every arch and every dtype/layout/scale combination
// without spills; compile errors carry the log and the saved source; the ptxas report is parsed.
#include <filesystem>

#include "runtime/nvrtc_compiler.hpp"
#include "test_util.hpp"

using namespace jit;

TEST_SUITE("test_compiler") {

TEST_CASE("reference family: every combination compiles for sm_80, sm_86, sm_89 and sm_90a, no spills") {
  test::TempDir dir("refcompile");
  Runtime rt(test::quiet_options(dir.path()));
  GemmOptions o;
  o.family = Family::reference;
  struct Scaling {
    DType ab;
    ScaleKind sa, sb;
  };
  const std::vector<Scaling> scalings = {
      {DType::bf16, ScaleKind::none, ScaleKind::none},
      {DType::fp16, ScaleKind::none, ScaleKind::none},
      {DType::fp32, ScaleKind::none, ScaleKind::none},
      {DType::e4m3, ScaleKind::block_1x128, ScaleKind::block_128x128},
      {DType::e4m3, ScaleKind::per_row, ScaleKind::per_col},
      {DType::s8, ScaleKind::per_row, ScaleKind::per_col},
      {DType::s8, ScaleKind::none, ScaleKind::none},
  };
  int n = 0;
  for (const char* arch : {"sm_80", "sm_86", "sm_89", "sm_90a"}) {
    for (Layout l : {Layout::dense, Layout::contiguous_indices, Layout::contiguous_offsets, Layout::masked}) {
      for (const auto& s : scalings) {
        for (DType d : {DType::bf16, DType::fp32}) {
          // Every scaling with bf16/fp32 output on sm_90a; the arches see a sample to stay quick.
          if (std::string(arch) != "sm_90a" && (d == DType::fp32 || l == Layout::contiguous_offsets)) continue;
          ProblemDesc p;
          p.layout = l;
          p.num_groups = l == Layout::dense ? 1 : 4;
          p.m = p.n = 256;
          p.k = 512;
          p.a = p.b = s.ab;
          p.d = d;
          p.a_scale = s.sa;
          p.b_scale = s.sb;
          p.has_c = d == DType::fp32;
          auto r = rt.precompile(p, flagship_device(arch), o);
          CAPTURE(arch);
          CAPTURE(r.config);
          CAPTURE(r.error);
          REQUIRE(r.status == PrecompileResult::Status::compiled);
          CHECK(r.registers > 0);
          CHECK(r.spill_bytes == 0);
          ++n;
        }
      }
    }
  }
  MESSAGE(n << " reference kernels compiled");
}

TEST_CASE("a compile error carries the NVRTC log and the saved source") {
  test::TempDir dir("compile-error");
  detail::Logger log(LogLevel::off);
  detail::KernelSource src{"#include <jit/types.hpp>\n__global__ void broken() { this_is_not_declared(); }\n", "&broken"};
  try {
    detail::nvrtc_compile(src, detail::nvrtc_options("sm_90a"), "broken", "", dir.path(), log);
    FAIL("no CompileError");
  } catch (const CompileError& e) {
    CHECK(e.log().find("this_is_not_declared") != std::string::npos);
    CHECK(std::string(e.what()).find("this_is_not_declared") != std::string::npos);
    REQUIRE_FALSE(e.source_path().empty());
    CHECK(std::filesystem::exists(e.source_path()));
  }
}

TEST_CASE("dump dir gets source, PTX, cubin and log") {
  test::TempDir dir("dump");
  detail::Logger log(LogLevel::off);
  detail::KernelSource src{"#include <jit/types.hpp>\ntemplate <int N> __global__ void k(float* p) { p[threadIdx.x] *= N; }\n"
                           "template __global__ void k<3>(float*);\n", "&k<3>"};
  auto out = detail::nvrtc_compile(src, detail::nvrtc_options("sm_80"), "dumped", dir.path(), dir.path(), log);
  CHECK_FALSE(out.cubin.empty());
  CHECK(out.lowered_name == "_Z1kILi3EEvPf");
  for (const char* ext : {".cu", ".ptx", ".cubin", ".log"})
    CHECK(std::filesystem::exists(dir.path() + "/dumped" + ext));
}

TEST_CASE("ptxas report parsing") {
  detail::CompileOutput out;
  detail::parse_ptxas_report(
      "ptxas info    : Compiling entry function '_Z1kv' for 'sm_90a'\n"
      "ptxas info    : Function properties for _Z1kv\n"
      "ptxas         .     24 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads\n"
      "ptxas info    : Used 168 registers, used 1 barriers\n",
      &out);
  CHECK(out.registers == 168);
  CHECK(out.stack_bytes == 24);
  CHECK(out.spill_stores == 8);
  CHECK(out.spill_loads == 12);
}

}  // TEST_SUITE
