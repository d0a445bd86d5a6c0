// When a GEMM's operand loads carry L2 eviction priorities (config L2_HINTS=1), for every family:
// sm90 marks its TMA loads (A's lines evict last, B's first; ptx::L2Evict), sm80 launches with an
// access policy window that makes B's lines evict first (cp.async cannot carry the hint: see
// ptx/cp_async.cuh).
#pragma once

#include "jit/runtime.hpp"

namespace jit::detail {

// They pay where B streams past once and every tile re-reads A: a dense problem of at most two
// m-blocks whose A fits in a quarter of L2 -- measured 1.03-1.15x on the M <= 128 PEERS shapes
// (SM90, and sm80's window 1.03-1.10x). Where many m-blocks re-read each B tile (M = 4096)
// evicting B first cost up to 11%, and the grouped layouts measured level (bench/NOTES.md v0.15).
bool l2_hints_for(const ProblemDesc& p, const DeviceSpec& dev, int block_m);

}  // namespace jit::detail
