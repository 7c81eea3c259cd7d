#include "session/session_folder.hpp"

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace postroll {

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

unique_fd::~unique_fd() {
  if (fd_ >= 0)
    ::close(fd_);
}

namespace {

// fd -> the name of the file it holds, for messages (name_opened_files).
std::mutex names_mtx;
std::unordered_map<int, std::string>& names() {
  static std::unordered_map<int, std::string> m;
  return m;
}

std::string proc_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

error bad(const fs::path& file, const std::string& what) { return error{errc::bad_input, file.string() + ": " + what}; }


// openat2 confines the whole lookup to the folder, symlinks included.
int openat2_beneath(int dirfd, const std::string& rel, std::uint64_t flags, std::uint64_t resolve) {
  open_how how{};
  how.flags = flags;
  how.resolve = resolve;
  return int(::syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how));
}

// Without openat2 (old kernels, some seccomp filters): one component at a
// time, following no symlink at all (stricter than needed, never looser).
int walk_nofollow(int dirfd, const std::string& rel, int last_flags) {
  std::vector<std::string> parts;
  for (const auto& p : fs::path{rel})
    if (!p.empty() && p != ".")
      parts.push_back(p.string());
  if (parts.empty()) {
    errno = ENOENT;
    return -1;
  }
  unique_fd cur{::dup(dirfd)};
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    int next = ::openat(cur.get(), parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0)
      return errno == ENOTDIR ? (errno = ELOOP, -1) : -1;
    cur = unique_fd{next};
  }
  return ::openat(cur.get(), parts.back().c_str(), last_flags | O_NOFOLLOW | O_CLOEXEC);
}

int open_confined(int dirfd, const std::string& rel, int flags, bool inner_symlinks) {
  std::uint64_t resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (inner_symlinks ? 0 : RESOLVE_NO_SYMLINKS);
  int fd = openat2_beneath(dirfd, rel, std::uint64_t(flags | O_CLOEXEC), resolve);
  if (fd < 0 && (errno == ENOSYS || errno == EPERM))
    fd = walk_nofollow(dirfd, rel, flags);
  return fd;
}

std::string why_not_opened(int err, const std::string& what) {
  auto in = what.empty() ? std::string{} : " (" + what + ")";
  switch (err) {
    case ENOENT:
    case ENOTDIR: return "file does not exist" + in;
    case EXDEV: return "resolves outside the session folder" + in;
    case ELOOP: return "is a symbolic link postroll does not follow" + in;
    case EACCES:
    case EPERM: return "is not readable" + in;
    default: return std::string{"cannot be opened: "} + std::strerror(err) + in;
  }
}

}  // namespace

opened_file::opened_file(unique_fd fd, fs::path name, std::int64_t size, std::uint64_t dev, std::uint64_t ino,
                         std::int64_t mtime_ns)
    : fd_(std::move(fd)), name_(std::move(name)), size_(size), dev_(dev), ino_(ino), mtime_ns_(mtime_ns) {
  std::lock_guard<std::mutex> g{names_mtx};
  names()[fd_.get()] = name_.string();
}

opened_file::opened_file(opened_file&& o) noexcept
    : fd_(std::move(o.fd_)), name_(std::move(o.name_)), size_(o.size_), dev_(o.dev_), ino_(o.ino_),
      mtime_ns_(o.mtime_ns_) {}

opened_file& opened_file::operator=(opened_file&& o) noexcept {
  if (this != &o) {
    if (fd_) {
      std::lock_guard<std::mutex> g{names_mtx};
      names().erase(fd_.get());
    }
    fd_ = std::move(o.fd_);
    name_ = std::move(o.name_);
    size_ = o.size_;
    dev_ = o.dev_;
    ino_ = o.ino_;
    mtime_ns_ = o.mtime_ns_;
  }
  return *this;
}

opened_file::~opened_file() {
  if (fd_) {
    std::lock_guard<std::mutex> g{names_mtx};
    names().erase(fd_.get());
  }
}

int opened_file::release() {
  if (fd_) {
    std::lock_guard<std::mutex> g{names_mtx};
    names().erase(fd_.get());
  }
  return fd_.release();
}

std::string opened_file::path() const { return proc_path(fd_.get()); }

result<std::string> opened_file::read_all(std::size_t max_bytes) const {
  std::string out;
  char buf[65536];
  for (off_t at = 0;;) {
    auto n = ::pread(fd_.get(), buf, sizeof buf, at);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return error{errc::io, name_.string() + ": cannot be read: " + std::strerror(errno)};
    }
    if (n == 0)
      return out;
    if (out.size() + std::size_t(n) > max_bytes)
      return bad(name_, "larger than " + std::to_string(max_bytes / 1024) + " KB (is it really a manifest?)");
    out.append(buf, std::size_t(n));
    at += n;
  }
}

std::string name_opened_files(std::string text) {
  static const std::string prefix = "/proc/self/fd/";
  std::lock_guard<std::mutex> g{names_mtx};
  for (std::size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at)) {
    auto digits = at + prefix.size();
    auto end = digits;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])))
      ++end;
    auto it = end > digits ? names().find(std::stoi(text.substr(digits, end - digits))) : names().end();
    if (it == names().end()) {
      at = end;
      continue;
    }
    text.replace(at, end - at, it->second);
    at += it->second.size();
  }
  return text;
}

namespace {

bool path_within(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *r != *q)
      return false;
  return true;
}

std::string fd_path(int fd) {
  char buf[PATH_MAX + 1];
  auto n = ::readlink(proc_path(fd).c_str(), buf, PATH_MAX);
  return n > 0 ? std::string(buf, std::size_t(n)) : std::string{};
}

result<opened_file> open_confined_file(int dirfd, const fs::path& display, const std::string& rel,
                                       const std::string& what, bool inner_symlinks) {
  auto name = display / rel;
  if (!plain_relative(rel))
    return bad(name, "resolves outside the session folder" + (what.empty() ? "" : " (" + what + ")"));
  // O_PATH first: the file's type is known before it is opened for reading,
  // so a FIFO never blocks and a device is never opened.
  unique_fd located;
  if (inner_symlinks) {
    // Symlinks may point anywhere inside the folder (absolute ones too):
    // where the descriptor really leads is checked, not the path.
    located = unique_fd{::openat(dirfd, rel.c_str(), O_PATH | O_CLOEXEC)};
    if (!located)
      return bad(name, why_not_opened(errno, what));
    auto real = fd_path(located.get());
    auto root = fd_path(dirfd);
    if (real.empty() || root.empty() || !path_within(root, real))
      return bad(name, "resolves outside the session folder" + (what.empty() ? "" : " (" + what + ")"));
  } else {
    located = unique_fd{open_confined(dirfd, rel, O_PATH, false)};
    if (!located)
      return bad(name, why_not_opened(errno, what));
  }
  struct stat st;
  if (::fstat(located.get(), &st) != 0)
    return bad(name, why_not_opened(errno, what));
  if (!S_ISREG(st.st_mode))
    return bad(name, "is not a regular file" + (what.empty() ? "" : " (" + what + ")"));
  unique_fd fd{::open(proc_path(located.get()).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (!fd)
    return bad(name, why_not_opened(errno, what));
  struct stat again;
  if (::fstat(fd.get(), &again) != 0 || again.st_ino != st.st_ino || again.st_dev != st.st_dev)
    return bad(name, "changed while it was opened" + (what.empty() ? "" : " (" + what + ")"));
  return opened_file{std::move(fd),          name, std::int64_t(st.st_size), std::uint64_t(st.st_dev),
                     std::uint64_t(st.st_ino), std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

}  // namespace

result<opened_file> open_beneath(int dirfd, const fs::path& display, const std::string& rel, const std::string& what) {
  return open_confined_file(dirfd, display, rel, what, true);
}

result<opened_file> session_folder::open_output(const std::string& rel) const {
  return open_confined_file(fd_.get(), path_, rel, "", false);
}

std::vector<std::pair<std::string, std::int64_t>> session_folder::list_outputs(const std::string& rel) const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  if (!plain_relative(rel))
    return out;
  unique_fd dir{open_confined(fd_.get(), rel, O_RDONLY | O_DIRECTORY, false)};
  if (!dir)
    return out;
  DIR* d = ::fdopendir(::dup(dir.get()));
  if (!d)
    return out;
  while (auto* e = ::readdir(d)) {
    struct stat st;
    if (::fstatat(dir.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
      out.emplace_back(e->d_name, std::int64_t(st.st_size));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

result<session_folder_ptr> session_folder::open(const fs::path& dir) {
  unique_fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (!fd) {
    int err = errno;
    if (err == ENOENT)
      return bad(dir, "session folder does not exist");
    if (err == ENOTDIR)
      return bad(dir, "is not a folder (postroll takes a session folder)");
    return bad(dir, std::string{"cannot open the session folder: "} + std::strerror(err));
  }
  char buf[PATH_MAX + 1];
  auto n = ::readlink(proc_path(fd.get()).c_str(), buf, PATH_MAX);
  if (n <= 0)
    return bad(dir, "cannot tell where the session folder is (is /proc mounted?)");
  auto folder = std::make_shared<session_folder>();
  folder->path_ = std::string(buf, std::size_t(n));
  folder->fd_ = std::move(fd);
  return session_folder_ptr{std::move(folder)};
}

result<opened_file> session_folder::open_file(const std::string& rel, const std::string& what) const {
  return open_beneath(fd_.get(), path_, rel, what);
}

namespace {

maybe_error own_dir_problem(int fd, const fs::path& display) {
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return error{errc::io, display.string() + ": " + std::strerror(errno)};
  if (!S_ISDIR(st.st_mode))
    return error{errc::io, display.string() + ": is not a folder"};
  if (st.st_uid != ::geteuid())
    return error{errc::bad_input, display.string() + ": is owned by user " + std::to_string(st.st_uid) +
                             ", not by postroll's (" + std::to_string(::geteuid()) +
                             "); postroll writes only into folders of its own (remove it or change its owner)"};
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && ::fchmod(fd, st.st_mode & 0755) != 0)
    return error{errc::io, display.string() + ": is writable by other users and cannot be made private: " +
                             std::strerror(errno)};
  return std::nullopt;
}

}  // namespace

result<fs::path> session_folder::output_dir(const std::string& rel) const {
  auto display = path_ / rel;
  if (!plain_relative(rel))
    return error{errc::io, display.string() + ": an output folder must be inside the session folder"};
  unique_fd cur{::dup(fd_.get())};
  fs::path at = path_;
  for (const auto& part : fs::path{rel}) {
    if (part.empty() || part == ".")
      continue;
    at /= part;
    if (::mkdirat(cur.get(), part.c_str(), 0755) != 0 && errno != EEXIST)
      return error{errc::io, at.string() + ": cannot create output folder: " + std::strerror(errno)};
    unique_fd next{::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
    if (!next) {
      int err = errno;
      struct stat st;
      bool link = ::fstatat(cur.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
      if (link)
        return error{errc::bad_input, at.string() + ": is a symbolic link, not a real folder; postroll writes its "
                                                    "outputs only into a folder it made (remove it)"};
      if (err == ENOTDIR || err == ELOOP)
        return error{errc::io, at.string() + ": is a file where postroll's output folder should be"};
      errno = err;
      return error{errc::io, at.string() + ": cannot open output folder: " + std::strerror(errno)};
    }
    if (auto problem = own_dir_problem(next.get(), at))
      return *problem;
    cur = std::move(next);
  }
  return display;
}

namespace {

// The folder holding `rel` inside `dirfd` (no symlink on the way; created
// when `create`), and the file's name in it.
result<std::pair<unique_fd, std::string>> parent_of(int dirfd, const fs::path& display, const std::string& rel,
                                                     bool create) {
  auto name = display / rel;
  if (!plain_relative(rel))
    return error{errc::io, name.string() + ": outside the session folder"};
  fs::path p{rel};
  auto leaf = p.filename().string();
  if (leaf.empty() || leaf == ".")
    return error{errc::io, name.string() + ": not a file name"};
  unique_fd cur{::dup(dirfd)};
  for (const auto& part : p.parent_path()) {
    if (part.empty() || part == ".")
      continue;
    if (create && ::mkdirat(cur.get(), part.c_str(), 0755) != 0 && errno != EEXIST)
      return error{errc::io, name.string() + ": cannot create its folder: " + std::strerror(errno)};
    unique_fd next{::openat(cur.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
    if (!next)
      return error{errc::io, name.string() + ": " +
                               (errno == ENOENT ? std::string{"its folder does not exist"}
                                : errno == ELOOP || errno == ENOTDIR
                                  ? std::string{"a folder on its way is a symbolic link or a file"}
                                  : std::string{std::strerror(errno)})};
    cur = std::move(next);
  }
  return std::make_pair(std::move(cur), leaf);
}

}  // namespace

maybe_error session_folder::remove_file(const std::string& rel) const {
  auto parent = parent_of(fd_.get(), path_, rel, false);
  if (!parent)
    return parent.err().message.find("does not exist") != std::string::npos ? maybe_error{} : parent.err();
  if (::unlinkat(parent->first.get(), parent->second.c_str(), 0) != 0 && errno != ENOENT)
    return error{errc::io, (path_ / rel).string() + ": cannot delete: " + std::strerror(errno)};
  return std::nullopt;
}

maybe_error session_folder::move_file(const std::string& rel, const std::string& dest_rel) const {
  auto from = parent_of(fd_.get(), path_, rel, false);
  if (!from)
    return from.err().message.find("does not exist") != std::string::npos ? maybe_error{} : from.err();
  auto to = parent_of(fd_.get(), path_, dest_rel, true);
  if (!to)
    return to.err();
  if (::renameat(from->first.get(), from->second.c_str(), to->first.get(), to->second.c_str()) != 0 && errno != ENOENT)
    return error{errc::io, (path_ / rel).string() + ": cannot move to " + (path_ / dest_rel).string() + ": " +
                             std::strerror(errno)};
  return std::nullopt;
}

namespace {

// Empties the directory `fd` (which it then owns), following no symlink.
maybe_error empty_tree(unique_fd fd, const fs::path& display) {
  DIR* d = ::fdopendir(::dup(fd.get()));
  if (!d)
    return error{errc::io, display.string() + ": cannot list: " + std::strerror(errno)};
  std::vector<std::pair<std::string, bool>> entries;  // name, is a real directory
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..")
      continue;
    struct stat st;
    if (::fstatat(fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      entries.emplace_back(name, S_ISDIR(st.st_mode));
  }
  ::closedir(d);
  for (const auto& [name, is_dir] : entries) {
    if (is_dir) {
      unique_fd sub{::openat(fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
      if (sub)
        if (auto err = empty_tree(std::move(sub), display / name))
          return err;
    }
    if (::unlinkat(fd.get(), name.c_str(), is_dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT)
      return error{errc::io, (display / name).string() + ": cannot delete: " + std::strerror(errno)};
  }
  return std::nullopt;
}

}  // namespace

maybe_error session_folder::remove_tree(const std::string& rel) const {
  auto parent = parent_of(fd_.get(), path_, rel, false);
  if (!parent)
    return parent.err().message.find("does not exist") != std::string::npos ? maybe_error{} : parent.err();
  unique_fd dir{::openat(parent->first.get(), parent->second.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
  if (!dir) {
    if (errno == ENOENT)
      return std::nullopt;
    if (errno == ELOOP || errno == ENOTDIR)  // a link or a file where the folder was: it goes, nothing it points to
      return ::unlinkat(parent->first.get(), parent->second.c_str(), 0) == 0
                 ? maybe_error{}
                 : error{errc::io, (path_ / rel).string() + ": cannot delete: " + std::strerror(errno)};
    return error{errc::io, (path_ / rel).string() + ": " + std::strerror(errno)};
  }
  if (auto err = empty_tree(std::move(dir), path_ / rel))
    return err;
  if (::unlinkat(parent->first.get(), parent->second.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return error{errc::io, (path_ / rel).string() + ": cannot delete: " + std::strerror(errno)};
  return std::nullopt;
}

void session_folder::remove_if_empty(const std::string& rel) const {
  if (auto parent = parent_of(fd_.get(), path_, rel, false))
    ::unlinkat(parent->first.get(), parent->second.c_str(), AT_REMOVEDIR);  // fails unless empty: fine
}

maybe_error check_own_dir(const fs::path& dir) {
  unique_fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
  if (!fd) {
    if (errno == ELOOP || errno == ENOTDIR)
      return error{errc::io, dir.string() + ": is not a real folder (a symbolic link or a file)"};
    return error{errc::io, dir.string() + ": " + std::strerror(errno)};
  }
  return own_dir_problem(fd.get(), dir);
}

bool plain_relative(const std::string& rel) {
  if (rel.empty() || rel.front() == '/')
    return false;
  for (const auto& part : fs::path{rel})
    if (part == "..")
      return false;
  return true;
}

}  // namespace postroll
