#include "session/output_file.hpp"

#include <istream>
#include <ostream>
#include <vector>

#include <fstream>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace postroll {

namespace {

maybe_error fsync_path(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    return error{errc::io, p.string() + ": cannot open for fsync: " + std::strerror(errno)};
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0)
    return error{errc::io, p.string() + ": fsync failed: " + std::strerror(saved)};
  return std::nullopt;
}

}  // namespace

std::string disk_full_message(const std::string& message, const fs::path& folder) {
  if (message.find("No space left") == std::string::npos && message.find("ENOSPC") == std::string::npos)
    return message;
  std::string free;
  if (auto bytes = volume_free_bytes(folder)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " (%.1f MB free)", double(*bytes) / 1e6);
    free = buf;
  }
  return folder.string() + ": the disk is full" + free + "; free space on its volume and retry the job";
}

std::optional<std::int64_t> volume_free_bytes(const fs::path& dir) {
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0)
    return std::nullopt;
  return std::int64_t(st.f_bavail) * std::int64_t(st.f_frsize);
}

std::int64_t folder_bytes(const fs::path& dir) {
  std::int64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec))
      n += std::int64_t(it->file_size(ec));
  return n;
}

std::int64_t copy_prefix(std::istream& in, std::ostream& out, std::int64_t bytes) {
  std::vector<char> buf(1 << 20);
  std::int64_t copied = 0;
  while (copied < bytes && in) {
    in.read(buf.data(), std::streamsize(std::min<std::int64_t>(bytes - copied, std::int64_t(buf.size()))));
    out.write(buf.data(), in.gcount());
    copied += in.gcount();
  }
  return copied;
}

maybe_error sync_file_and_folder(const fs::path& file) {
  if (auto err = fsync_path(file, O_RDONLY))
    return err;
  return fsync_path(file.parent_path(), O_RDONLY | O_DIRECTORY);
}

fs::path partial_path(const fs::path& final_path) {
  // One partial file per writing thread: a stage attempt that was given up
  // (its worker killed, its thread abandoned) may still be cleaning up when
  // the next attempt writes; with a shared name it deleted the new
  // attempt's file (seen in CI under load). Each attempt runs on a thread
  // of its own, which keeps its id while it lives.
  // The host name too: workers on several machines share the session
  // folders, and thread ids repeat across machines.
  static thread_local const std::string suffix = [] {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return ".partial." + std::string{host} + "." + std::to_string(::gettid());
  }();
  return fs::path{final_path.string() + suffix};
}

void discard_all_partials(const fs::path& final_path) {
  std::error_code ec;
  auto prefix = final_path.filename().string() + ".partial";
  for (auto it = fs::directory_iterator(final_path.parent_path(), ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    if (it->path().filename().string().rfind(prefix, 0) == 0)
      fs::remove(it->path(), ec);
}

namespace {
thread_local commit_gate current_gate;
}

commit_gate_scope::commit_gate_scope(commit_gate gate) : previous_(std::move(current_gate)) {
  current_gate = std::move(gate);
}

commit_gate_scope::~commit_gate_scope() { current_gate = std::move(previous_); }

maybe_error commit_partial(const fs::path& final_path) {
  auto partial = partial_path(final_path);
  if (current_gate)
    if (auto refused = current_gate(final_path))
      return refused;
  if (auto err = fsync_path(partial, O_RDONLY))
    return err;
  std::error_code ec;
  fs::rename(partial, final_path, ec);
  if (ec)
    return error{errc::io, final_path.string() + ": cannot rename from .partial: " + ec.message()};
  return fsync_path(final_path.parent_path(), O_RDONLY | O_DIRECTORY);
}

void discard_partial(const fs::path& final_path) {
  std::error_code ec;
  auto partial = partial_path(final_path);
  fs::remove(partial, ec);
}

early_writeback::~early_writeback() {
  if (fd_ >= 0)
    ::close(fd_);
}

void early_writeback::kick() {
  if (fd_ < 0)
    fd_ = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ >= 0)
    ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
}

int remove_stale_partials(const fs::path& dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.find(".partial") != std::string::npos && it->is_regular_file(ec)) {
      fs::remove(it->path(), ec);
      ++n;
    }
  }
  return n;
}

maybe_error write_file_atomically(const std::filesystem::path& file, const std::string& text) {
  auto done = write_atomically(file, [&](const std::filesystem::path& partial) -> result<bool> {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(text.data(), std::streamsize(text.size()));
    out.close();
    if (!out)
      return error{errc::io, partial.string() + ": cannot write"};
    return true;
  });
  if (!done)
    return done.err();
  return std::nullopt;
}

std::string megabytes(std::int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", double(bytes) / 1e6);
  return buf;
}

result<std::string> naming_full_disk(result<std::string> out, const std::filesystem::path& folder) {
  if (!out)
    return error{out.err().code, disk_full_message(out.err().message, folder)};
  return out;
}

}  // namespace postroll
