// Benchmark suites: named shape files (bench/suites/NAME.shapes, embedded at build time) turned
// into concrete problems. Shared by `jitgemm bench` and `jitgemm precompile --preset`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jit/runtime.hpp"
#include "testing/problem.hpp"

namespace jit::bench {

struct SuiteShape {
  Layout layout = Layout::dense;
  int groups = 1;
  std::int64_t m = 0;      // dense: M; grouped: expected rows per group
  std::int64_t n = 0, k = 0;
  std::int64_t max_m = 0;  // masked: rows allocated per group
  int line = 0;            // in the shape file, for messages and seeds
};

struct Suite {
  std::string name;
  std::vector<SuiteShape> shapes;
};

std::vector<std::string> suite_names();           // the embedded ones
// A suite by name (embedded) or a path to a .shapes file. Throws InvalidArgument.
Suite load_suite(const std::string& name_or_path);
Suite parse_suite(const std::string& name, const std::string& text);

// A dtype recipe: what the operands, output and scales are.
struct Recipe {
  std::string name;  // bf16, fp16, fp8 (e4m3 1x128/128x128 -> bf16), fp8-row, int8
  DType ab = DType::bf16, d = DType::bf16;
  ScaleKind sa = ScaleKind::none, sb = ScaleKind::none;
};
Recipe parse_recipe(const std::string& name);
std::vector<std::string> recipe_names();

// The concrete problem for a shape: group sizes drawn from `seed` as the suite files describe.
testing::ProblemSpec make_spec(const SuiteShape& s, const Recipe& r, std::uint64_t seed = 2026);
// Its description for the heuristics, with no GPU (precompile).
ProblemDesc make_desc(const testing::ProblemSpec& spec);

std::string shape_label(const SuiteShape& s);  // "4x8192 4096x7168"

// "a, b,,c" -> {"a", "b", "c"}: the comma lists of the CLI's options.
std::vector<std::string> split_csv(const std::string& s);

}  // namespace jit::bench
