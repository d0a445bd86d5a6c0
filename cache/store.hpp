// The persistent kernel store. One entry = a directory <root>/kernels/<key>/ holding kernel.cubin
// and meta.json, built under <root>/tmp/ and renamed into place, so no reader sees a partial entry.
// Every load verifies size and checksum; a bad entry is removed and reported once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/hash.hpp"
#include "jit/options.hpp"
#include "runtime/log.hpp"

namespace jit::cache {

// Everything an entry records besides its cubin.
struct EntryMeta {
  int format = 0;
  std::string key;             // hex
  std::string family, config;  // "reference", its printable config
  std::string kernel;          // lowered (mangled) kernel name
  std::string name_expr, stub, arch, nvrtc_version, library_version, headers_digest;
  std::vector<std::string> options;
  std::uint64_t cubin_bytes = 0;
  std::string cubin_xxh3;      // hex checksum of kernel.cubin
  double compile_ms = 0;
  int registers = -1, spill_stores = -1, spill_loads = -1, stack_bytes = -1;
  std::string created;         // ISO-8601 UTC
};

std::string to_json(const EntryMeta& m);                       // pretty, one object
bool from_json(const std::string& text, EntryMeta* m, std::string* why);

struct Loaded {
  std::string cubin;
  EntryMeta meta;
};

struct EntryInfo {
  std::string key, path;
  std::uint64_t bytes = 0;  // on disk, both files
  std::chrono::system_clock::time_point last_used;
  bool ok = false;
  std::string problem;      // why it is bad (verify)
  EntryMeta meta;
};

class DiskCache {
 public:
  DiskCache(std::string root, CacheMode mode, const detail::Logger& log);
  ~DiskCache();

  const std::string& root() const { return root_; }
  CacheMode mode() const { return mode_; }
  bool readable() const { return mode_ != CacheMode::off; }
  // False once a write failed: from then on kernels live in memory only.
  bool writable() const;

  // A verified entry, or nullopt (miss, or a bad entry: warned about and removed if writable).
  std::optional<Loaded> load(const Digest& key) const;
  // Atomic insert. False (with one warning per cache) when the directory cannot be written.
  bool store(const Digest& key, const std::string& cubin, const EntryMeta& meta) const;

  // An exclusive inter-process lock on one key (flock), held while compiling it so that N processes
  // missing the same key compile it once. nullptr when locking is impossible (read-only cache).
  class KeyLock {
   public:
    explicit KeyLock(int fd) : fd_(fd) {}
    ~KeyLock();
    KeyLock(const KeyLock&) = delete;
    KeyLock& operator=(const KeyLock&) = delete;

   private:
    int fd_;
  };
  std::unique_ptr<KeyLock> lock(const Digest& key) const;

  // For `jitgemm cache`: every entry, optionally with its cubin verified.
  std::vector<EntryInfo> list(bool verify) const;
  // Removes entries unused for longer than `older_than`, then the least recently used ones until
  // at most `max_bytes` remain. Returns the number removed.
  std::size_t prune(std::optional<std::chrono::seconds> older_than,
                    std::optional<std::uint64_t> max_bytes) const;
  std::size_t clear() const;
  std::string entry_dir(const Digest& key) const;

 private:
  bool remove_entry(const std::string& dir) const;  // rename aside, then delete
  void disable_writes(const std::string& why) const;

  std::string root_;
  CacheMode mode_;
  const detail::Logger& log_;
  mutable std::atomic<bool> write_failed_{false};
  mutable detail::OnceFlag warned_unwritable_;
};

}  // namespace jit::cache
