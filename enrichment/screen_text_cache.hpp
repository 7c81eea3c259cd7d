// What the OCR read on a picture, kept on disk by the picture's pixels (its
// luma plane) and the OCR language. A live job's follower reads each
// screenshot as it arrives; the chapters stage at the end finds the words
// of the pictures it picks here (and a retried or preempted chapters stage
// does not read them again). Entries are sealed with the session's key.
#pragma once

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>

#include "enrichment/screen_text.hpp"
#include "pipelines/frame_dedup.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

/// Where the entries are kept, in the session's output folder.
inline constexpr const char* ocr_cache_dir = "enrichment/ocr";

/// A picture's words as chapters use them.
struct screen_page {
  std::string title;  ///< title_line()
  std::string text;   ///< screen_text()
};

class screen_text_cache {
public:
  /// Entries live in `dir` (created by the caller); `seal_key` is the session's.
  screen_text_cache(std::filesystem::path dir, std::string seal_key, std::string language);

  std::string key_of(const luma_view& picture) const;
  std::optional<screen_page> find(const std::string& key) const;
  /// Failing to store is not an error: the picture is read again next time.
  void store(const std::string& key, const screen_page& page) const;
  /// Pictures found here so far.
  int hits() const { return hits_; }

private:
  mutable std::atomic<int> hits_{0};
  std::filesystem::path dir_;
  std::string seal_key_;
  std::string language_;
};

/// The words on `picture`: from `cache` when it holds them (null: no
/// cache), else read by `reader` and stored. Nothing is stored for a read
/// cut short by `cancel`.
screen_page read_screen_page(screen_reader& reader, const luma_view& picture, const screen_text_cache* cache,
                             const cancel_token& cancel);

}  // namespace postroll
