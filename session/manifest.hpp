// The session manifest (`session.json`): the input contract between a recorder
// and postroll. See docs/session-format.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "postroll/error.hpp"

namespace postroll {

/// One file placed on the session timeline.
struct media_ref {
  std::string path;                ///< as written in the manifest (relative)
  std::filesystem::path resolved;  ///< absolute, inside the session folder
  std::int64_t offset_ms = 0;      ///< where the file starts on the timeline
  bool missing = false;            ///< audio only, with `missing_audio_as_silence`
};

struct manifest_options {
  /// An audio segment whose file does not exist is kept (marked `missing`)
  /// instead of rejecting the manifest; the timeline makes it silence.
  bool missing_audio_as_silence = false;
};

/// A validated manifest: every path exists, is a regular readable file and
/// resolves inside the session folder.
struct manifest {
  int schema = 1;
  std::string id;
  std::string name;
  std::int64_t started_at = 0;  ///< Unix ms, 0 when absent
  std::filesystem::path dir;    ///< absolute session folder
  std::vector<media_ref> video;
  std::vector<media_ref> audio;  ///< sorted by offset (stable)
  std::vector<media_ref> screenshots;
  /// Set when postroll's retention already moved or deleted the originals
  /// ("trash", "delete"): the manifest then points at the merged output.
  std::string originals_retired;

  bool has_video() const { return !video.empty(); }
  bool has_audio() const { return !audio.empty(); }
};

/// The manifest's file name inside a session folder.
inline constexpr const char* manifest_file_name = "session.json";

/// Reads and validates `<dir>/session.json`.
/// @returns the manifest, or an `errc::bad_input` error whose message starts
///          with the offending file's path and says what is wrong.
result<manifest> load_manifest(const std::filesystem::path& dir, const manifest_options& options = {});

}  // namespace postroll
