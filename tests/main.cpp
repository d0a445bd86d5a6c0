// doctest's main, plus one line saying whether the GPU tier can run here.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "testing/device.hpp"

int main(int argc, char** argv) {
  if (!jit::testing::gpu_available())
    std::printf("[jitgemm tests] no GPU (%s): GPU cases are skipped\n",
                jit::testing::gpu_unavailable_reason().c_str());
  doctest::Context ctx;
  ctx.applyCommandLine(argc, argv);
  return ctx.run();
}
