// What the stages reported, read from the JSON result a stage record keeps
// (`stage_record::result`): one reader for the queue, the CLI, the HTTP API
// and hosts, instead of each parsing the JSON by hand. A field the result
// does not have reads as its default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "postroll/export.h"
#include "postroll/job.hpp"

namespace postroll {

/// media.compress: whether the smaller file replaced the playable one.
struct compress_result {
  bool replaced = false;             ///< the compressed file is the playable file now
  bool compressed_by_merge = false;  ///< the merge already encoded it at the preset: nothing to do
  std::string reason;                ///< why it was not replaced ("" when it was)
  std::int64_t bytes_before = 0;
  std::int64_t bytes_after = 0;
  /// "not compressed: REASON" when the playable file stayed as merged for a
  /// reason the user should hear; "" otherwise.
  std::string note() const;
};
POSTROLL_API compress_result compress_result_of(const std::string& result_json);

/// media.repair: one damaged file and what came of it.
struct repaired_file {
  std::string file;
  std::string damage;          ///< what was wrong ("no moov atom", ...)
  bool silence = false;        ///< nothing recoverable: the span is silence
  std::string reason;          ///< why not, when silence
  double seconds_recovered = 0;
  double seconds_lost = 0;     ///< an estimate
  std::int64_t bytes_lost = 0;
};
POSTROLL_API std::vector<repaired_file> repairs_of(const std::string& result_json);

/// media.trash_originals / media.delete_originals.
struct retention_result {
  std::string trash;            ///< the trash folder, relative to the session ("" for delete)
  std::int64_t at = 0;          ///< Unix ms the originals were retired
  std::int64_t bytes_reclaimed = 0;
};
POSTROLL_API retention_result retention_result_of(const std::string& result_json);

/// What the session's output folder held when the stage ended (measured by
/// the worker that ran it, off the queue's thread), or 0.
POSTROLL_API std::int64_t output_bytes_of(const std::string& result_json);

/// The "file" a stage reported (media.merge: the playable file), or "".
POSTROLL_API std::string output_file_of(const std::string& result_json);

/// The record of stage `name` in `job`, or null.
POSTROLL_API const stage_record* find_stage(const job_record& job, const std::string& name);

}  // namespace postroll
