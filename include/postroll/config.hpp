// Configuration: one struct, filled from defaults, a TOML file and flags.
// Every key is documented in docs/configuration.md.
#pragma once

#include "postroll/export.h"

#include <cstdint>
#include <string>
#include <vector>

#include "postroll/error.hpp"

namespace postroll {

/// Where a session's outputs go unless media.output_dir says otherwise,
/// relative to the session folder. Every layer takes its default from here.
inline constexpr const char* default_output_dir = "postroll";

struct config {
  // [node]
  std::string data_dir = ".postroll";  ///< RocksDB and node files live here
  /// standalone (one node does everything), coordinator (owns the queue,
  /// hands stages to worker nodes), worker (runs stages for a coordinator,
  /// holds no job state). docs/scale-out.md.
  std::string role = "standalone";
  std::string id;                      ///< node id in events, logs and `postroll nodes` ("" = the host name)
  std::string host = "127.0.0.1";      ///< where `postroll node` listens (off loopback: [tls] required)
  std::uint16_t port = 7411;           ///< 0 = let the OS pick (written to data_dir/node.endpoint)

  // [cluster] (coordinator and worker roles)
  std::string coordinator;             ///< worker: the coordinator's HOST:PORT
  /// worker: "COORDINATOR_PREFIX=LOCAL_PREFIX" pairs: where this machine
  /// mounts the coordinator's session roots (shared storage).
  std::vector<std::string> path_map;
  std::int64_t lease_ms = 30000;       ///< a worker node's stage lapses after this long without word
  std::int64_t adopt_ms = -1;          ///< coordinator: wait this long at start for workers to re-adopt stages (-1: lease_ms)
  std::int64_t reconnect_max_ms = 30000;  ///< worker: longest wait between attempts to reach the coordinator

  // [tls] (the middleman; required when a node listens or connects off loopback)
  std::string tls_certificate;         ///< this node's certificate (PEM)
  std::string tls_key;                 ///< its private key (PEM)
  std::string tls_ca;                  ///< the CA that signed every node's certificate (PEM)

  // [media]
  int media_workers = 1;               ///< media pipelines run at once
  bool compress = true;                ///< jobs run media.compress by default
  std::string quality = "medium";      ///< compression preset: low, medium, high (docs/compression.md)
  /// H.264 encoders to try in order (empty: the default ranking, hardware
  /// first); the first that exists and opens is used.
  std::vector<std::string> encoders;
  std::string output_dir = default_output_dir;  ///< outputs, relative to the session folder
  bool undecodable_as_silence = false;  ///< a missing or undecodable audio segment becomes silence
  int decode_threads = 2;              ///< audio segments decoded at once
  /// A complete recording made by the same recorder: media.repair takes
  /// the codec configuration from it to rebuild a video whose index was
  /// never written ("" = from the stream's own parameter sets).
  std::string repair_reference;
  /// The longest session taken: every manifest offset, and every file's end
  /// on the session timeline, must be within it (1..168 hours).
  int max_session_hours = 24;
  /// Files (video + audio + screenshots) one manifest may list.
  int max_session_files = 20000;
  /// What the merge writes: "fast" (video copied where players take it as
  /// it is: playable in seconds; media.compress makes it small afterwards)
  /// or "compressed" (encoded once at the compression preset, no
  /// intermediate file: the least disk, docs/storage.md).
  std::string playable = "fast";
  std::string video_gaps = "hold";     ///< between a session's video files: "hold" the last frame, or "black"
  int max_video_width = 3840;          ///< larger pictures are scaled down (aspect kept) when encoded
  int max_video_height = 2160;
  int audio_rate = 0;                  ///< the audio timeline's rate in Hz (0: the highest input rate, up to 48000)

  // [storage] (docs/storage.md)
  std::string retention = "keep";  ///< the originals after a completed job: keep, trash, delete
  int trash_days = 30;             ///< trashed originals are purged after this many days
  std::int64_t purge_interval_ms = 3600000;  ///< how often the node looks for trash to purge

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
  /// A job waiting for disk space this long fails ("disk full"), instead of
  /// waiting for space that may never come (0: wait forever).
  std::int64_t disk_wait_ms = 1800000;
  /// A higher-priority job that finds no idle worker stops a running
  /// media.compress or enrichment stage of a lower-priority job, which runs
  /// again later without using up an attempt (docs/architecture.md).
  bool preempt = true;
  std::int64_t preempt_window_ms = 600000;  ///< a stage is preempted at most once in this window

  // [enrich]
  bool enrich = true;                  ///< jobs run the enrich.* stages by default
  int enrich_workers = 2;              ///< enrichment stages run at once on this node
  int max_enrich_jobs = 5;             ///< jobs in enrichment at once (0: no limit)
  std::int64_t min_audio_ms = 10000;   ///< less audio than this: enrich.audio_review is skipped
  std::string speech_model = "/usr/share/pocketsphinx/model/en-us";  ///< pocketsphinx model folder
  std::string asr_speed = "balanced";  ///< recogniser search: fast, balanced (no recall lost) or accurate
  int asr_threads = 0;                 ///< decoders for one transcript; 0 = the machine's cores
  /// Words read on screen bias the recogniser for the speech around them
  /// (share of the language model given to them; 0 = off).
  double screen_vocabulary = 0.1;
  std::int64_t min_chapter_ms = 10000; ///< shortest chapter
  double scene_threshold = 0.035;      ///< share of the picture that must change for a chapter candidate
  std::string ocr_language = "eng";    ///< Tesseract language(s), e.g. "eng+deu"
  int summary_sentences = 5;           ///< extractive summary: transcript sentences kept
  std::string chat_url;                ///< OpenAI-compatible endpoint for the summary ("" = extractive)
  std::string chat_model;              ///< model name sent to chat_url
  std::string chat_key_env;            ///< environment variable holding the chat API key
  std::int64_t chat_timeout_ms = 60000;
  std::string canvas_format = "jpg";   ///< storyboard image: jpg or png
  /// An external enricher ([[enrich.command]]): replaces a built-in stage
  /// (stage = "enrich.chapters") or adds one (stage = "enrich.<name>").
  struct enricher_command {
    std::string stage;
    std::vector<std::string> argv;
    std::int64_t timeout_ms = 600000;
    std::vector<std::string> after;  ///< extra stages only: enrichment stages it waits for
  };
  std::vector<enricher_command> enrich_commands;

  // [live] (live jobs: docs/session-format.md)
  int live_workers = 4;                ///< recordings followed at once on this node
  /// A live job nobody feeds for this long is ended as it stands, with a
  /// warning that the recorder went away (0: never).
  std::int64_t live_idle_timeout_ms = 600000;

  // [notify]
  bool desktop_notifications = true;   ///< when a D-Bus notification service runs
  std::string webhook_url;             ///< POST the final record when a job completes or fails ("" = none)
  std::int64_t webhook_timeout_ms = 5000;
  int webhook_attempts = 3;
  std::string webhook_secret_env;      ///< env variable holding the HMAC-SHA256 key for X-Postroll-Signature
  std::vector<std::string> notify_command;  ///< command hook: argv, the delivery JSON on stdin
  std::int64_t notify_command_timeout_ms = 30000;

  // [http] (postroll node)
  bool http = true;                    ///< serve the HTTP API (docs/http-api.md)
  std::uint16_t http_port = 7412;      ///< on node.host; 0 = any free port (written to data_dir/http.endpoint)
  std::vector<std::string> session_roots;  ///< submitted session folders must be under one of these (required off loopback)
  std::string http_token_env;          ///< env variable holding the bearer token (required off loopback)
  std::string web_dir;                 ///< the dashboard's files, served at / ("" = not served)
  /// Host names (and IPs) requests may name in `Host` besides the listen
  /// address and loopback names: a DNS-rebinding page never matches.
  std::vector<std::string> allowed_hosts;
  /// Origins (scheme://host:port) whose pages may call the API (CORS); none
  /// by default: only the node's own dashboard.
  std::vector<std::string> cors_origins;
  int http_max_connections = 512;      ///< open connections at once (the oldest idle ones make room)
  int http_max_event_streams = 256;    ///< open /api/events streams at once

  // [log]
  std::string log_level = "info";      ///< trace, debug, info, warn, error, off
};

/// Reads a TOML config file over the defaults.
/// @returns the config, or `errc::bad_input` naming the file, line and key of
///          an unknown key, a wrong type or an invalid value.
POSTROLL_API result<config> load_config(const std::string& path);

/// The same over `defaults` instead of the built-in defaults: what the file
/// leaves out keeps the value `defaults` has (e.g. a host's own data_dir).
POSTROLL_API result<config> load_config(const std::string& path, const config& defaults);

/// Checks values that do not depend on a file (e.g. after flags were applied).
POSTROLL_API maybe_error validate(const config& cfg);

}  // namespace postroll
