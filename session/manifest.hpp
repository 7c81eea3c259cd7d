// The session manifest (`session.json`): the input contract between a recorder
// and postroll. See docs/session-format.md. Nothing in it is trusted: paths
// are opened beneath the session folder (session_folder), numbers are range
// checked before any arithmetic, text that is printed is checked for control
// characters.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "postroll/error.hpp"
#include "session/session_folder.hpp"

namespace postroll {

/// The longest session postroll takes by default: every offset, and every
/// file's end on the timeline, must be within it (docs/session-format.md).
inline constexpr std::int64_t default_max_session_ms = 24LL * 3600 * 1000;
/// The most a manifest may be configured to allow: a week.
inline constexpr std::int64_t max_session_ms_limit = 7LL * 24 * 3600 * 1000;
/// Files (video + audio + screenshots) a manifest may list by default.
inline constexpr std::size_t default_max_entries = 20000;
/// session.json larger than this is not a manifest.
inline constexpr std::size_t max_manifest_bytes = 8u << 20;

/// One file placed on the session timeline.
struct media_ref {
  std::string path;                ///< as written in the manifest (relative)
  std::filesystem::path resolved;  ///< the file's name for people: session folder / path
  std::int64_t offset_ms = 0;      ///< where the file starts on the timeline
  bool missing = false;            ///< audio only, with `missing_audio_as_silence`
  std::int64_t bytes = 0;          ///< size when the manifest was read
  std::pair<std::uint64_t, std::uint64_t> identity{0, 0};  ///< device and inode (files counted once)
  std::int64_t mtime_ns = 0;       ///< modification time when the manifest was read
  /// Where to open it, relative to the session folder: `path`, or the
  /// repaired copy media.repair made (apply_repairs).
  std::string open_rel;
  session_folder_ptr folder;

  /// Opens the file again through the session folder's descriptor (the
  /// same checks as when the manifest was read). Keep the result alive
  /// while its path() is in use.
  result<opened_file> open() const;
};

struct manifest_options {
  /// An audio segment whose file does not exist is kept (marked `missing`)
  /// instead of rejecting the manifest; the timeline makes it silence.
  bool missing_audio_as_silence = false;
  /// Offsets (and, in the stages, files' ends) beyond this are refused.
  std::int64_t max_session_ms = default_max_session_ms;
  /// More files than this (video + audio + screenshots) are refused.
  std::size_t max_entries = default_max_entries;
  /// The folder must be inside one of these ("" = anywhere). Checked on the
  /// folder as opened, so a symlink swapped in later cannot move it.
  std::vector<std::string> roots;
  /// A session still being recorded (a live job): it may list no file
  /// yet, and its video may still be empty (the recorder grows it).
  bool recording = false;
};

/// A validated manifest: every path is a regular readable file inside the
/// session folder (as it was when read; stages open them again through
/// `folder`, with the same checks).
struct manifest {
  int schema = 1;
  std::string id;
  std::string name;
  std::int64_t started_at = 0;  ///< Unix ms, 0 when absent
  /// Unix ms when the recorder ended the session ("endedAt"); 0 while it
  /// still records (what a live job waits for, docs/session-format.md).
  std::int64_t ended_at = 0;
  std::filesystem::path dir;    ///< absolute session folder (where its descriptor points)
  session_folder_ptr folder;    ///< the folder, held open
  std::vector<media_ref> video;
  std::vector<media_ref> audio;  ///< sorted by offset (stable)
  std::vector<media_ref> screenshots;
  /// Set when postroll's retention already moved or deleted the originals
  /// ("trash", "delete"): the manifest then points at the merged output.
  std::string originals_retired;

  bool has_video() const { return !video.empty(); }
  bool has_audio() const { return !audio.empty(); }
  /// Bytes of the video and audio files, each file counted once.
  std::int64_t media_bytes() const;
};

/// The manifest's file name inside a session folder.
inline constexpr const char* manifest_file_name = "session.json";

/// Runs `use(path)` (which returns a result<T>) with `ref` opened through
/// its session folder, `path` naming that very file; an error from it names
/// the file as people know it. @returns use's result, or the open's error.
template <class Use>
auto with_file(const media_ref& ref, Use&& use) -> decltype(use(std::string{})) {
  auto file = ref.open();
  if (!file)
    return file.err();
  auto out = use(file->path());
  if (!out)
    return error{out.err().code, name_opened_files(out.err().message)};
  return out;
}

/// Reads and validates `<dir>/session.json`.
/// @returns the manifest, or an `errc::bad_input` error whose message starts
///          with the offending file's path and says what is wrong (one line).
result<manifest> load_manifest(const std::filesystem::path& dir, const manifest_options& options = {});

/// Whether `text` is safe to print as one line: valid UTF-8 without control
/// characters (what manifests' names and paths must be).
bool printable_line(const std::string& text);

/// `text` with control characters and invalid UTF-8 replaced by '?': for
/// messages that quote something read from outside.
std::string one_line(const std::string& text);

}  // namespace postroll
