// Stage names as they appear in job records, events and the config: one
// place, free of any media or actor header, for hosts and every layer.
#pragma once

namespace postroll {

/// A live job's first stage: follows the recording while it is made
/// (per-file work as files arrive) and completes when it ends.
inline constexpr const char* stage_live = "live.record";
inline constexpr const char* stage_repair = "media.repair";      ///< rebuild files a crashed recorder left
inline constexpr const char* stage_timeline = "media.timeline";  ///< audio segments -> one timeline
inline constexpr const char* stage_merge = "media.merge";        ///< video + timeline -> playable MP4
inline constexpr const char* stage_compress = "media.compress";  ///< the playable MP4, smaller
inline constexpr const char* stage_trash_originals = "media.trash_originals";    ///< retention "trash"
inline constexpr const char* stage_delete_originals = "media.delete_originals";  ///< retention "delete"
inline constexpr const char* stage_audio_review = "enrich.audio_review";  ///< transcript and audio review
inline constexpr const char* stage_chapters = "enrich.chapters";          ///< scene changes and screen text
inline constexpr const char* stage_summary = "enrich.summary";
inline constexpr const char* stage_canvas = "enrich.canvas";

}  // namespace postroll
