// The media stages on real files, checked with ffmpeg/ffprobe as
// independent decoders.
#define BOOST_TEST_MODULE media_pipelines
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "pipelines/audio_timeline.hpp"
#include "pipelines/merge.hpp"
#include "pipelines/stages.hpp"
#include "support/cancel_mid_stream.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;

namespace {

// Runs timeline (when there is audio) and merge; @returns the merge result JSON.
json finalize(const fs::path& session, media_options opt = {}) {
  cancel_token cancel;
  auto manifest = json::parse(read_file(session / "session.json"));
  if (manifest.contains("audio") && !manifest["audio"].empty()) {
    auto t = run_media_stage(stage_timeline, session, opt, cancel, {});
    BOOST_REQUIRE_MESSAGE(t, (t ? "" : t.err().message));
  }
  auto m = run_media_stage(stage_merge, session, opt, cancel, {});
  BOOST_REQUIRE_MESSAGE(m, (m ? "" : m.err().message));
  return json::parse(*m);
}

void gst_launch(const std::string& pipeline) { sh("gst-launch-1.0 -q " + pipeline); }

// A silent screen-like video: `seconds` long at 15 fps, encoded by `encoder`.
void make_video(const fs::path& file, int seconds, const std::string& encoder_and_mux) {
  fs::create_directories(file.parent_path());
  gst_launch("videotestsrc num-buffers=" + std::to_string(seconds * 15) +
      " pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 ! timeoverlay ! videoconvert ! " +
      encoder_and_mux + " ! filesink location='" + file.string() + "'");
}

const std::string h264_mp4 = "x264enc speed-preset=ultrafast key-int-max=30 ! video/x-h264,profile=high ! mp4mux";

// A tone of `seconds` as 16 kHz mono WAV.
void make_tone(const fs::path& file, double seconds) {
  fs::create_directories(file.parent_path());
  sh("sox -n -r 16000 -c 1 -b 16 '" + file.string() + "' synth " + std::to_string(seconds) +
     " sine 440 vol 0.3");
}

void write_manifest(const fs::path& dir, const json& video, const json& audio) {
  test::write_manifest(dir, video.dump(), audio.dump());
}

}  // namespace

BOOST_AUTO_TEST_CASE(beeps_land_within_10_ms_of_their_session_time) {
  temp_dir tmp;
  auto dir = tmp / "beeps";
  sh("'" + (source_dir() / "tests/media/make-beep-session.sh").string() + "' '" + dir.string() +
     "' with-video");
  auto merged = finalize(dir);
  std::vector<double> expected;
  std::ifstream in{dir / "expected-beeps.txt"};
  for (double t; in >> t;)
    expected.push_back(t);
  BOOST_REQUIRE_GE(expected.size(), 10u);
  int rate = 0;
  auto pcm = decode_audio_with_ffmpeg(merged["file"].get<std::string>(), rate);
  auto found = find_beeps(pcm, rate);
  BOOST_REQUIRE_EQUAL(found.size(), expected.size());
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST_CONTEXT("beep " << i << " expected at " << expected[i] << " ms, found at " << found[i]) {
      BOOST_TEST(std::abs(found[i] - expected[i]) <= 10.0);
    }
    worst = std::max(worst, std::abs(found[i] - expected[i]));
  }
  BOOST_TEST_MESSAGE("worst beep offset: " << worst << " ms");
}

BOOST_AUTO_TEST_CASE(h264_video_is_remuxed_with_byte_identical_packets) {
  temp_dir tmp;
  auto dir = tmp / "h264";
  make_video(dir / "video/screen.mp4", 6, h264_mp4);
  make_tone(dir / "audio/a.wav", 3);
  write_manifest(dir, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}, {{{"path", "audio/a.wav"}, {"offsetMs", 1000}}});
  auto merged = finalize(dir);
  BOOST_TEST(merged["videoRemuxed"].get<bool>());
  auto out = merged["file"].get<std::string>();
  auto in_packets = video_packet_hashes(dir / "video/screen.mp4");
  auto out_packets = video_packet_hashes(out);
  BOOST_REQUIRE_EQUAL(in_packets.size(), 90u);
  BOOST_TEST(in_packets == out_packets, boost::test_tools::per_element());
  BOOST_TEST(probe_codecs(out) == (std::vector<std::string>{"h264", "aac"}), boost::test_tools::per_element());
  // faststart: the index (moov) comes before the media data.
  auto head = read_file(out).substr(0, 4096);
  BOOST_TEST(head.find("moov") < head.find("mdat"));
  BOOST_TEST(decodes_cleanly(out));
}

BOOST_AUTO_TEST_CASE(hevc_video_in_mov_is_remuxed_with_byte_identical_packets) {
  temp_dir tmp;
  auto dir = tmp / "hevc";
  make_video(dir / "video/screen.mov", 4,
             "video/x-raw,format=I420 ! x265enc speed-preset=ultrafast key-int-max=30 ! h265parse ! qtmux");
  make_tone(dir / "audio/a.wav", 2);
  write_manifest(dir, {{{"path", "video/screen.mov"}, {"offsetMs", 0}}}, {{{"path", "audio/a.wav"}, {"offsetMs", 0}}});
  auto merged = finalize(dir);
  BOOST_TEST(merged["videoRemuxed"].get<bool>());
  auto out = merged["file"].get<std::string>();
  auto in_packets = video_packet_hashes(dir / "video/screen.mov");
  BOOST_REQUIRE_EQUAL(in_packets.size(), 60u);
  BOOST_TEST(in_packets == video_packet_hashes(out), boost::test_tools::per_element());
  BOOST_TEST(probe_codecs(out) == (std::vector<std::string>{"hevc", "aac"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(vp8_webm_video_is_encoded_to_h264) {
  temp_dir tmp;
  auto dir = tmp / "vp8";
  make_video(dir / "video/screen.webm", 4, "vp8enc deadline=1 ! webmmux");
  make_tone(dir / "audio/a.wav", 2);
  write_manifest(dir, {{{"path", "video/screen.webm"}, {"offsetMs", 0}}}, {{{"path", "audio/a.wav"}, {"offsetMs", 0}}});
  auto merged = finalize(dir);
  BOOST_TEST(!merged["videoRemuxed"].get<bool>());
  auto out = merged["file"].get<std::string>();
  BOOST_TEST(probe_codecs(out) == (std::vector<std::string>{"h264", "aac"}), boost::test_tools::per_element());
  BOOST_TEST(std::abs(probe_duration(out, "v:0") - 4.0) < 0.1);
  BOOST_TEST(decodes_cleanly(out));
}

BOOST_AUTO_TEST_CASE(output_lasts_as_long_as_the_longest_input) {
  temp_dir tmp;
  {  // audio ends after the video
    auto dir = tmp / "long-audio";
    make_video(dir / "video/screen.mp4", 3, h264_mp4);
    make_tone(dir / "audio/a.wav", 2);
    write_manifest(dir, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}},
                   {{{"path", "audio/a.wav"}, {"offsetMs", 7000}}});
    auto out = finalize(dir)["file"].get<std::string>();
    BOOST_TEST(probe_duration(out) >= 9.0 - 0.05);
    BOOST_TEST(probe_duration(out, "a:0") >= 9.0 - 0.05);
  }
  {  // video ends after the audio: audio is padded with silence to the end
    auto dir = tmp / "long-video";
    make_video(dir / "video/screen.mp4", 8, h264_mp4);
    make_tone(dir / "audio/a.wav", 1);
    write_manifest(dir, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}},
                   {{{"path", "audio/a.wav"}, {"offsetMs", 500}}});
    auto out = finalize(dir)["file"].get<std::string>();
    BOOST_TEST(probe_duration(out) >= 8.0 - 0.05);
    BOOST_TEST(probe_duration(out, "a:0") >= 8.0 - 0.05);
    BOOST_TEST(probe_duration(out, "v:0") >= 8.0 - 0.1);
  }
}

BOOST_AUTO_TEST_CASE(video_only_gives_mp4_without_audio_and_audio_only_gives_m4a) {
  temp_dir tmp;
  auto v = tmp / "video-only";
  make_video(v / "video/screen.mp4", 2, h264_mp4);
  write_manifest(v, {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}, json::array());
  auto vout = finalize(v)["file"].get<std::string>();
  BOOST_TEST(fs::path(vout).filename() == "session.mp4");
  BOOST_TEST(probe_codecs(vout) == (std::vector<std::string>{"h264"}), boost::test_tools::per_element());

  auto a = tmp / "audio-only";
  make_tone(a / "audio/a.wav", 2);
  make_tone(a / "audio/b.wav", 1);
  write_manifest(a, json::array(), {{{"path", "audio/a.wav"}, {"offsetMs", 0}}, {{"path", "audio/b.wav"}, {"offsetMs", 4000}}});
  auto aout = finalize(a)["file"].get<std::string>();
  BOOST_TEST(fs::path(aout).filename() == "session.m4a");
  BOOST_TEST(probe_codecs(aout) == (std::vector<std::string>{"aac"}), boost::test_tools::per_element());
  BOOST_TEST(std::abs(probe_duration(aout) - 5.0) < 0.1);
  BOOST_TEST(partial_files(tmp.path()).empty());
}

BOOST_AUTO_TEST_CASE(an_undecodable_segment_is_an_error_naming_it_unless_configured_as_silence) {
  temp_dir tmp;
  auto dir = tmp / "broken";
  make_tone(dir / "audio/a.wav", 1);
  write_file(dir / "audio/b.mp3", std::string(4096, 'x'));  // not audio at all
  make_tone(dir / "audio/c.wav", 1);
  write_manifest(dir, json::array(),
                 {{{"path", "audio/a.wav"}, {"offsetMs", 0}},
                  {{"path", "audio/b.mp3"}, {"offsetMs", 2000}},
                  {{"path", "audio/c.wav"}, {"offsetMs", 4000}}});
  cancel_token cancel;
  media_options opt;
  auto r = run_media_stage(stage_timeline, dir, opt, cancel, {});
  BOOST_REQUIRE(!r);
  BOOST_TEST(int(r.err().code) == int(errc::bad_input));
  BOOST_TEST(r.err().message.find((fs::canonical(dir) / "audio/b.mp3").string()) == 0, r.err().message);
  BOOST_TEST(partial_files(dir).empty());

  opt.undecodable_as_silence = true;
  auto ok = run_media_stage(stage_timeline, dir, opt, cancel, {});
  BOOST_REQUIRE_MESSAGE(ok, (ok ? "" : ok.err().message));
  auto res = json::parse(*ok);
  BOOST_REQUIRE_EQUAL(res["warnings"].size(), 1u);
  BOOST_TEST(res["warnings"][0].get<std::string>().find("b.mp3") != std::string::npos);
  BOOST_TEST(res["durationMs"].get<int>() >= 5000);
}

BOOST_AUTO_TEST_CASE(cancel_stops_a_running_stage_and_leaves_no_partial_file) {
  temp_dir tmp;
  auto dir = tmp / "cancel";
  // Re-encoding noise takes long enough (about 1 s) to cancel in the middle.
  fs::create_directories(dir / "video");
  gst_launch("videotestsrc num-buffers=150 pattern=snow ! video/x-raw,width=640,height=360,framerate=15/1 ! "
      "vp8enc deadline=1 ! webmmux ! filesink location='" + (dir / "video/screen.webm").string() + "'");
  write_manifest(dir, {{{"path", "video/screen.webm"}, {"offsetMs", 0}}}, json::array());
  cancel_token cancel;
  bool was_writing = false;
  auto o = postroll::test::cancel_at_first_progress<result<std::string>>(
      [&](progress_fn progress) { return run_media_stage(stage_merge, dir, {}, cancel, progress); }, cancel,
      [&] { was_writing = !partial_files(dir).empty(); });
  BOOST_REQUIRE_MESSAGE(o.reported, "the stage ended without reporting progress");
  BOOST_TEST(was_writing);
  BOOST_REQUIRE(o.result);
  BOOST_REQUIRE(!*o.result);
  BOOST_TEST(int(o.result->err().code) == int(errc::cancelled));
  BOOST_TEST(partial_files(dir).empty());
  BOOST_TEST(!fs::exists(dir / "postroll/session.mp4"));
}

BOOST_AUTO_TEST_CASE(a_video_with_an_offset_starts_at_its_session_time) {
  temp_dir tmp;
  auto dir = tmp / "offset";
  make_video(dir / "video/screen.mp4", 3, h264_mp4);
  make_tone(dir / "audio/a.wav", 1);
  write_manifest(dir, {{{"path", "video/screen.mp4"}, {"offsetMs", 2000}}}, {{{"path", "audio/a.wav"}, {"offsetMs", 0}}});
  auto out = finalize(dir)["file"].get<std::string>();
  auto r = run({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=start_time",
                "-of", "csv=p=0", out});
  BOOST_TEST(std::abs(std::atof(r.out.c_str()) - 2.0) < 0.01, r.out);
  BOOST_TEST(probe_duration(out, "a:0") >= 5.0 - 0.05);  // audio covers the video's end
  BOOST_TEST(video_packet_hashes(dir / "video/screen.mp4") == video_packet_hashes(out),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_missing_segment_becomes_silence_only_when_configured) {
  temp_dir tmp;
  auto dir = tmp / "missing";
  make_tone(dir / "audio/a.wav", 1);
  write_manifest(dir, json::array(),
                 {{{"path", "audio/a.wav"}, {"offsetMs", 0}}, {{"path", "audio/gone.wav"}, {"offsetMs", 3000}}});
  cancel_token cancel;
  media_options opt;
  auto r = run_media_stage(stage_timeline, dir, opt, cancel, {});
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.err().message.find("audio/gone.wav: file does not exist") != std::string::npos, r.err().message);
  opt.undecodable_as_silence = true;
  auto ok = run_media_stage(stage_timeline, dir, opt, cancel, {});
  BOOST_REQUIRE_MESSAGE(ok, (ok ? "" : ok.err().message));
  auto res = json::parse(*ok);
  BOOST_REQUIRE_EQUAL(res["warnings"].size(), 1u);
  BOOST_TEST(res["warnings"][0].get<std::string>().find("gone.wav: file does not exist") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_index_that_outgrows_its_reserved_room_falls_back_to_faststart) {
  temp_dir tmp;
  auto video = tmp / "video.mp4";
  make_video(video, 4, h264_mp4);
  merge_inputs in;
  in.videos = {{video.string(), video, 0, {}, {}}};
  in.index_bytes_per_second = 10;  // far too little for 15 frames per second
  cancel_token cancel;
  auto out = tmp / "out.mp4";
  auto r = merge_media(in, out, cancel, {});
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  BOOST_TEST(decodes_cleanly(out));
  BOOST_TEST(video_packet_hashes(video) == video_packet_hashes(out), boost::test_tools::per_element());
  auto head = read_file(out).substr(0, 4096);
  BOOST_TEST(head.find("moov") != std::string::npos);  // index still at the front
  BOOST_TEST(!fs::exists(tmp / "out.mp4.faststart"));
}

// The timeline's AAC is encoded in fixed pieces: a piece store (what a live
// job's follower fills) gives the same bytes back, a piece changed on disk
// is not taken, and the joins are seamless and sample-exact (a sine across
// two piece boundaries, compared with the ideal one).
BOOST_AUTO_TEST_CASE(aac_pieces_are_kept_and_join_to_the_same_seamless_bytes) {
  temp_dir tmp;
  auto a = tmp / "a.wav";
  make_tone(a, 75);  // two whole 30 s pieces and a part of a third
  std::vector<timeline_segment> segments{{a, 0, nullptr}};
  auto build = [&](const aac_piece_store* store, int threads, const std::string& name) {
    timeline_options o;
    o.pieces = store;
    o.encode_threads = threads;
    cancel_token cancel;
    auto r = build_audio_timeline(segments, tmp / name, o, cancel, {});
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
    return *r;
  };
  fs::create_directories(tmp / "store");
  aac_piece_store store{tmp / "store", "session key"};
  auto first = build(&store, 2, "first.aac");
  BOOST_TEST(first.pieces == 3);
  BOOST_TEST(first.pieces_reused == 0);
  auto bytes = read_file(tmp / "first.aac");
  auto again = build(&store, 2, "again.aac");
  BOOST_TEST(again.pieces_reused == 3);
  BOOST_TEST((read_file(tmp / "again.aac") == bytes));
  build(nullptr, 1, "one.aac");  // one encoder at a time: the same pieces
  BOOST_TEST((read_file(tmp / "one.aac") == bytes));

  // A stored piece someone changed, and a store under another key, are not taken.
  auto victim = fs::directory_iterator(tmp / "store")->path();
  auto text = read_file(victim);
  text[text.size() / 2] ^= 0x55;
  write_file(victim, text);
  BOOST_TEST(build(&store, 2, "tampered.aac").pieces_reused == 2);
  BOOST_TEST((read_file(tmp / "tampered.aac") == bytes));
  aac_piece_store other{tmp / "store", "another key"};
  BOOST_TEST(build(&other, 2, "other.aac").pieces_reused == 0);

  // Sample-exact and seamless: the decoded sine against the ideal one, in
  // 1024-sample windows, the piece boundaries (~30.05 s, ~60.0 s) included.
  int rate = 0;
  auto pcm = decode_audio_with_ffmpeg(tmp / "first.aac", rate);
  BOOST_REQUIRE_EQUAL(rate, 16000);
  BOOST_REQUIRE_GE(pcm.size(), std::size_t(75 * 16000));
  const double amplitude = 0.3 * 32767, pi = std::acos(-1.0);
  double worst = 0;
  std::size_t worst_at = 0;
  for (std::size_t w = 1600; w + 1024 < std::size_t(74.9 * 16000); w += 1024) {
    double err = 0;
    for (std::size_t i = w; i < w + 1024; ++i) {
      double d = pcm[i] - amplitude * std::sin(2 * pi * 440.0 * double(i) / 16000.0);
      err += d * d;
    }
    err = std::sqrt(err / 1024) / amplitude;
    if (err > worst)
      worst = err, worst_at = w;
  }
  BOOST_TEST_MESSAGE("worst window error against the ideal sine: " << worst * 100 << " % of its amplitude at "
                                                                      << worst_at / 16000.0 << " s");
  BOOST_TEST(worst < 0.05);
}
