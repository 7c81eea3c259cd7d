#include "enrichment/live/live_follower.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "enrichment/live/live_audio.hpp"
#include "enrichment/live/live_screens.hpp"
#include "enrichment/live/live_transcript.hpp"
#include "enrichment/live/live_video.hpp"
#include "enrichment/live/retired_work.hpp"
#include "enrichment/screen_text_cache.hpp"
#include "pipelines/aac_pieces.hpp"
#include "session/manifest.hpp"
#include "session/session_folder.hpp"

namespace postroll {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

using steady = std::chrono::steady_clock;

std::int64_t ms_since(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t).count();
}

// Live work yields to the recorder: this thread (and the threads it
// starts, which inherit it) runs at the lowest CPU priority.
void lower_priority() {
  auto tid = id_t(::syscall(SYS_gettid));
  if (::setpriority(PRIO_PROCESS, tid, 19) != 0)
    spdlog::debug("live: cannot lower the CPU priority: {}", std::strerror(errno));
}

std::string clock_of(std::int64_t ms) {
  auto s = ms / 1000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

// The end of the last file on the timeline the manifest shows (offsets
// only: a file's length is known once it is read).
std::int64_t latest_offset(const manifest& m) {
  std::int64_t t = 0;
  for (const auto* list : {&m.audio, &m.video, &m.screenshots})
    for (const auto& r : *list)
      t = std::max(t, r.offset_ms);
  return t;
}

// What the manifest lists, for "did anything change".
std::size_t files_of(const manifest& m) { return m.audio.size() + m.video.size() + m.screenshots.size(); }

}  // namespace

result<std::string> run_live_stage(const std::string& stage, const fs::path& session_dir, const live_options& o,
                                   const cancel_token& cancel, const progress_fn& progress) {
  if (stage != stage_live)
    return error{errc::internal, "unknown live stage \"" + stage + "\""};
  lower_priority();
  // The folder is watched, not polled: the manifest arrives by rename.
  unique_fd watch{::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)};
  if (watch.get() < 0 ||
      ::inotify_add_watch(watch.get(), session_dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_ATTRIB) < 0)
    return error{errc::io, session_dir.string() + ": cannot watch the folder: " + std::strerror(errno)};
  manifest_options mo;
  mo.recording = true;
  mo.missing_audio_as_silence = o.enrich.missing_audio_as_silence;
  mo.max_session_ms = o.enrich.max_session_ms;
  mo.max_entries = o.enrich.max_session_files;
  auto last_change = steady::now();
  std::size_t files = 0;
  std::int64_t timeline_ms = 0;
  std::string last_problem;
  bool reload = true;
  json out;
  // The per-file work, once the folder it writes to exists.
  std::unique_ptr<live_transcript> transcript;
  std::unique_ptr<live_audio> audio;
  std::unique_ptr<live_screens> screens;
  std::unique_ptr<live_video> video;
  // The screen's words as the video or the screenshots give them, for the transcript.
  auto words = std::make_shared<live_screen_words>();
  std::shared_ptr<const manifest> latest;  // handed again when the words move on
  std::int64_t words_final = 0;
  for (;;) {
    if (cancel.is_cancelled())
      return error{errc::cancelled, "cancelled"};
    if (reload) {
      reload = false;
      auto m = load_manifest(session_dir, mo);
      if (!m) {
        // A recorder that writes session.json in place, not by rename, is
        // read mid-write now and then: the next change is read again.
        if (m.err().message != last_problem)
          spdlog::warn("live: {}", m.err().message);
        last_problem = m.err().message;
      } else {
        last_problem.clear();
        if (!audio) {
          auto dir = m->folder->output_dir((fs::path{o.output_dir} / audio_pieces_dir).string());
          if (dir)
            audio = std::make_unique<live_audio>(o, *dir);
          else
            spdlog::warn("live: no live audio: {}", dir.err().message);
        }
        if (!screens && o.transcribe && !m->screenshots.empty()) {
          auto dir = m->folder->output_dir((fs::path{o.output_dir} / ocr_cache_dir).string());
          if (dir)
            screens = std::make_unique<live_screens>(o, *dir, words);
          else
            spdlog::warn("live: screenshots read at the end: {}", dir.err().message);
        }
        if (!video && o.transcribe && m->has_video()) {
          auto dir = m->folder->output_dir((fs::path{o.output_dir} / "enrichment" / "thumbs").string());
          auto ocr = m->folder->output_dir((fs::path{o.output_dir} / ocr_cache_dir).string());
          if (dir && ocr)
            video = std::make_unique<live_video>(o, dir->parent_path(), *ocr, words);
          else
            spdlog::warn("live: chapters at the end: {}", (dir ? ocr.err() : dir.err()).message);
        }
        if (!transcript && o.transcribe) {
          auto dir = m->folder->output_dir((fs::path{o.output_dir} / "enrichment" / "pieces").string());
          if (dir)
            transcript = std::make_unique<live_transcript>(o, *dir, words);
          else
            spdlog::warn("live: no live work: {}", dir.err().message);
        }
        if (files_of(*m) != files) {
          files = files_of(*m);
          timeline_ms = latest_offset(*m);
          last_change = steady::now();
        }
        bool ended = m->ended_at > 0;
        if (!ended) {
          auto shared = std::make_shared<const manifest>(std::move(*m));
          if (audio)
            audio->update(shared);
          if (screens)
            screens->update(shared);
          if (video)
            video->update(shared);
          if (transcript)
            transcript->update(shared);
          latest = shared;
        }
        if (ended) {
          out = {{"ended", "recorder"}, {"files", files}};
          break;
        }
      }
    }
    if (o.idle_timeout_ms > 0 && ms_since(last_change) >= o.idle_timeout_ms) {
      auto warning = "the recorder went away: nothing new for " + std::to_string(o.idle_timeout_ms / 1000) +
                     " s (live.idle_timeout_ms); the session is finished as it stands";
      spdlog::warn("live: job {} ({}): {}", o.job_id, session_dir.string(), warning);
      out = {{"ended", "idle"}, {"warning", warning}, {"files", files}};
      break;
    }
    if (transcript && latest && words->final_ms() != words_final) {
      // Pieces that waited for the screen's words can go now.
      words_final = words->final_ms();
      transcript->update(latest);
    }
    auto live_work = transcript ? transcript->status() : std::string{};
    if (auto v = video ? video->status() : std::string{}; !v.empty())
      live_work += (live_work.empty() ? "" : " · ") + v;
    if (screens && screens->read() > 0)
      live_work += (live_work.empty() ? "" : " · ") + std::to_string(screens->read()) +
                   (screens->read() == 1 ? " screenshot read" : " screenshots read");
    cancel.set_note("recording · " + std::to_string(files) + (files == 1 ? " file" : " files") + " · " +
                    clock_of(timeline_ms) + (live_work.empty() ? "" : " · " + live_work));
    if (progress)
      progress(0.0);
    // Wakes on a change in the folder; the timeout only bounds how late a
    // cancel or the idle limit is noticed.
    pollfd p{watch.get(), POLLIN, 0};
    if (::poll(&p, 1, 250) > 0 && (p.revents & POLLIN)) {
      alignas(inotify_event) char buf[4096];
      ssize_t n;
      while ((n = ::read(watch.get(), buf, sizeof buf)) > 0)
        for (char* at = buf; at < buf + n;) {
          auto* e = reinterpret_cast<inotify_event*>(at);
          if (e->len > 0 && std::strcmp(e->name, manifest_file_name) == 0)
            reload = true;
          at += sizeof(inotify_event) + e->len;
        }
    }
  }
  if (audio)
    out["audioPieces"] = audio->pieces();
  if (screens)
    out["screenshotsRead"] = screens->read();
  if (video)
    out["screenVideo"] = video->status();  // how far the reader got, or why it waits for the end
  if (transcript) {
    // What the end leaves to the transcript stage: the pieces not done yet.
    out["transcriptPieces"] = transcript->pieces();
    out["transcriptBehindMs"] = transcript->behind_ms();
  }
  if (audio || transcript || screens || video) {
    // The merge need not wait for the transcript's decoders to stop (a
    // piece cut short is not stored), nor for the video's reader to reach
    // the end of the file (the chapters stage waits for it).
    // (shared: std::function copies what it holds)
    retire([t = std::shared_ptr<live_transcript>(std::move(transcript)),
            a = std::shared_ptr<live_audio>(std::move(audio)),
            s = std::shared_ptr<live_screens>(std::move(screens)),
            v = std::shared_ptr<live_video>(std::move(video)), ended = out.value("ended", "") != ""]() mutable {
      a.reset();
      s.reset();
      t.reset();
      if (v && ended)
        v->finish();
      v.reset();
    });
  }
  cancel.set_note({});
  if (progress)
    progress(1.0);
  return out.dump();
}

}  // namespace postroll
