// A video's chapters kept in the session's output folder under their key
// (video_chapters_key): a live job reads the screen video while it is
// recorded and leaves its chapters here; enrich.chapters at the end takes
// them instead of decoding the video again. Sealed with the session's key.
// A live job still finishing its read is waited for (in this process) by
// the stage, so the end does not read the video twice.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace postroll {

/// Where the entry is kept, in the session's output folder.
inline constexpr const char* chapters_cache_file = "live-chapters.json";

/// Stores `chapters` (chapters.json's content) under `key` in `dir`.
/// Failing to store is not an error: the stage reads the video then.
void store_chapters(const std::filesystem::path& dir, const std::string& key, const nlohmann::json& chapters,
                    const std::string& seal_key);
/// The chapters stored in `dir` under `key`, if sealed with `seal_key`.
std::optional<nlohmann::json> find_chapters(const std::filesystem::path& dir, const std::string& key,
                                            const std::string& seal_key);

/// Marks that this process is making the entry in `dir` (a live job's
/// video reader), until the returned guard goes.
class chapters_in_progress {
public:
  explicit chapters_in_progress(std::filesystem::path dir);
  ~chapters_in_progress();
  chapters_in_progress(const chapters_in_progress&) = delete;
  chapters_in_progress& operator=(const chapters_in_progress&) = delete;

  /// Waits (at most `limit`) until no one in this process makes the entry in `dir`.
  static void wait_for(const std::filesystem::path& dir, std::chrono::milliseconds limit);

private:
  std::filesystem::path dir_;
};

}  // namespace postroll
