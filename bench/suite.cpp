#include "bench/suite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <sstream>

#include "jit/errors.hpp"
#include "runtime/embedded_files.hpp"

namespace jit::bench {

std::vector<std::string> suite_names() {
  std::vector<std::string> names;
  for (const auto& f : detail::embedded_suites()) names.emplace_back(f.name);
  return names;
}

Suite parse_suite(const std::string& name, const std::string& text) {
  Suite s;
  s.name = name;
  std::istringstream in(text);
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream ls(line);
    std::string layout;
    if (!(ls >> layout)) continue;
    SuiteShape sh;
    sh.line = no;
    if (layout == "dense") sh.layout = Layout::dense;
    else if (layout == "contiguous" || layout == "contiguous_indices") sh.layout = Layout::contiguous_indices;
    else if (layout == "contiguous_offsets") sh.layout = Layout::contiguous_offsets;
    else if (layout == "masked") sh.layout = Layout::masked;
    else throw InvalidArgument("suite", fmt::format("{}:{}: unknown layout '{}'", name, no, layout));
    if (!(ls >> sh.groups >> sh.m >> sh.n >> sh.k))
      throw InvalidArgument("suite", fmt::format("{}:{}: expected 'layout groups m n k [max_m]'", name, no));
    ls >> sh.max_m;
    if (sh.layout == Layout::masked && sh.max_m <= 0)
      throw InvalidArgument("suite", fmt::format("{}:{}: masked shapes need max_m", name, no));
    if (sh.groups < 1 || sh.m < 0 || sh.n < 1 || sh.k < 1)
      throw InvalidArgument("suite", fmt::format("{}:{}: groups, n and k must be positive", name, no));
    s.shapes.push_back(sh);
  }
  if (s.shapes.empty()) throw InvalidArgument("suite", "'" + name + "' has no shapes");
  return s;
}

Suite load_suite(const std::string& name_or_path) {
  for (const auto& f : detail::embedded_suites())
    if (name_or_path == f.name) return parse_suite(f.name, std::string(f.contents));
  std::ifstream in(name_or_path);
  if (!in) {
    std::string known;
    for (const auto& n : suite_names()) known += " " + n;
    throw InvalidArgument("suite", "'" + name_or_path + "' is neither a suite (" + known + " ) nor a readable file");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_suite(name_or_path, ss.str());
}

std::vector<std::string> recipe_names() { return {"bf16", "fp16", "fp8", "fp8-row", "int8"}; }

Recipe parse_recipe(const std::string& name) {
  Recipe r;
  r.name = name;
  if (name == "bf16") return r;
  if (name == "fp16") {
    r.ab = r.d = DType::fp16;
    return r;
  }
  if (name == "fp8") {
    r.ab = DType::e4m3;
    r.sa = ScaleKind::block_1x128;
    r.sb = ScaleKind::block_128x128;
    return r;
  }
  if (name == "fp8-row") {
    r.ab = DType::e4m3;
    r.sa = ScaleKind::per_row;
    r.sb = ScaleKind::per_col;
    return r;
  }
  if (name == "int8") {
    r.ab = DType::s8;
    r.sa = ScaleKind::per_row;
    r.sb = ScaleKind::per_col;
    return r;
  }
  throw InvalidArgument("dtype", "'" + name + "' is not one of bf16, fp16, fp8, fp8-row, int8");
}

testing::ProblemSpec make_spec(const SuiteShape& s, const Recipe& r, std::uint64_t seed) {
  testing::ProblemSpec p;
  p.layout = s.layout;
  p.n = s.n;
  p.k = s.k;
  p.ab = r.ab;
  p.d = r.d;
  p.sa = r.sa;
  p.sb = r.sb;
  p.seed = seed + static_cast<std::uint64_t>(s.line);
  const std::uint64_t draw = seed * 7919 + static_cast<std::uint64_t>(s.line);
  switch (s.layout) {
    case Layout::dense: p.rows = {static_cast<int>(s.m)}; break;
    case Layout::contiguous_indices:
    case Layout::contiguous_offsets:
      // Decode-sized experts (few rows) vary more, so some come out empty.
      p.rows = s.m <= 32 ? testing::random_group_rows(s.groups, static_cast<int>(s.m), 0.0, 2.0, draw)
                         : testing::random_group_rows(s.groups, static_cast<int>(s.m), 0.7, 1.3, draw);
      break;
    case Layout::masked:
      p.max_m = s.max_m;
      p.rows = s.m <= 32 ? testing::random_group_rows(s.groups, static_cast<int>(s.m), 0.0, 2.0, draw)
                         : testing::random_group_rows(s.groups, static_cast<int>(s.m), 0.7, 1.3, draw);
      for (auto& v : p.rows) v = static_cast<int>(std::min<std::int64_t>(v, s.max_m));
      break;
  }
  return p;
}

ProblemDesc make_desc(const testing::ProblemSpec& spec) {
  ProblemDesc d;
  d.layout = spec.layout;
  d.num_groups = static_cast<int>(spec.rows.size());
  d.n = spec.n;
  d.k = spec.k;
  d.a = d.b = spec.ab;
  d.d = spec.d;
  d.a_scale = spec.sa;
  d.b_scale = spec.sb;
  d.has_c = spec.with_c;
  d.c = spec.c;
  const std::int64_t total = std::accumulate(spec.rows.begin(), spec.rows.end(), std::int64_t{0});
  switch (spec.layout) {
    case Layout::dense: d.m = spec.rows[0]; break;
    case Layout::contiguous_indices:
      d.m = 0;
      for (int r : spec.rows) d.m += (r + contiguous_alignment() - 1) / contiguous_alignment() * contiguous_alignment();
      break;
    case Layout::contiguous_offsets: d.m = total + spec.extra_rows; break;
    case Layout::masked:
      d.m = spec.max_m ? spec.max_m : *std::max_element(spec.rows.begin(), spec.rows.end());
      d.expected_m = std::max<std::int64_t>(1, total / d.num_groups);
      break;
  }
  return d;
}

std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string shape_label(const SuiteShape& s) {
  if (s.layout == Layout::dense) return fmt::format("{}x{}x{}", s.m, s.n, s.k);
  return fmt::format("{}x{} {}x{}", s.groups, s.m, s.n, s.k);
}

}  // namespace jit::bench
