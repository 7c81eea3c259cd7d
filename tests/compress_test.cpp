// The media.compress stage on real files: encoder choice and fallback,
// the playability check, the swap rules, A/V sync after dropping frames,
// cancel. ffmpeg/ffprobe are the independent checkers.
#define BOOST_TEST_MODULE compress
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <gst/gst.h>
#include <nlohmann/json.hpp>

#include "actors/stage_plan.hpp"
#include "pipelines/compress.hpp"
#include "pipelines/gst_support.hpp"
#include "pipelines/encoder_choice.hpp"
#include "pipelines/frame_dedup.hpp"
#include "pipelines/stages.hpp"
#include "session/manifest.hpp"
#include "support/cancel_mid_stream.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;

namespace {

// --- an H.264 encoder that breaks after 20 frames: identity ! x264enc -------
// Registered in this process only, so the fallback path runs for real.
struct FailingEnc {
  GstBin parent;
};
struct FailingEncClass {
  GstBinClass parent_class;
};
G_DEFINE_TYPE(FailingEnc, failing_enc, GST_TYPE_BIN)

void failing_enc_class_init(FailingEncClass* klass) {
  gst_element_class_set_static_metadata(GST_ELEMENT_CLASS(klass), "Failing H.264 encoder (test)",
                                        "Codec/Encoder/Video", "x264enc that errors after 20 frames", "postroll");
}

void failing_enc_init(FailingEnc* self) {
  auto* bin = GST_BIN(self);
  auto* identity = gst_element_factory_make("identity", nullptr);
  g_object_set(identity, "error-after", 20, nullptr);
  auto* enc = gst_element_factory_make("x264enc", nullptr);
  gst_bin_add_many(bin, identity, enc, nullptr);
  gst_element_link(identity, enc);
  auto* sink = gst_element_get_static_pad(identity, "sink");
  auto* src = gst_element_get_static_pad(enc, "src");
  gst_element_add_pad(GST_ELEMENT(self), gst_ghost_pad_new("sink", sink));
  gst_element_add_pad(GST_ELEMENT(self), gst_ghost_pad_new("src", src));
  gst_object_unref(sink);
  gst_object_unref(src);
}

void register_failing_encoder() {
  gst::ensure_init();
  static bool done = gst_element_register(nullptr, "postrollfailenc", GST_RANK_NONE, failing_enc_get_type());
  BOOST_REQUIRE(done);
}

// --- media -------------------------------------------------------------------

void write_manifest(const fs::path& dir, const json& video, const json& audio) {
  test::write_manifest(dir, video.dump(), audio.dump());
}

// A mostly still screen (black) with one white frame at each of `flashes`
// seconds (on the 15 fps grid), as H.264 in MP4.
void make_flash_video(const fs::path& file, int seconds, const std::vector<double>& flashes) {
  fs::create_directories(file.parent_path());
  std::string enable;
  for (double t : flashes)
    enable += (enable.empty() ? "" : "+") + std::string{"between(n\\,"} + std::to_string(std::lround(t * 15)) +
              "\\," + std::to_string(std::lround(t * 15)) + ")";
  sh("ffmpeg -v error -y -f lavfi -i color=c=black:s=320x240:r=15:d=" + std::to_string(seconds) +
     " -vf \"drawbox=c=white:t=fill:enable='" + enable + "'\" -c:v libx264 -preset ultrafast -pix_fmt yuv420p '" +
     file.string() + "'");
}

// A 16 kHz WAV of `seconds` with 40 ms beeps at `beeps` seconds.
void make_beeps(const fs::path& file, double seconds, const std::vector<double>& beeps) {
  fs::create_directories(file.parent_path());
  std::string mix;
  int i = 0;
  for (double t : beeps) {
    auto b = file.parent_path() / ("b" + std::to_string(i++) + ".wav");
    sh("sox -n -r 16000 -c 1 -b 16 '" + b.string() + "' synth 0.04 sine 1000 vol 0.5 pad " + std::to_string(t) + " 0");
    mix += " -v 1 '" + b.string() + "'";  // -v 1: sox -m would scale each input down
  }
  auto base = file.parent_path() / "base.wav";
  sh("sox -n -r 16000 -c 1 -b 16 '" + base.string() + "' trim 0 " + std::to_string(seconds));
  sh("sox -m -v 1 '" + base.string() + "'" + mix + " -b 16 '" + file.string() + "' trim 0 " + std::to_string(seconds));
}

// Times (s) of frames much brighter than black, decoded by ffmpeg.
std::vector<double> find_flashes(const fs::path& file) {
  auto out = sh("ffmpeg -v error -i '" + file.string() +
                "' -vf signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=- -f null -");
  std::vector<double> times;
  double t = -1;
  std::istringstream in{out};
  for (std::string line; std::getline(in, line);) {
    if (auto p = line.find("pts_time:"); p != std::string::npos)
      t = std::stod(line.substr(p + 9));
    if (auto p = line.find("YAVG="); p != std::string::npos && std::stod(line.substr(p + 5)) > 128)
      times.push_back(t);
  }
  return times;
}

json run_stages(const fs::path& dir, const media_options& opt) {
  cancel_token cancel;
  auto m = load_manifest(dir);
  BOOST_REQUIRE_MESSAGE(m, (m ? "" : m.err().message));
  json last;
  for (auto& s : plan_stages(*m, {true, false, {}})) {
    auto r = run_media_stage(s.name, dir, opt, cancel, {});
    BOOST_REQUIRE_MESSAGE(r, s.name + ": " + (r ? "" : r.err().message));
    last = json::parse(*r);
  }
  return last;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_first_usable_encoder_of_the_ranking_wins_and_the_others_say_why) {
  gst::ensure_init();
  auto choice = choose_encoder({"no_such_encoder", "nvh264enc", "identity", "x264enc", "openh264enc"});
  BOOST_TEST(choice.name == "x264enc");
  BOOST_REQUIRE_EQUAL(choice.skipped.size(), 3u);
  BOOST_TEST(choice.skipped[0].second.find("no such element") != std::string::npos);
  BOOST_TEST(choice.skipped[1].first == "nvh264enc");  // absent on these machines (media-notes.md)
  BOOST_TEST(choice.skipped[2].second == "not a video encoder");
  BOOST_TEST(choose_encoder({"no_such_encoder"}).name.empty());
  BOOST_TEST(fallback_encoder(default_encoder_ranking(), "vah264enc") == "x264enc");
  BOOST_TEST(fallback_encoder(default_encoder_ranking(), "x264enc") == "openh264enc");
}

BOOST_AUTO_TEST_CASE(still_frames_compare_equal_and_a_blinking_cursor_does_not) {
  std::vector<std::uint8_t> a(640 * 480, 200), b = a;
  luma_view va{a.data(), 640, 640, 480}, vb{b.data(), 640, 640, 480};
  BOOST_TEST(same_picture(va, vb));
  for (int i = 0; i < 3; ++i)
    b[100 * 640 + 10 * i] = 20;  // three stray pixels: codec noise
  BOOST_TEST(same_picture(va, vb));
  b = a;
  for (int y = 200; y < 220; ++y)  // a 2 x 20 px text cursor
    b[y * 640 + 300] = b[y * 640 + 301] = 0;
  BOOST_TEST(!same_picture(va, vb));
  b = a;
  for (auto& p : b)
    p = 203;  // the whole picture re-quantised a little
  BOOST_TEST(!same_picture(va, vb));
}

BOOST_AUTO_TEST_CASE(sync_stays_within_10_ms_after_dropping_still_frames) {
  temp_dir tmp;
  auto dir = tmp / "sync";
  std::vector<double> marks = {1.0, 2.4, 4.0, 5.6, 7.2};
  make_flash_video(dir / "video/screen.mp4", 9, marks);
  make_beeps(dir / "audio/a.wav", 9, marks);
  write_manifest(dir, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}, {{{"path", "audio/a.wav"}, {"offsetMs", 0}}});
  auto r = run_stages(dir, {});
  BOOST_REQUIRE_MESSAGE(r["replaced"].get<bool>(), r.dump());
  BOOST_TEST(r["framesOut"].get<int>() < r["framesIn"].get<int>() / 4);  // a still screen: most frames dropped
  auto out = dir / "postroll/session.mp4";
  BOOST_TEST(decodes_cleanly(out));
  BOOST_TEST(std::abs(probe_duration(out) - 9.0) < 0.1);
  auto flashes = find_flashes(out);
  int rate = 0;
  auto pcm = decode_audio_with_ffmpeg(out, rate);  // sets rate: before find_beeps reads it
  std::vector<double> beeps;
  for (double ms : find_beeps(pcm, rate))
    beeps.push_back(ms / 1000.0);
  BOOST_REQUIRE_EQUAL(flashes.size(), marks.size());
  BOOST_REQUIRE_EQUAL(beeps.size(), marks.size());
  for (size_t i = 0; i < marks.size(); ++i) {
    BOOST_TEST_CONTEXT("mark " << marks[i] << " s: flash " << flashes[i] << ", beep " << beeps[i]) {
      BOOST_TEST(std::abs(flashes[i] - beeps[i]) < 0.010);
      BOOST_TEST(std::abs(flashes[i] - marks[i]) < 0.010);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_encoder_that_fails_mid_stream_is_replaced_by_the_next_software_one) {
  register_failing_encoder();
  temp_dir tmp;
  auto dir = tmp / "fallback";
  fs::create_directories(dir / "video");
  // Every frame changes (a moving ball), so the encoder sees more than 20.
  sh("gst-launch-1.0 -q videotestsrc num-buffers=90 pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 ! "
     "x264enc speed-preset=ultrafast ! mp4mux ! filesink location='" + (dir / "video/screen.mp4").string() + "'");
  write_manifest(dir, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}, json::array());
  media_options opt;
  opt.encoder = "postrollfailenc";
  opt.encoder_ranking = {"postrollfailenc", "x264enc"};
  BOOST_TEST(encoder_usable("postrollfailenc"));  // it reaches READY: the failure comes mid-stream
  auto r = run_stages(dir, opt);
  BOOST_TEST(r["encoder"] == "x264enc");
  BOOST_TEST(r["encoderFailed"].get<std::string>().find("postrollfailenc") != std::string::npos, r.dump());
  BOOST_TEST(r["replaced"].get<bool>());
  BOOST_TEST(decodes_cleanly(dir / "postroll/session.mp4"));
  BOOST_TEST(partial_files(dir / "postroll").empty());
}

BOOST_AUTO_TEST_CASE(a_truncated_file_is_not_fit_to_play) {
  temp_dir tmp;
  auto dir = tmp / "trunc";
  make_flash_video(dir / "video/screen.mp4", 6, {1.0, 3.0});
  write_manifest(dir, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}, json::array());
  auto r = run_stages(dir, {});
  auto good = dir / "postroll/session.mp4";
  cancel_token cancel;
  auto facts = playable_facts_of(good);
  BOOST_REQUIRE(facts);
  BOOST_TEST(!check_playable(good, *facts, cancel));
  auto longer = *facts;  // the original 1 s longer than this file
  longer.duration_ms += 1000;
  longer.span.video.end_ms += 1000;
  auto err = check_playable(good, longer, cancel);
  BOOST_REQUIRE(err);
  BOOST_TEST(err->message.find("ends at") != std::string::npos, err->message);
  auto later = *facts;  // ... or starting a frame and a half later
  later.span.video.first_ms += 100;
  err = check_playable(good, later, cancel);
  BOOST_REQUIRE(err);
  BOOST_TEST(err->message.find("starts at") != std::string::npos, err->message);
  auto bytes = read_file(good);
  write_file(tmp / "cut.mp4", bytes.substr(0, bytes.size() / 2));
  BOOST_TEST(check_playable(tmp / "cut.mp4", *facts, cancel).has_value());
}

BOOST_AUTO_TEST_CASE(a_result_that_would_be_larger_is_not_swapped_in) {
  temp_dir tmp;
  auto dir = tmp / "tiny";
  fs::create_directories(dir / "video");
  // Already squeezed (quality 45, veryslow) where a CRF 18 re-encode of the
  // moving ball comes out about twice as large. Placed as the playable file
  // directly: merge's reserved index room would hide the difference.
  sh("gst-launch-1.0 -q videotestsrc num-buffers=90 pattern=ball ! video/x-raw,width=1280,height=720,framerate=15/1 ! "
     "x264enc pass=qual quantizer=45 speed-preset=veryslow ! mp4mux ! filesink location='" +
     (dir / "video/screen.mp4").string() + "'");
  write_manifest(dir, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}, json::array());
  fs::create_directories(dir / "postroll");
  fs::copy_file(dir / "video/screen.mp4", dir / "postroll/session.mp4");
  cancel_token cancel;
  media_options opt;
  opt.quality = "high";
  auto before = read_file(dir / "postroll/session.mp4");
  auto r = run_media_stage(stage_compress, dir, opt, cancel, {});
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  auto j = json::parse(*r);
  BOOST_TEST(!j["replaced"].get<bool>());
  BOOST_TEST(j["reason"].get<std::string>().find("not smaller") != std::string::npos, j.dump());
  BOOST_TEST(read_file(dir / "postroll/session.mp4") == before);
  BOOST_TEST(partial_files(dir / "postroll").empty());
}

BOOST_AUTO_TEST_CASE(video_only_and_both_are_compressed_and_audio_only_has_no_compress_stage) {
  temp_dir tmp;
  auto both = tmp / "both";
  make_flash_video(both / "video/screen.mp4", 5, {2.0});
  make_beeps(both / "audio/a.wav", 5, {2.0});
  write_manifest(both, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}, {{{"path", "audio/a.wav"}, {"offsetMs", 0}}});
  auto rb = run_stages(both, {});
  BOOST_TEST(rb["replaced"].get<bool>());
  BOOST_TEST(probe_codecs(both / "postroll/session.mp4") == (std::vector<std::string>{"h264", "aac"}),
             boost::test_tools::per_element());

  auto video = tmp / "video";
  make_flash_video(video / "video/screen.mp4", 5, {2.0});
  write_manifest(video, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}, json::array());
  auto rv = run_stages(video, {});
  BOOST_TEST(rv["replaced"].get<bool>());
  BOOST_TEST(probe_codecs(video / "postroll/session.mp4") == (std::vector<std::string>{"h264"}),
             boost::test_tools::per_element());

  auto audio = tmp / "audio";
  make_beeps(audio / "audio/a.wav", 3, {1.0});
  write_manifest(audio, json::array(), {{{"path", "audio/a.wav"}, {"offsetMs", 0}}});
  auto m = load_manifest(audio);
  BOOST_REQUIRE(m);
  auto stages = plan_stages(*m, {true, false, {}});
  BOOST_REQUIRE_EQUAL(stages.size(), 2u);
  BOOST_TEST(stages.back().name == "media.merge");
  // Asked not to, a session with video skips it too.
  auto mv = load_manifest(video);
  BOOST_REQUIRE(mv);
  BOOST_TEST(plan_stages(*mv, {true, false, {}}).back().name == "media.compress");
  BOOST_TEST(plan_stages(*mv, {false, false, {}}).back().name == "media.merge");
}

BOOST_AUTO_TEST_CASE(cancel_stops_the_encoder_mid_stream) {
  temp_dir tmp;
  auto dir = tmp / "cancel";
  fs::create_directories(dir / "video");
  // 20 s of 720p noise: every frame changes, seconds of encoding.
  sh("gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=snow ! video/x-raw,format=I420,width=1280,height=720,framerate=15/1 ! "
     "x264enc speed-preset=ultrafast ! mp4mux ! filesink location='" + (dir / "video/screen.mp4").string() + "'");
  write_manifest(dir, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}, json::array());
  cancel_token cancel;
  BOOST_REQUIRE(run_media_stage(stage_merge, dir, {}, cancel, {}));
  auto o = postroll::test::cancel_at_first_progress<result<std::string>>(
      [&](progress_fn progress) { return run_media_stage(stage_compress, dir, {}, cancel, progress); }, cancel);
  BOOST_REQUIRE(o.result);
  BOOST_REQUIRE_MESSAGE(o.reported, "the stage ended without reporting progress: " +
                                        (*o.result ? **o.result : o.result->err().message));
  BOOST_REQUIRE(!*o.result);
  BOOST_TEST(int(o.result->err().code) == int(errc::cancelled));
  BOOST_TEST(o.last < 1.0);  // stopped, not run to the end
  BOOST_TEST(partial_files(dir / "postroll").empty());
  BOOST_TEST(decodes_cleanly(dir / "postroll/session.mp4"));  // the playable file is untouched
}
