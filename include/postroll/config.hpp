// Configuration: one struct, filled from defaults, a TOML file and flags.
// Every key is documented in docs/configuration.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "postroll/error.hpp"

namespace postroll {

struct config {
  // [node]
  std::string data_dir = ".postroll";  ///< RocksDB and node files live here
  std::string role = "standalone";     ///< only "standalone" in this version
  std::string host = "127.0.0.1";      ///< where `postroll node` listens
  std::uint16_t port = 7411;           ///< 0 = let the OS pick (written to data_dir/node.endpoint)

  // [media]
  int media_workers = 1;               ///< media pipelines run at once
  bool compress = true;                ///< jobs run media.compress by default
  std::string quality = "medium";      ///< compression preset: low, medium, high (docs/compression.md)
  /// H.264 encoders to try in order (empty: the default ranking, hardware
  /// first); the first that exists and opens is used.
  std::vector<std::string> encoders;
  std::string output_dir = "postroll";  ///< outputs, relative to the session folder
  bool undecodable_as_silence = false;  ///< a missing or undecodable audio segment becomes silence
  int decode_threads = 2;              ///< audio segments decoded at once

  // [queue]
  int max_attempts = 3;                ///< runs per stage before the job fails
  std::int64_t retry_base_ms = 2000;   ///< first retry delay; doubles each time
  std::int64_t retry_cap_ms = 300000;  ///< longest retry delay
  std::int64_t aging_ms = 600000;      ///< a low-priority job waiting this long is dispatched as normal
  std::int64_t stall_timeout_ms = 120000;  ///< a stage without progress this long is stopped and retried (0: off)
  /// A worker told to stop a stage (cancel, stall) that still runs it after
  /// this long is killed and replaced (0: never).
  std::int64_t cancel_grace_ms = 1000;
  double min_free_factor = 1.4;        ///< a media stage waits until this x the session's media size is free (0: off)

  // [log]
  std::string log_level = "info";      ///< trace, debug, info, warn, error, off
};

/// Reads a TOML config file over the defaults.
/// @returns the config, or `errc::bad_input` naming the file, line and key of
///          an unknown key, a wrong type or an invalid value.
result<config> load_config(const std::string& path);

/// Checks values that do not depend on a file (e.g. after flags were applied).
maybe_error validate(const config& cfg);

}  // namespace postroll
