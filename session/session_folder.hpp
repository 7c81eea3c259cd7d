// A session folder opened once, and the files inside it opened through that
// descriptor: nothing read from a session folder can lead postroll outside
// it, and no file is checked by one path lookup and read by another.
//
// Why: a session folder is written by a recorder, maybe by another local
// user. A symlink planted or swapped in between a check and an open would
// otherwise let it read (and publish in outputs) any file the node's user
// can read, or block postroll on a FIFO. docs/security.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "postroll/error.hpp"

namespace postroll {

/// Owns a file descriptor; closes it once.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
  unique_fd& operator=(unique_fd&& o) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  explicit operator bool() const { return fd_ >= 0; }

private:
  int fd_ = -1;
};

/// A regular file opened for reading. While it lives, `path()` names this
/// very file ("/proc/self/fd/N"): GStreamer elements and other libraries
/// that take a file name open the same inode, whatever happens to the name
/// in the folder meanwhile.
class opened_file {
public:
  opened_file() = default;
  opened_file(unique_fd fd, std::filesystem::path name, std::int64_t size, std::uint64_t dev, std::uint64_t ino,
              std::int64_t mtime_ns);
  opened_file(opened_file&&) noexcept;
  opened_file& operator=(opened_file&&) noexcept;
  ~opened_file();

  /// The name to open this file by (valid while this object lives).
  std::string path() const;
  /// The name people know it by: the session folder's path and the file's.
  const std::filesystem::path& name() const { return name_; }
  std::int64_t size() const { return size_; }
  /// Identity on disk: two manifest entries naming one file are counted once.
  std::pair<std::uint64_t, std::uint64_t> identity() const { return {dev_, ino_}; }
  std::int64_t mtime_ns() const { return mtime_ns_; }
  int fd() const { return fd_.get(); }
  /// Hands the descriptor over (the caller closes it); this object is empty after.
  int release();

  /// Reads the whole file through the descriptor.
  /// @returns its bytes, or `bad_input` naming the file when it is larger than `max_bytes`.
  result<std::string> read_all(std::size_t max_bytes) const;

private:
  unique_fd fd_;
  std::filesystem::path name_;
  std::int64_t size_ = 0;
  std::uint64_t dev_ = 0, ino_ = 0;
  std::int64_t mtime_ns_ = 0;
};

/// Replaces every "/proc/self/fd/N" of a file opened with opened_file (and
/// still open) by the file's name: error messages from libraries name the
/// file the user knows. Used where a stage's error or result leaves.
std::string name_opened_files(std::string text);

class session_folder;
using session_folder_ptr = std::shared_ptr<const session_folder>;

/// The session folder, held open.
class session_folder {
public:
  /// Opens `dir` (symlinks in the path given are followed: the caller named
  /// it). @returns the folder, or `bad_input` naming it.
  static result<session_folder_ptr> open(const std::filesystem::path& dir);

  /// Where the opened folder really is (resolved from the descriptor, so
  /// the path that was checked is the folder that is read).
  const std::filesystem::path& path() const { return path_; }
  int fd() const { return fd_.get(); }

  /// Opens `rel` for reading. The path must stay inside the folder: no
  /// absolute path, no "..", no symlink that leads out; the file must be a
  /// regular file (a FIFO, device or folder is refused before it is opened
  /// for reading, so nothing blocks). `what` names the manifest entry.
  /// @returns the file, or `bad_input` whose message starts with the file's
  ///          path and says what is wrong ("file does not exist (...)",
  ///          "resolves outside the session folder", "is not a regular file").
  result<opened_file> open_file(const std::string& rel, const std::string& what) const;

  /// A folder postroll writes into (`rel`, e.g. "postroll/enrichment"),
  /// created when absent. Every component must be a real directory (no
  /// symlink), and the folders postroll creates must be owned by its user
  /// and writable by nobody else (fixed when they are its own).
  /// @returns the folder's path, or `io` naming it and the reason.
  result<std::filesystem::path> output_dir(const std::string& rel) const;

  /// Opens one of postroll's own outputs (`rel`, e.g. "postroll/session.mp4")
  /// for reading: no symlink anywhere on the way (postroll writes none).
  result<opened_file> open_output(const std::string& rel) const;

  /// The regular files directly in the output folder `rel` (no symlink on
  /// the way or among them): name and size. Empty when it does not exist.
  std::vector<std::pair<std::string, std::int64_t>> list_outputs(const std::string& rel) const;

  /// Deletes the file `rel` (a missing one is fine). Every folder on the way
  /// must be a real directory inside the session folder: a symlink swapped
  /// in never makes postroll delete elsewhere. @returns `io` naming it.
  maybe_error remove_file(const std::string& rel) const;

  /// Moves the file `rel` to `dest_rel` (both inside the folder, the
  /// destination's folders created), in one rename. A missing source is fine.
  maybe_error move_file(const std::string& rel, const std::string& dest_rel) const;

  /// Deletes the folder `rel` and everything in it, following no symlink
  /// (a link inside is removed, never what it points to). Missing is fine.
  maybe_error remove_tree(const std::string& rel) const;

  /// Deletes the folder `rel` if it is empty (and nothing else).
  void remove_if_empty(const std::string& rel) const;

private:
  unique_fd fd_;
  std::filesystem::path path_;
};

/// Opens `rel` below the directory `dirfd` as session_folder::open_file
/// does, with `display` as the name in messages.
result<opened_file> open_beneath(int dirfd, const std::filesystem::path& display, const std::string& rel,
                                 const std::string& what);

/// Makes sure `dir` is a folder postroll may write into and serve from: a
/// real directory (not a symlink), owned by this process's user, writable by
/// nobody else. @returns nothing, or `io` naming the folder and the reason.
maybe_error check_own_dir(const std::filesystem::path& dir);

/// Whether `rel` names something inside a folder by its text alone: not
/// empty, not absolute, no "..". (What it resolves to is the folder's check.)
bool plain_relative(const std::string& rel);

}  // namespace postroll
