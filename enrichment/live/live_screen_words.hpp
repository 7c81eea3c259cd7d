// The screen's words as a live job learns them: the chapters read so far
// (from the growing screen video, or from the screenshots) and the time
// before which they are final. The live transcript recognises a piece once
// the words its bias needs are final (screen_vocabulary looks only back),
// so the piece it stores is the piece the batch transcript would make.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "enrichment/chapters.hpp"
#include "enrichment/screen_vocabulary.hpp"

namespace postroll {

class live_screen_words {
public:
  struct snapshot {
    std::vector<screen_span> spans;
    std::int64_t final_ms = 0;  ///< pieces ending at or before this get their final bias
    bool given_up = false;      ///< nothing will be final before the end
  };

  /// What `chapters` has closed and read so far. Serialised here, so two
  /// threads publishing one builder (its reader, its OCR thread) never move
  /// the final time back.
  void publish(const chapter_builder& chapters) {
    std::lock_guard<std::mutex> g{mtx_};
    if (now_.given_up)
      return;  // a reader's late word after it gave up changes nothing
    now_.spans = chapters.spans(now_.final_ms);
  }
  /// The reader gave up (several videos, one that cannot be read while it
  /// grows): nothing is final before the end.
  void give_up() {
    std::lock_guard<std::mutex> g{mtx_};
    now_ = {{}, 0, true};
  }
  snapshot get() const {
    std::lock_guard<std::mutex> g{mtx_};
    return now_;
  }
  std::int64_t final_ms() const {
    std::lock_guard<std::mutex> g{mtx_};
    return now_.final_ms;
  }

private:
  mutable std::mutex mtx_;
  snapshot now_;
};

}  // namespace postroll
