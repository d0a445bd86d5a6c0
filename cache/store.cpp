#include "cache/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "cache/key.hpp"

namespace fs = std::filesystem;

namespace jit::cache {

namespace {

constexpr const char* kCubinName = "kernel.cubin";
constexpr const char* kMetaName = "meta.json";

std::string errno_text(int e) { return std::strerror(e); }

// mkdir -p with mode 0700 for every directory this creates.
bool make_dirs(const std::string& path, std::string* why) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return true;
  std::string partial;
  for (const auto& part : fs::path(path)) {
    partial = (fs::path(partial) / part).string();
    if (partial == "/" || fs::is_directory(partial, ec)) continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      *why = "cannot create " + partial + ": " + errno_text(errno);
      return false;
    }
  }
  return true;
}

bool read_file(const std::string& path, std::string* out, int* err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return false;
  }
  out->clear();
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

// Writes and fsyncs a whole file.
bool write_file(const std::string& path, const std::string& data, std::string* why) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *why = "cannot create " + path + ": " + errno_text(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      *why = "cannot write " + path + ": " + errno_text(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    *why = "cannot fsync " + path + ": " + errno_text(errno);
    ::close(fd);
    return false;
  }
  return ::close(fd) == 0;
}

void fsync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string unique_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<std::uint64_t>(::getpid())};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%d-%016llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

// Checks one entry directory; fills `loaded` when it is whole.
bool verify_entry(const std::string& dir, const std::string* expected_key, Loaded* loaded,
                  std::string* why) {
  std::string meta_text;
  int err = 0;
  if (!read_file(dir + "/" + kMetaName, &meta_text, &err)) {
    *why = std::string("meta.json unreadable: ") + errno_text(err);
    return false;
  }
  if (!from_json(meta_text, &loaded->meta, why)) return false;
  if (loaded->meta.format != kEntryFormat) {
    *why = "entry format " + std::to_string(loaded->meta.format) + " is not " +
           std::to_string(kEntryFormat);
    return false;
  }
  if (expected_key && loaded->meta.key != *expected_key) {
    *why = "meta.json names key " + loaded->meta.key;
    return false;
  }
  if (!read_file(dir + "/" + kCubinName, &loaded->cubin, &err)) {
    *why = std::string("kernel.cubin unreadable: ") + errno_text(err);
    return false;
  }
  if (loaded->cubin.size() != loaded->meta.cubin_bytes) {
    *why = "kernel.cubin has " + std::to_string(loaded->cubin.size()) + " bytes, meta.json says " +
           std::to_string(loaded->meta.cubin_bytes) + " (truncated?)";
    return false;
  }
  if (digest_bytes(loaded->cubin).hex() != loaded->meta.cubin_xxh3) {
    *why = "kernel.cubin checksum mismatch (corrupted)";
    return false;
  }
  return true;
}

}  // namespace

// ---- metadata as JSON ----------------------------------------------------------------------

std::string to_json(const EntryMeta& m) {
  nlohmann::ordered_json j;
  j["format"] = m.format;
  j["key"] = m.key;
  j["family"] = m.family;
  j["config"] = m.config;
  j["kernel"] = m.kernel;
  j["cubin_bytes"] = m.cubin_bytes;
  j["cubin_xxh3_128"] = m.cubin_xxh3;
  j["compile_ms"] = m.compile_ms;
  j["registers"] = m.registers;
  j["spill_stores"] = m.spill_stores;
  j["spill_loads"] = m.spill_loads;
  j["stack_bytes"] = m.stack_bytes;
  j["created"] = m.created;
  j["key_inputs"] = {{"arch", m.arch},
                     {"nvrtc_version", m.nvrtc_version},
                     {"library_version", m.library_version},
                     {"headers_xxh3_128", m.headers_digest},
                     {"options", m.options},
                     {"name_expr", m.name_expr},
                     {"stub", m.stub}};
  return j.dump(2) + "\n";
}

bool from_json(const std::string& text, EntryMeta* m, std::string* why) {
  try {
    auto j = nlohmann::json::parse(text);
    m->format = j.at("format").get<int>();
    m->key = j.at("key").get<std::string>();
    m->family = j.value("family", "");
    m->config = j.value("config", "");
    m->kernel = j.at("kernel").get<std::string>();
    m->cubin_bytes = j.at("cubin_bytes").get<std::uint64_t>();
    m->cubin_xxh3 = j.at("cubin_xxh3_128").get<std::string>();
    m->compile_ms = j.value("compile_ms", 0.0);
    m->registers = j.value("registers", -1);
    m->spill_stores = j.value("spill_stores", -1);
    m->spill_loads = j.value("spill_loads", -1);
    m->stack_bytes = j.value("stack_bytes", -1);
    m->created = j.value("created", "");
    const auto& k = j.at("key_inputs");
    m->arch = k.at("arch").get<std::string>();
    m->nvrtc_version = k.at("nvrtc_version").get<std::string>();
    m->library_version = k.at("library_version").get<std::string>();
    m->headers_digest = k.at("headers_xxh3_128").get<std::string>();
    m->options = k.at("options").get<std::vector<std::string>>();
    m->name_expr = k.at("name_expr").get<std::string>();
    m->stub = k.at("stub").get<std::string>();
    return true;
  } catch (const std::exception& e) {
    *why = std::string("meta.json is not valid entry metadata: ") + e.what();
    return false;
  }
}

// ---- the store -----------------------------------------------------------------------------

DiskCache::KeyLock::~KeyLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

DiskCache::DiskCache(std::string root, CacheMode mode, const detail::Logger& log)
    : root_(std::move(root)), mode_(mode), log_(log) {
  if (mode_ != CacheMode::readwrite) return;
  std::string why;
  if (!make_dirs(root_ + "/kernels", &why) || !make_dirs(root_ + "/tmp", &why) ||
      !make_dirs(root_ + "/locks", &why)) {
    disable_writes(why);
    return;
  }
  if (::access(root_.c_str(), W_OK) != 0) disable_writes(root_ + " is not writable");
}

DiskCache::~DiskCache() = default;

bool DiskCache::writable() const { return mode_ == CacheMode::readwrite && !write_failed_.load(); }

void DiskCache::disable_writes(const std::string& why) const {
  write_failed_.store(true);
  if (warned_unwritable_.first())
    log_.warn("kernel cache {} is not writable ({}); compiled kernels stay in memory only", root_,
              why);
}

std::string DiskCache::entry_dir(const Digest& key) const {
  return root_ + "/kernels/" + key.hex();
}

std::optional<Loaded> DiskCache::load(const Digest& key) const {
  if (!readable()) return std::nullopt;
  const std::string dir = entry_dir(key);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return std::nullopt;  // a plain miss
  Loaded loaded;
  std::string why;
  const std::string hex = key.hex();
  if (!verify_entry(dir, &hex, &loaded, &why)) {
    // Another process may be replacing this very entry; recompiling is always safe.
    log_.warn("kernel cache entry {} is bad ({}); recompiling", dir, why);
    if (writable()) remove_entry(dir);
    return std::nullopt;
  }
  if (writable()) ::utimensat(AT_FDCWD, (dir + "/" + kMetaName).c_str(), nullptr, 0);  // LRU
  return loaded;
}

bool DiskCache::store(const Digest& key, const std::string& cubin, const EntryMeta& meta) const {
  if (!writable()) return false;
  std::string why;
  const std::string tmp = root_ + "/tmp/" + key.hex() + "." + unique_suffix();
  if (::mkdir(tmp.c_str(), 0700) != 0) {
    disable_writes("cannot create " + tmp + ": " + errno_text(errno));
    return false;
  }
  bool ok = write_file(tmp + "/" + kCubinName, cubin, &why) &&
            write_file(tmp + "/" + kMetaName, to_json(meta), &why);
  if (ok) {
    fsync_dir(tmp);
    const std::string dst = entry_dir(key);
    if (::rename(tmp.c_str(), dst.c_str()) == 0) {
      fsync_dir(root_ + "/kernels");
      return true;
    }
    int e = errno;
    std::error_code ec;
    fs::remove_all(tmp, ec);
    // Another process got there first with the same bytes: that is success.
    if (e == EEXIST || e == ENOTEMPTY) return true;
    disable_writes("cannot rename into " + dst + ": " + errno_text(e));
    return false;
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  disable_writes(why);
  return false;
}

bool DiskCache::remove_entry(const std::string& dir) const {
  // Rename first so the entry disappears at once; a concurrent remover's rename simply fails.
  const std::string trash = root_ + "/tmp/removed." + unique_suffix();
  if (::rename(dir.c_str(), trash.c_str()) != 0) return false;
  std::error_code ec;
  fs::remove_all(trash, ec);
  return true;
}

std::unique_ptr<DiskCache::KeyLock> DiskCache::lock(const Digest& key) const {
  if (!writable()) return nullptr;
  const std::string path = root_ + "/locks/" + key.hex() + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd);
      return nullptr;
    }
  }
  return std::make_unique<KeyLock>(fd);
}

std::vector<EntryInfo> DiskCache::list(bool verify) const {
  std::vector<EntryInfo> out;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(root_ + "/kernels", ec)) {
    if (!de.is_directory(ec)) continue;
    EntryInfo e;
    e.key = de.path().filename().string();
    e.path = de.path().string();
    for (const auto& f : fs::directory_iterator(de.path(), ec))
      if (f.is_regular_file(ec)) e.bytes += f.file_size(ec);
    struct stat st;
    std::string meta_path = e.path + "/" + kMetaName;
    if (::stat(meta_path.c_str(), &st) == 0)
      e.last_used = std::chrono::system_clock::from_time_t(st.st_mtime);
    Loaded loaded;
    if (verify) {
      e.ok = verify_entry(e.path, &e.key, &loaded, &e.problem);
    } else {
      std::string text;
      int err = 0;
      e.ok = read_file(meta_path, &text, &err) && from_json(text, &loaded.meta, &e.problem);
      if (!e.ok && e.problem.empty()) e.problem = "meta.json unreadable";
    }
    e.meta = std::move(loaded.meta);
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

std::size_t DiskCache::prune(std::optional<std::chrono::seconds> older_than,
                             std::optional<std::uint64_t> max_bytes) const {
  auto entries = list(false);
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.last_used < b.last_used; });
  const auto now = std::chrono::system_clock::now();
  std::uint64_t total = 0;
  for (const auto& e : entries) total += e.bytes;
  std::size_t removed = 0;
  for (const auto& e : entries) {
    bool old = older_than && now - e.last_used > *older_than;
    bool over = max_bytes && total > *max_bytes;
    if (!old && !over) continue;
    if (remove_entry(e.path)) {
      ++removed;
      total -= e.bytes;
    }
  }
  return removed;
}

std::size_t DiskCache::clear() const {
  std::size_t removed = 0;
  for (const auto& e : list(false))
    if (remove_entry(e.path)) ++removed;
  std::error_code ec;
  // Leftovers of crashed writers, and lock files nobody holds.
  for (const auto& de : fs::directory_iterator(root_ + "/tmp", ec)) fs::remove_all(de.path(), ec);
  for (const auto& de : fs::directory_iterator(root_ + "/locks", ec)) {
    int fd = ::open(de.path().c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) fs::remove(de.path(), ec);
    ::close(fd);
  }
  return removed;
}

}  // namespace jit::cache
