// Heuristics run on every launch; a thread's last answer makes a repeated call cost a few compares
// instead of a pass over every candidate config. Shared by the families' choose().
#pragma once

#include "jit/runtime.hpp"

namespace jit::detail {

// choose() runs on every launch: a thread's last answer, so that a call repeated with the same
// problem costs a few compares instead of a pass over every candidate.
template <class Config>
class ChoiceMemo {
 public:
  bool find(const ProblemDesc& p, const DeviceSpec& dev, Config* out) const {
    if (!valid_ || !same(p, dev)) return false;
    *out = result_;
    return true;
  }
  void store(const ProblemDesc& p, const DeviceSpec& dev, const Config& c) {
    p_ = p;
    sms_ = dev.num_sms;
    smem_ = dev.smem_per_block_optin;
    cc_major_ = dev.cc_major;
    cc_minor_ = dev.cc_minor;
    result_ = c;
    valid_ = true;
  }

 private:
  bool same(const ProblemDesc& p, const DeviceSpec& dev) const {
    return p.layout == p_.layout && p.num_groups == p_.num_groups && p.m == p_.m && p.n == p_.n && p.k == p_.k &&
           p.expected_m == p_.expected_m && p.a == p_.a && p.d == p_.d && p.has_c == p_.has_c && p.c == p_.c &&
           p.a_scale == p_.a_scale && p.b_scale == p_.b_scale && dev.num_sms == sms_ &&
           dev.smem_per_block_optin == smem_ && dev.cc_major == cc_major_ && dev.cc_minor == cc_minor_;
  }
  bool valid_ = false;
  ProblemDesc p_;
  int sms_ = 0, smem_ = 0, cc_major_ = 0, cc_minor_ = 0;
  Config result_{};
};

}  // namespace jit::detail
