// Live jobs: opened while the recording is made, fed by the API or by a
// recorder that rewrites session.json, ended by `endedAt` or by silence
// from the recorder. Real actors, RocksDB on disk, real files.
#define BOOST_TEST_MODULE live
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <chrono>
#include <thread>
#include <map>
#include <functional>

#include <nlohmann/json.hpp>

#include "postroll/runtime.hpp"
#include "postroll/stages.hpp"
#include "support/event_log.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

config live_config(const temp_dir& tmp) {
  config cfg;
  cfg.data_dir = (tmp / "data").string();
  cfg.log_level = "warn";
  cfg.enrich = false;
  cfg.desktop_notifications = false;
  return cfg;
}

// A recording as a recorder starts it: a folder and a manifest that lists nothing yet.
fs::path empty_recording(const fs::path& dir, const std::string& id) {
  fs::create_directories(dir / "audio");
  write_file(dir / "session.json", json{{"schema", 1}, {"id", id}, {"name", "Live " + id}}.dump());
  return dir;
}

// A 2 s audio segment with a tone at `hz`, as a recorder closes one.
void segment(const fs::path& file, int hz) {
  sh("sox -n -r 48000 -c 1 -b 16 '" + file.string() + "' synth 2 sine " + std::to_string(hz) + " vol 0.3");
}

// What a recorder does: writes the manifest beside and renames it over the old one.
void rewrite_manifest(const fs::path& dir, const json& doc) {
  write_file(dir / ".session.json.tmp", doc.dump());
  fs::rename(dir / ".session.json.tmp", dir / "session.json");
}

// A runtime with its events, and a live job opened on an empty recording.
struct live_run {
  temp_dir tmp;
  fs::path dir;
  std::unique_ptr<runtime> rt;
  event_log log;
  subscription sub;
  job_record job;

  explicit live_run(const std::string& id, const std::function<void(config&)>& tweak = {})
    : dir(empty_recording(tmp / "rec", id)) {
    auto cfg = live_config(tmp);
    if (tweak)
      tweak(cfg);
    auto started = runtime::start(cfg);
    BOOST_REQUIRE_MESSAGE(started, (started ? "" : started.err().message));
    rt = std::move(*started);
    auto s = rt->subscribe(log.sink());
    BOOST_REQUIRE(s);
    sub = std::move(*s);
    auto opened = rt->open_live(dir.string());
    BOOST_REQUIRE_MESSAGE(opened, (opened ? "" : opened.err().message));
    job = *opened;
  }
};

auto live_note(const std::string& job, const std::string& text) {
  return [job, text](const event& e) {
    return e.job_id == job && e.kind == events::stage_progress && e.stage == stage_live &&
           e.message.find(text) != std::string::npos;
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_live_job_fed_through_the_api_ends_as_a_batch_job_would) {
  live_run r{"live-api"};
  BOOST_TEST(r.job.live);
  BOOST_REQUIRE(r.job.stages.size() == 1u);
  BOOST_TEST(r.job.stages[0].name == stage_live);
  // Opening it again gets the same job back (one live job per session).
  auto again = r.rt->open_live(r.dir.string());
  BOOST_REQUIRE(again);
  BOOST_TEST(again->id == r.job.id);

  segment(r.dir / "audio/0.wav", 440);
  auto a = r.rt->append_file(r.job.id, {"audio", "audio/0.wav", 0});
  BOOST_REQUIRE_MESSAGE(a, (a ? "" : a.err().message));
  // Acknowledged means on disk: the manifest lists it now.
  auto doc = json::parse(read_file(r.dir / "session.json"));
  BOOST_TEST(doc["audio"].size() == 1u);
  BOOST_TEST(doc["name"] == "Live live-api");  // what the recorder wrote stays
  // A retried append changes nothing.
  BOOST_REQUIRE(r.rt->append_file(r.job.id, {"audio", "audio/0.wav", 0}));
  BOOST_TEST(json::parse(read_file(r.dir / "session.json"))["audio"].size() == 1u);
  BOOST_REQUIRE(r.log.wait_for(live_note(r.job.id, "recording · 1 file")));

  segment(r.dir / "audio/1.wav", 660);
  BOOST_REQUIRE(r.rt->append_file(r.job.id, {"audio", "audio/1.wav", 3000}));  // a 1 s gap: silence
  BOOST_REQUIRE(r.log.wait_for(live_note(r.job.id, "recording · 2 files")));
  auto live = r.rt->status(r.job.id);
  BOOST_REQUIRE(live);
  BOOST_TEST(to_string(live->state) == "processing");
  BOOST_TEST(live->live);

  // Bad appends say why and change nothing.
  auto outside = r.rt->append_file(r.job.id, {"audio", "../elsewhere.wav", 0});
  BOOST_REQUIRE(!outside);
  BOOST_TEST(outside.err().message.find("inside the session folder") != std::string::npos);
  auto missing = r.rt->append_file(r.job.id, {"audio", "audio/none.wav", 0});
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.err().message.find("audio/none.wav") != std::string::npos);
  auto kind = r.rt->append_file(r.job.id, {"subtitles", "audio/0.wav", 0});
  BOOST_REQUIRE(!kind);
  BOOST_TEST(kind.err().message.find("unknown kind") != std::string::npos);
  BOOST_TEST(json::parse(read_file(r.dir / "session.json"))["audio"].size() == 2u);

  auto ended = r.rt->end_recording(r.job.id);
  BOOST_REQUIRE_MESSAGE(ended, (ended ? "" : ended.err().message));
  BOOST_TEST(json::parse(read_file(r.dir / "session.json")).contains("endedAt"));
  auto done = r.rt->wait(r.job.id, 60s);
  BOOST_REQUIRE_MESSAGE(done, (done ? "" : done.err().message));
  BOOST_TEST(to_string(done->state) == "completed");
  BOOST_TEST(!done->live);
  std::vector<std::string> names;
  for (const auto& s : done->stages)
    names.push_back(s.name);
  std::vector<std::string> expected{stage_live, stage_timeline, stage_merge};
  BOOST_TEST(names == expected, boost::test_tools::per_element());
  // 0-2 s tone, 2-3 s silence, 3-5 s tone: placed as the manifest says.
  BOOST_TEST(probe_duration(done->output) == 5.0, boost::test_tools::tolerance(0.05));
  int rate = 0;
  auto pcm = decode_audio_with_ffmpeg(done->output, rate);
  auto beeps = find_beeps(pcm, rate);
  BOOST_REQUIRE(beeps.size() == 2u);
  BOOST_TEST(beeps[1] == 3000.0, boost::test_tools::tolerance(0.01));
  // After the end nothing more is taken.
  auto late = r.rt->append_file(r.job.id, {"audio", "audio/0.wav", 6000});
  BOOST_REQUIRE(!late);
  BOOST_TEST(late.err().message.find("completed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_recorder_that_rewrites_its_manifest_is_followed_until_ended_at) {
  live_run r{"live-watch"};
  json doc = {{"schema", 1}, {"id", "live-watch"}, {"audio", json::array()}};
  for (int i = 0; i < 3; ++i) {
    auto name = "audio/" + std::to_string(i) + ".wav";
    segment(r.dir / name, 440 + 110 * i);
    doc["audio"].push_back({{"path", name}, {"offsetMs", 2000 * i}});
    rewrite_manifest(r.dir, doc);
    BOOST_REQUIRE(r.log.wait_for(live_note(r.job.id, std::to_string(i + 1) + (i ? " files" : " file"))));
  }
  // A half-written manifest (a recorder that does not rename) is read
  // again at the next change, not taken as the end or as an error.
  write_file(r.dir / "session.json", "{\"schema\": 1, \"id\": \"live-wa");
  doc["endedAt"] = 1761643806000;
  rewrite_manifest(r.dir, doc);
  auto done = r.rt->wait(r.job.id, 60s);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->state) == "completed");
  BOOST_TEST(probe_duration(done->output) == 6.0, boost::test_tools::tolerance(0.05));
  BOOST_TEST(done->stages[0].result.find("\"recorder\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_recording_nobody_feeds_is_ended_as_it_stands_with_a_warning) {
  temp_dir tmp;
  auto dir = empty_recording(tmp / "rec", "live-idle");
  segment(dir / "audio/0.wav", 440);
  write_file(dir / "session.json",
             json{{"schema", 1}, {"id", "live-idle"}, {"audio", {{{"path", "audio/0.wav"}, {"offsetMs", 0}}}}}.dump());
  auto cfg = live_config(tmp);
  cfg.live_idle_timeout_ms = 1500;
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  event_log log;
  auto sub = (*rt)->subscribe(log.sink());
  auto job = (*rt)->open_live(dir.string());
  BOOST_REQUIRE(job);
  auto done = (*rt)->wait(job->id, 60s);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->state) == "completed");
  BOOST_TEST(decodes_cleanly(done->output));
  auto warned = [&](const event& e) {
    return e.job_id == job->id && e.kind == events::stage_completed && e.stage == stage_live &&
           e.message.find("the recorder went away") != std::string::npos;
  };
  BOOST_TEST(log.wait_for(warned, 5s));
}

BOOST_AUTO_TEST_CASE(a_recording_that_ends_with_nothing_in_it_fails_with_the_reason) {
  live_run r{"live-nothing"};
  BOOST_REQUIRE(r.rt->end_recording(r.job.id));
  auto done = r.rt->wait(r.job.id, 60s);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->state) == "failed");
  BOOST_TEST(done->error.find("lists no video and no audio") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_live_job_can_be_cancelled_while_it_records) {
  live_run r{"live-cancel"};
  BOOST_REQUIRE(r.log.wait_for(live_note(r.job.id, "recording")));
  BOOST_REQUIRE(r.rt->cancel(r.job.id));
  auto done = r.rt->wait(r.job.id, 30s);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->state) == "cancelled");
}

namespace {

json transcript_of(const fs::path& session) {
  return json::parse(read_file(session / "postroll/enrichment/transcript.json"));
}

auto behind_at_most(const std::string& job, int seconds) {
  return [job, seconds](const event& e) {
    auto at = e.message.find("transcript ");
    if (e.job_id != job || e.stage != stage_live || at == std::string::npos || e.message.find(" s behind") == std::string::npos)
      return false;
    return std::atoi(e.message.c_str() + at + 11) <= seconds;
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_live_transcript_is_the_batch_transcript_done_while_it_records) {
  temp_dir tmp;
  auto dir = empty_recording(tmp / "rec", "live-speech");
  const std::vector<std::string> lines = {
    "the queue actor persists every job before it answers the client",
    "we measured the merge on two cores and it took four seconds",
    "a sentence said across two audio segments must be heard as one sentence by the recognizer",
    "the dashboard shows the recording while the session is still being made"};
  // The recorder's segments: one per line, the third cut in two with no gap.
  struct seg { std::string path; std::int64_t offset; };
  std::vector<seg> segs;
  std::int64_t at = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto wav = tmp / ("line" + std::to_string(i) + ".wav");
    make_speech(lines[i], wav, "espeak");
    auto ms = std::int64_t(probe_duration(wav) * 1000);
    if (i == 2) {
      auto half = ms / 2 / 10 * 10;
      sh("sox " + wav.string() + " " + (dir / "audio/2a.wav").string() + " trim 0 " + std::to_string(half / 1000.0));
      sh("sox " + wav.string() + " " + (dir / "audio/2b.wav").string() + " trim " + std::to_string(half / 1000.0));
      segs.push_back({"audio/2a.wav", at});
      segs.push_back({"audio/2b.wav", at + half});
    } else {
      auto name = "audio/" + std::to_string(i) + ".wav";
      fs::copy_file(wav, dir / name);
      segs.push_back({name, at});
    }
    at += ms + 800;
  }
  auto cfg = live_config(tmp);
  cfg.enrich = true;
  cfg.compress = false;
  cfg.min_audio_ms = 1000;
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  event_log log;
  auto sub = (*rt)->subscribe(log.sink());
  auto job = (*rt)->open_live(dir.string());
  BOOST_REQUIRE_MESSAGE(job, (job ? "" : job.err().message));
  for (const auto& s : segs)
    BOOST_REQUIRE((*rt)->append_file(job->id, {"audio", s.path, s.offset}));
  // Only the last segment waits (the next one could still overlap it).
  BOOST_REQUIRE(log.wait_for(behind_at_most(job->id, 8), 120s));
  BOOST_REQUIRE((*rt)->end_recording(job->id));
  auto done = (*rt)->wait(job->id, 120s);
  BOOST_REQUIRE(done);
  BOOST_REQUIRE_MESSAGE(done->state == job_state::completed, done->error);
  auto live = transcript_of(dir);
  BOOST_TEST(live["piecesReused"].get<int>() >= 2, live.dump());

  // The batch run of the same files in another folder (no cache there).
  auto batch_dir = tmp / "batch";
  fs::create_directories(batch_dir / "audio");
  for (const auto& s : segs)
    fs::copy_file(dir / s.path, batch_dir / s.path);
  auto doc = json::parse(read_file(dir / "session.json"));
  doc["id"] = "batch-speech";
  write_file(batch_dir / "session.json", doc.dump());
  auto batch_job = (*rt)->submit(batch_dir.string());
  BOOST_REQUIRE(batch_job);
  auto batch_done = (*rt)->wait(batch_job->id, 120s);
  BOOST_REQUIRE(batch_done && batch_done->state == job_state::completed);
  auto batch = transcript_of(batch_dir);
  BOOST_TEST(batch["piecesReused"] == 0);
  // Same words at the same times, same speech and silence, same loudness.
  BOOST_TEST(live["words"].size() > 30u);
  BOOST_TEST(live["words"] == batch["words"], live["text"] << "\n vs \n" << batch["text"]);
  BOOST_TEST(live["speech"] == batch["speech"]);
  BOOST_TEST(live["loudness"] == batch["loudness"]);
  // The sentence across the two segments is heard as one: an utterance
  // runs across the join (no cut there: there is no silence to cut at).
  auto join = segs[3].offset;
  bool stitched = false;
  for (const auto& u : live["utterances"])
    stitched |= u["startMs"].get<std::int64_t>() < join - 300 && u["endMs"].get<std::int64_t>() > join + 300;
  BOOST_TEST(stitched, live["utterances"].dump());
}

// Screenshots are OCR'd as they are listed; the chapters stage at the end
// takes their words and reads no picture again.
BOOST_AUTO_TEST_CASE(screenshots_are_read_as_they_arrive_and_the_chapters_take_their_words) {
  live_run r{"live-shots", [](config& cfg) {
                cfg.enrich = true;
                cfg.compress = false;
              }};
  const std::vector<slide> pages = {{"Release Checklist", "tag the build and sign the packages"},
                                    {"Quarterly Budget", "travel and hardware for the next quarter"},
                                    {"Incident Review", "what failed and how the node recovered"}};
  fs::create_directories(r.dir / "shots");
  for (std::size_t i = 0; i < pages.size(); ++i)
    make_slide_picture(r.dir / ("shots/" + std::to_string(i) + ".png"), pages[i]);
  sh("sox -n -r 16000 -c 1 '" + (r.dir / "audio/a.wav").string() + "' synth 36 sine 200 vol 0.1");
  BOOST_REQUIRE(r.rt->append_file(r.job.id, {"audio", "audio/a.wav", 0}));
  for (std::size_t i = 0; i < pages.size(); ++i)
    BOOST_REQUIRE(r.rt->append_file(r.job.id, {"screenshot", "shots/" + std::to_string(i) + ".png",
                                               std::int64_t(i) * 12000}));
  BOOST_REQUIRE(r.log.wait_for(live_note(r.job.id, "3 screenshots read"), 120s));
  BOOST_REQUIRE(r.rt->end_recording(r.job.id));
  auto done = r.rt->wait(r.job.id, 300s);
  BOOST_REQUIRE(done);
  BOOST_REQUIRE_MESSAGE(done->state == job_state::completed, done->error);
  BOOST_TEST(json::parse(done->stages[0].result)["screenshotsRead"] == 3);
  auto chapters = json::parse(read_file(r.dir / "postroll/enrichment/chapters.json"));
  BOOST_TEST(chapters["source"] == "screenshots");
  BOOST_REQUIRE_EQUAL(chapters["chapters"].size(), 3u);
  BOOST_TEST(chapters["picturesReused"] == 3);  // no picture was read at the end
  for (std::size_t i = 0; i < pages.size(); ++i)
    BOOST_TEST(chapters["chapters"][i]["title"].get<std::string>() == pages[i].title);
}

namespace {
// The sealed AAC pieces stored so far, with their modification times.
std::map<std::string, fs::file_time_type> audio_pieces_in(const fs::path& session) {
  std::map<std::string, fs::file_time_type> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(session / "postroll/audio-pieces", ec))
    if (e.path().extension() == ".aac")
      out[e.path().filename().string()] = e.last_write_time();
  return out;
}

// Waits (a deadline, not a pace) until `n` pieces are stored.
std::map<std::string, fs::file_time_type> wait_audio_pieces(const fs::path& session, std::size_t n) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  auto got = audio_pieces_in(session);
  for (; got.size() < n && std::chrono::steady_clock::now() < deadline; got = audio_pieces_in(session))
    std::this_thread::sleep_for(20ms);
  return got;
}
}  // namespace

// The audio's AAC is encoded in pieces while it records; a segment listed
// out of order changes only the piece it falls in: the others are not
// encoded again, live or at the end.
BOOST_AUTO_TEST_CASE(a_segment_listed_out_of_order_reencodes_only_its_piece) {
  live_run r{"live-order"};
  for (int i = 0; i <= 8; ++i) {
    auto name = "audio/" + std::to_string(i) + ".wav";
    segment(r.dir / name, 440);
    BOOST_REQUIRE(r.rt->append_file(r.job.id, {"audio", name, i * 10000}));
  }
  // Final up to the last start (80 s): the pieces up to 60 s (~30 s each).
  auto before = wait_audio_pieces(r.dir, 2);
  BOOST_REQUIRE_EQUAL(before.size(), 2u);
  // A segment at 35 s, listed last: the second piece changes.
  segment(r.dir / "audio/late.wav", 880);
  BOOST_REQUIRE(r.rt->append_file(r.job.id, {"audio", "audio/late.wav", 35000}));
  auto after = wait_audio_pieces(r.dir, 3);
  BOOST_REQUIRE_EQUAL(after.size(), 3u);
  for (const auto& [name, time] : before) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_REQUIRE(after.count(name) == 1u);
      BOOST_TEST((after[name] == time));  // the first is not written again
    }
  }
  BOOST_REQUIRE(r.rt->end_recording(r.job.id));
  auto done = r.rt->wait(r.job.id, 60s);
  BOOST_REQUIRE(done);
  BOOST_REQUIRE_MESSAGE(done->state == job_state::completed, done->error);
  json timeline;
  for (const auto& s : done->stages)
    if (s.name == stage_timeline)
      timeline = json::parse(s.result);
  BOOST_TEST(timeline["pieces"] == 3);        // 82 s: two whole pieces and the rest
  BOOST_TEST(timeline["piecesReused"] == 2);  // the first, and the second as changed
  BOOST_TEST(!fs::exists(r.dir / "postroll/audio-pieces"));  // timeline.aac holds them
  int rate = 0;
  auto pcm = decode_audio_with_ffmpeg(done->output, rate);
  auto beeps = find_beeps(pcm, rate);
  BOOST_REQUIRE_EQUAL(beeps.size(), 10u);
  BOOST_TEST(beeps[4] == 35000.0, boost::test_tools::tolerance(0.001));
}

namespace {

// A recording with a screen video that grows as it is written: `form` is
// "fmp4" (fragmented MP4, as OBS-style recorders write it) or "webm" (VP8
// in WebM with unknown sizes, as Chromium's MediaRecorder streams it).
// Four slides of 12 s, each talked about in a speech segment listed up
// front; the video is written at 4x real time by ffmpeg while the job runs.
// Returns what the batch path makes of the same files, for comparison.
void screen_video_recorded_live_equals_batch(const std::string& form) {
  live_run r{"live-video-" + form, [](config& cfg) {
                cfg.enrich = true;
                cfg.compress = false;
                cfg.min_audio_ms = 1000;
              }};
  const std::vector<slide> pages = {{"Release Checklist", "tag the build and sign the packages"},
                                    {"Quarterly Budget", "travel and hardware for the next quarter"},
                                    {"Incident Review", "what failed and how the node recovered"},
                                    {"Hiring Plan", "two engineers for the storage team"}};
  const std::vector<std::string> lines = {"the release checklist says tag the build and sign the packages",
                                          "the quarterly budget covers travel and hardware",
                                          "the incident review explains what failed",
                                          "the hiring plan asks for two engineers"};
  auto source = r.tmp / "slides.mp4";
  make_slides_video(source, pages, 12000);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto wav = r.dir / ("audio/" + std::to_string(i) + ".wav");
    make_speech(lines[i], wav, "espeak");
    BOOST_REQUIRE(r.rt->append_file(r.job.id, {"audio", "audio/" + std::to_string(i) + ".wav",
                                               std::int64_t(i) * 12000 + 1000}));
  }
  fs::create_directories(r.dir / "video");
  auto video = r.dir / ("video/screen." + std::string{form == "webm" ? "webm" : "mp4"});
  std::vector<std::string> argv = {"ffmpeg", "-loglevel", "error", "-readrate", "4", "-i", source.string()};
  if (form == "webm") {
    for (const char* a : {"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M", "-f", "webm",
                          "-live", "1"})
      argv.push_back(a);
  } else {
    for (const char* a : {"-c", "copy", "-movflags", "frag_keyframe+empty_moov", "-f", "mp4"})
      argv.push_back(a);
  }
  argv.push_back(video.string());
  child_process writer{argv};
  for (int i = 0; i < 400 && !fs::exists(video); ++i)
    writer.wait_for_line([](const std::string&) { return false; }, 25ms);
  BOOST_REQUIRE(fs::exists(video));
  BOOST_REQUIRE(r.rt->append_file(r.job.id, {"video", video.lexically_relative(r.dir).string(), 0}));
  // The video is read as it is written: the reader is at its end once the
  // writer is done, and the pieces of the closed chapters are recognised.
  BOOST_REQUIRE(r.log.wait_for(live_note(r.job.id, "screen "), 60s));
  BOOST_REQUIRE_EQUAL(writer.wait(), 0);
  BOOST_REQUIRE_MESSAGE(r.log.wait_for(live_note(r.job.id, "screen 0 s behind"), 60s), r.log.last_note(r.job.id, stage_live));
  BOOST_REQUIRE_MESSAGE(r.log.wait_for(behind_at_most(r.job.id, 14), 120s), r.log.last_note(r.job.id, stage_live));
  BOOST_REQUIRE(r.rt->end_recording(r.job.id));
  auto done = r.rt->wait(r.job.id, 300s);
  BOOST_REQUIRE(done);
  BOOST_REQUIRE_MESSAGE(done->state == job_state::completed, done->error);
  auto chapters = json::parse(read_file(r.dir / "postroll/enrichment/chapters.json"));
  BOOST_TEST(chapters.value("chaptersReused", false), chapters.dump());  // the video was not read again
  BOOST_REQUIRE_EQUAL(chapters["chapters"].size(), pages.size());
  for (std::size_t i = 0; i < pages.size(); ++i)
    BOOST_TEST(chapters["chapters"][i]["title"].get<std::string>() == pages[i].title);
  auto live = transcript_of(r.dir);
  BOOST_REQUIRE_MESSAGE(live["piecesReused"].is_number() && live["screenVocabulary"].is_number(), live.dump());
  // Done live: at least one (two on an idle machine: the newest segment is
  // not final, and the piece before it is cut at the speech that starts in
  // it; the live work runs at nice 19 and a loaded machine gets to it later).
  BOOST_TEST(live["piecesReused"].get<int>() >= 1, live.dump());

  // The batch run of the same files in another folder (no cache there).
  auto batch_dir = r.tmp / "batch";
  fs::create_directories(batch_dir);
  for (const char* sub : {"audio", "video"})
    fs::copy(r.dir / sub, batch_dir / sub, fs::copy_options::recursive);
  auto doc = json::parse(read_file(r.dir / "session.json"));
  doc["id"] = "batch-" + form;
  doc.erase("endedAt");
  write_file(batch_dir / "session.json", doc.dump());
  auto batch_job = r.rt->submit(batch_dir.string());
  BOOST_REQUIRE(batch_job);
  auto batch_done = r.rt->wait(batch_job->id, 300s);
  BOOST_REQUIRE(batch_done);
  BOOST_REQUIRE_MESSAGE(batch_done->state == job_state::completed, batch_done->error);
  BOOST_REQUIRE_MESSAGE(transcript_of(batch_dir)["piecesReused"].is_number(), transcript_of(batch_dir).dump());
  auto batch_chapters = json::parse(read_file(batch_dir / "postroll/enrichment/chapters.json"));
  BOOST_TEST(!batch_chapters.value("chaptersReused", false));
  BOOST_TEST(chapters["chapters"] == batch_chapters["chapters"], chapters.dump() << "\n vs \n" << batch_chapters.dump());
  auto batch = transcript_of(batch_dir);
  BOOST_TEST(batch["piecesReused"] == 0, batch.dump());
  BOOST_TEST(live["screenVocabulary"].get<int>() > 10);
  BOOST_TEST(live["screenVocabulary"] == batch["screenVocabulary"]);
  BOOST_TEST(live["words"] == batch["words"], live["text"] << "\n vs \n" << batch["text"]);
}

}  // namespace

// The screen video read while it grows: chapters and their words live,
// the transcript biased by them live, and both equal to the batch's.
BOOST_AUTO_TEST_CASE(a_growing_fragmented_mp4_is_read_live_and_its_chapters_equal_the_batch_ones) {
  screen_video_recorded_live_equals_batch("fmp4");
}

BOOST_AUTO_TEST_CASE(a_growing_webm_is_read_live_and_its_chapters_equal_the_batch_ones) {
  screen_video_recorded_live_equals_batch("webm");
}

// A screen video whose index is written when it ends cannot be read while
// it grows: the follower says so, the transcript's biased pieces are not
// held (nor kept in memory) and everything is done at the end, as batch.
BOOST_AUTO_TEST_CASE(a_screen_video_with_its_index_at_the_end_sends_chapters_and_transcript_to_the_end) {
  live_run r{"live-moov-last", [](config& cfg) {
                cfg.enrich = true;
                cfg.compress = false;
                cfg.min_audio_ms = 1000;
              }};
  fs::create_directories(r.dir / "video");
  make_slides_video(r.dir / "video/screen.mp4", {{"Release Checklist", "tag the build"}, {"Hiring Plan", "two engineers"}},
                    12000);
  make_speech("the release checklist says tag the build", r.dir / "audio/0.wav", "espeak");
  BOOST_REQUIRE(r.rt->append_file(r.job.id, {"video", "video/screen.mp4", 0}));
  BOOST_REQUIRE(r.rt->append_file(r.job.id, {"audio", "audio/0.wav", 1000}));
  BOOST_REQUIRE_MESSAGE(r.log.wait_for(live_note(r.job.id, "chapters at the end (the screen video's index"), 60s),
                        r.log.last_note(r.job.id, stage_live));
  BOOST_REQUIRE_MESSAGE(r.log.wait_for(live_note(r.job.id, "transcript at the end (it needs the screen's words"), 60s),
                        r.log.last_note(r.job.id, stage_live));
  BOOST_REQUIRE(r.rt->end_recording(r.job.id));
  auto done = r.rt->wait(r.job.id, 300s);
  BOOST_REQUIRE(done);
  BOOST_REQUIRE_MESSAGE(done->state == job_state::completed, done->error);
  auto chapters = json::parse(read_file(r.dir / "postroll/enrichment/chapters.json"));
  BOOST_TEST(!chapters.value("chaptersReused", false));
  BOOST_TEST(chapters["chapters"].size() == 2u);
  BOOST_TEST(transcript_of(r.dir)["piecesReused"] == 0);
}
