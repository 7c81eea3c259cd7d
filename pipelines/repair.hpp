// The media.repair stage (docs/recovery.md): runs first, and only for a
// session in which validation found damaged files. Originals are never
// touched; repaired copies go to <output_dir>/repair/, and the later stages
// read those instead (apply_repairs).
#pragma once

#include "postroll/stages.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include "postroll/error.hpp"
#include "session/cancel_token.hpp"
#include "session/manifest.hpp"

namespace postroll {


/// A file of the session that a killed recorder left damaged but repairable.
struct damaged_file {
  std::string kind;     ///< "video" or "audio"
  std::size_t index = 0;
  std::string path;     ///< as in the manifest
  std::string damage;   ///< "mp4-no-moov", "mp4-fragment-cut", "matroska-cut", "wav-header"
  std::string reason;   ///< for people
};

/// Looks at every video and audio file's structure (headers only: cheap
/// enough for submit). Files that are fine, or damaged beyond these cases,
/// are not listed (the media stages then name what is wrong with them).
std::vector<damaged_file> find_damage(const manifest& m);

struct repair_options {
  std::filesystem::path reference;  ///< a complete recording of the same recorder ("" = none)
  double default_fps = 30;          ///< frame rate when neither reference nor stream says
  std::string seal_key;             ///< the session's seal key: repairs.json is sealed with it
};

/// Repairs every damaged file into <out_dir>/repair/ and records what was
/// recovered and lost in <out_dir>/repair/repairs.json.
/// @returns the stage result (JSON: {"repairs": [...]}) or an error naming
///          the file that could not be repaired.
result<std::string> repair_stage(const manifest& m, const std::filesystem::path& out_dir, const repair_options& options,
                                 const cancel_token& cancel, const progress_fn& progress);

/// Points `m`'s damaged files at their repaired copies, as recorded by the
/// repair stage, for originals that have not changed since. A record without
/// a valid seal under `seal_key` (not written by this node's repair stage),
/// or naming a copy outside <out_dir>/repair/, is ignored.
void apply_repairs(manifest& m, const std::filesystem::path& out_dir, const std::string& seal_key);

}  // namespace postroll
