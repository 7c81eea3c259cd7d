// Sessions a crashed recorder left behind: real recorders (gst-launch and
// ffmpeg writing screen-style video from test sources) SIGKILLed at
// several moments; the repaired files are checked with ffmpeg/ffprobe as
// independent decoders. Audio: an unfinalised WAV, and MP3/Opus cut
// mid-frame.
#define BOOST_TEST_MODULE repair
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include "pipelines/gst_support.hpp"
#include "pipelines/matroska_repair.hpp"
#include "pipelines/mp4_repair.hpp"
#include "pipelines/repair.hpp"
#include "pipelines/wav_repair.hpp"
#include "session/manifest.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int fps = 15;

// Frames ffprobe decodes, as seconds at the recording's rate.
double decoded_seconds(const fs::path& file) {
  auto r = run({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                "stream=nb_read_frames", "-of", "csv=p=0", file.string()});
  return std::atof(r.out.c_str()) / fps;
}

// Runs a recorder (argv) until its file holds media, lets it record for
// `seconds` more, and SIGKILLs it. @returns the seconds it recorded while
// its file was being written (the frames a perfect repair gets back).
double record_and_kill(const std::vector<std::string>& argv, const fs::path& file, double seconds) {
  child_process recorder{argv};
  // The file exists and has its first frames: recording has started.
  auto deadline = clock_type::now() + 20s;
  std::error_code ec;
  while (!(fs::exists(file, ec) && fs::file_size(file, ec) > 2000) && clock_type::now() < deadline)
    std::this_thread::sleep_for(10ms);  // polling the file: the recorder tells us nothing
  BOOST_REQUIRE_MESSAGE(fs::file_size(file, ec) > 2000, "recorder did not start: " << recorder.transcript());
  auto started = clock_type::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));  // the recording's length, not a sync
  recorder.signal(SIGKILL);
  auto recorded = std::chrono::duration<double>(clock_type::now() - started).count();
  recorder.wait();
  return recorded;
}

std::vector<std::string> gst_recorder(const std::string& encode_and_mux, const fs::path& file) {
  // Unbuffered: every frame reaches the file as it is encoded, as a
  // recorder that wants to survive a crash writes.
  return {"sh", "-c",
          "exec gst-launch-1.0 -q videotestsrc is-live=true pattern=smpte ! video/x-raw,width=640,height=360,framerate=" +
              std::to_string(fps) + "/1 ! timeoverlay ! " + encode_and_mux +
              " ! filesink buffer-mode=unbuffered location='" + file.string() + "'"};
}

fs::path repaired_copy(const manifest& m, const fs::path& out_dir, const std::string& kind, std::size_t index) {
  auto mm = m;
  apply_repairs(mm, out_dir, "");
  return (kind == "video" ? mm.video : mm.audio)[index].resolved;
}

// A one-file session around `video` (copied in), repaired by the stage.
json repair_session(const fs::path& dir, const fs::path& video, const std::string& reference = "") {
  fs::create_directories(dir);
  fs::copy_file(video, dir / video.filename(), fs::copy_options::overwrite_existing);
  write_manifest(dir, "[{\"path\": \"" + video.filename().string() + "\", \"offsetMs\": 0}]", "[]");
  auto m = load_manifest(dir);
  BOOST_REQUIRE(m);
  auto damaged = find_damage(*m);
  BOOST_REQUIRE_EQUAL(damaged.size(), 1u);
  repair_options o;
  o.reference = reference;
  cancel_token never;
  auto r = repair_stage(*m, dir / "postroll", o, never, {});
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  return json::parse(*r)["repairs"][0];
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_mp4_without_moov_is_rebuilt_from_in_band_parameter_sets_at_several_kill_moments) {
  temp_dir t;
  for (double seconds : {1.5, 4.0, 7.0}) {
    auto file = t / ("rec-" + std::to_string(int(seconds * 10)) + ".mp4");
    auto recorded = record_and_kill(gst_recorder("x264enc tune=zerolatency ! h264parse config-interval=-1 ! mp4mux", file),
                                    file, seconds);
    BOOST_TEST_MESSAGE("recorded " << recorded << " s before SIGKILL");
    BOOST_TEST(!decodes_cleanly(file));  // no moov: unreadable as it is
    auto scan = scan_mp4(file);
    BOOST_TEST((scan.damage == mp4_damage::no_moov), scan.reason);
    auto dir = t / ("s-" + std::to_string(int(seconds * 10)));
    auto r = repair_session(dir, file);
    BOOST_TEST(r["configFrom"] == "stream");
    auto m = load_manifest(dir);
    auto repaired = repaired_copy(*m, dir / "postroll", "video", 0);
    BOOST_TEST(repaired.string().find("postroll/repair/") != std::string::npos);
    BOOST_TEST(decodes_cleanly(repaired));
    auto got = decoded_seconds(repaired);
    BOOST_TEST_MESSAGE("in-band: recovered " << got << " s of " << recorded << " s");
    BOOST_TEST(std::abs(got - recorded) < 0.5, "recovered " << got << " s of " << recorded << " s");
    BOOST_TEST(got >= 0.95 * recorded - 1.0 / fps);
    BOOST_TEST(std::abs(r["secondsRecovered"].get<double>() - got) < 0.2);
  }
}

BOOST_AUTO_TEST_CASE(an_mp4_without_moov_and_without_in_band_sets_needs_the_reference_recording) {
  temp_dir t;
  // ffmpeg as the recorder: libx264 keeps SPS/PPS in the (never written) moov.
  auto ffmpeg = [&](const fs::path& out, const std::string& limit) {
    return std::vector<std::string>{"sh", "-c",
                                    "exec ffmpeg -v error -re -f lavfi -i testsrc=size=640x360:rate=" + std::to_string(fps) +
                                        " " + limit + " -c:v libx264 -preset ultrafast -tune zerolatency -g 30 -flush_packets 1 -f mp4 '" +
                                        out.string() + "'"};
  };
  auto reference = t / "reference.mp4";
  BOOST_REQUIRE_EQUAL(run(ffmpeg(reference, "-t 1")).exit_code, 0);
  auto file = t / "killed.mp4";
  auto recorded = record_and_kill(ffmpeg(file, ""), file, 4.0);
  BOOST_TEST((scan_mp4(file).damage == mp4_damage::no_moov));

  // Without the reference: a clear refusal that says what to give.
  fs::create_directories(t / "s1");
  fs::copy_file(file, t / "s1" / "killed.mp4");
  write_manifest(t / "s1", R"([{"path": "killed.mp4", "offsetMs": 0}])", "[]");
  auto m = load_manifest(t / "s1");
  BOOST_REQUIRE(m);
  cancel_token never;
  auto refused = repair_stage(*m, t / "s1" / "postroll", {}, never, {});
  BOOST_REQUIRE(!refused);
  BOOST_TEST((refused.err().code == errc::bad_input));
  BOOST_TEST(refused.err().message.find("killed.mp4") != std::string::npos, refused.err().message);
  BOOST_TEST(refused.err().message.find("reference") != std::string::npos, refused.err().message);

  // With it: rebuilt, at the reference's frame rate.
  auto r = repair_session(t / "s2", file, reference.string());
  BOOST_TEST(r["configFrom"] == "reference");
  BOOST_TEST(r["fpsFrom"] == "reference");
  BOOST_TEST(r["fps"].get<double>() == double(fps));
  auto repaired = repaired_copy(*load_manifest(t / "s2"), t / "s2" / "postroll", "video", 0);
  BOOST_TEST(decodes_cleanly(repaired));
  auto got = decoded_seconds(repaired);
  BOOST_TEST_MESSAGE("reference: recovered " << got << " s of " << recorded << " s");
  BOOST_TEST(std::abs(got - recorded) < 0.5, "recovered " << got << " s of " << recorded << " s");
}

BOOST_AUTO_TEST_CASE(a_fragmented_mp4_cut_inside_a_fragment_keeps_every_whole_fragment) {
  temp_dir t;
  auto file = t / "frag.mp4";
  auto recorded = record_and_kill(
      gst_recorder("x264enc tune=zerolatency key-int-max=6 ! h264parse ! mp4mux fragment-duration=400 streamable=true", file),
      file, 4.0);
  // A writer that flushes in arbitrary chunks (or a disk that kept part of
  // the last write) cuts inside a fragment: cut a few bytes off as well.
  auto size = fs::file_size(file);
  for (std::uintmax_t cut : {std::uintmax_t{0}, std::uintmax_t{777}, size / 7}) {
    auto damaged = t / ("frag-" + std::to_string(cut) + ".mp4");
    fs::copy_file(file, damaged);
    fs::resize_file(damaged, size - cut);
    auto scan = scan_mp4(damaged);
    if (scan.damage == mp4_damage::none) {
      BOOST_TEST(cut == 0u);  // the kill landed between fragments: nothing to repair
      BOOST_TEST(decodes_cleanly(damaged));
      continue;
    }
    BOOST_TEST((scan.damage == mp4_damage::fragment_cut), scan.reason);
    auto dir = t / ("s-" + std::to_string(cut));
    auto r = repair_session(dir, damaged);
    auto repaired = repaired_copy(*load_manifest(dir), dir / "postroll", "video", 0);
    BOOST_TEST(decodes_cleanly(repaired));
    auto got = decoded_seconds(repaired);
    // What the cut file still holds, by ffmpeg's reading of it (it reads
    // partial fragments too, and reports it).
    auto readable = decoded_seconds(damaged);
    BOOST_TEST(got <= readable + 1e-6);
    BOOST_TEST(readable - got < 0.5, "kept " << got << " s of " << readable << " s readable");
    if (cut == 0)
      BOOST_TEST(std::abs(got - recorded) < 0.5, "recovered " << got << " s of " << recorded << " s");
    BOOST_TEST(r["bytesLost"].get<std::int64_t>() > 0);
  }
}

BOOST_AUTO_TEST_CASE(a_webm_cut_inside_a_cluster_keeps_every_whole_cluster) {
  temp_dir t;
  auto file = t / "rec.webm";
  auto recorded = record_and_kill(gst_recorder("vp8enc deadline=1 keyframe-max-dist=15 ! webmmux", file), file, 4.0);
  BOOST_TEST_MESSAGE("recorded " << recorded << " s");
  auto size = fs::file_size(file);
  for (std::uintmax_t cut : {std::uintmax_t{0}, std::uintmax_t{333}, size / 5}) {
    auto damaged = t / ("rec-" + std::to_string(cut) + ".webm");
    fs::copy_file(file, damaged);
    fs::resize_file(damaged, size - cut);
    auto scan = scan_matroska(damaged);
    auto readable = decoded_seconds(damaged);
    if (!scan.damaged) {
      // Cut at a block boundary (a SIGKILL between two writes): already
      // whole, plays as it is.
      BOOST_TEST(decodes_cleanly(damaged));
      if (cut == 0)
        BOOST_TEST(std::abs(readable - recorded) < 0.5, readable << " s readable of " << recorded << " s");
      continue;
    }
    auto dir = t / ("s-" + std::to_string(cut));
    auto r = repair_session(dir, damaged);
    BOOST_TEST(r["damage"] == "matroska-cut");
    auto repaired = repaired_copy(*load_manifest(dir), dir / "postroll", "video", 0);
    BOOST_TEST(decodes_cleanly(repaired));
    auto got = decoded_seconds(repaired);
    // Whole clusters are kept; the cut one goes. webmmux starts a cluster
    // at each keyframe once the last one holds 0.5 s: here every 15 frames,
    // one second. So at most a second (and a frame) is lost, wherever the
    // SIGKILL landed in the cluster (under load late in one: 3.0 of 3.93 s
    // readable was seen).
    BOOST_TEST(readable - got < 1.0 + 1.0 / fps, "kept " << got << " s of " << readable << " s readable");
  }
}

BOOST_AUTO_TEST_CASE(wav_headers_never_finalised_are_read_to_the_end) {
  temp_dir t;
  // A killed recorder: wavenc writes its sizes only at the end.
  auto killed = t / "killed.wav";
  child_process recorder{{"gst-launch-1.0", "-q", "audiotestsrc", "is-live=true", "wave=sine", "!",
                          "audio/x-raw,rate=48000,channels=1", "!", "wavenc", "!", "filesink", "buffer-mode=unbuffered",
                          "location=" + killed.string()}};
  auto deadline = clock_type::now() + 20s;
  std::error_code ec;
  while (!(fs::exists(killed, ec) && fs::file_size(killed, ec) > 96000 * 2) && clock_type::now() < deadline)
    std::this_thread::sleep_for(10ms);
  recorder.signal(SIGKILL);
  recorder.wait();
  auto scan = scan_wav(killed);
  BOOST_TEST(scan.damaged, "wavenc's header before EOS should claim more than the file holds");
  auto expect = double(scan.data_bytes) / 96000.0;
  BOOST_TEST(expect > 1.9);

  // The three unfinished headers: sizes 0, 0xFFFFFFFF, and larger than the file.
  auto good = t / "good.wav";
  sh("sox -n -r 16000 -c 1 -b 16 '" + good.string() + "' synth 3 sine 440");
  auto patched = [&](const std::string& name, std::uint32_t value) {
    auto text = read_file(good);
    for (std::size_t at : {std::size_t{4}, std::size_t{40}})
      for (int i = 0; i < 4; ++i)
        text[at + i] = char((value >> (8 * i)) & 0xff);
    write_file(t / name, text);
    return t / name;
  };
  for (auto [file, seconds] : std::vector<std::pair<fs::path, double>>{{patched("zero.wav", 0), 3.0},
                                                                        {patched("ffff.wav", 0xFFFFFFFFu), 3.0},
                                                                        {patched("large.wav", 0x7fff0000u), 3.0},
                                                                        {killed, expect}}) {
    BOOST_TEST_CONTEXT(file.filename()) {
      BOOST_TEST(scan_wav(file).damaged);
      auto dir = t / ("s-" + file.stem().string());
      fs::create_directories(dir);
      fs::copy_file(file, dir / file.filename());
      write_manifest(dir, "[]", "[{\"path\": \"" + file.filename().string() + "\", \"offsetMs\": 0}]");
      // The whole session: repaired, merged, and the merged audio is as long
      // as the samples the file holds.
      auto r = run({postroll_binary().string(), "process", dir.string(), "--data-dir", (dir / "db").string(), "--no-enrich"});
      BOOST_TEST(r.exit_code == 0, r.err);
      BOOST_TEST(r.err.find("repaired " + file.filename().string() + " (wav-header)") != std::string::npos, r.err);
      auto out = dir / "postroll" / "session.m4a";
      BOOST_TEST(std::abs(probe_duration(out) - seconds) < 0.1, probe_duration(out) << " s, expected " << seconds);
      // wavparse itself reads the original to the end too (GStreamer 1.22).
      int rate = 0;
      auto pcm = decode_audio_with_ffmpeg(dir / "postroll" / "repair" / ("audio-0-" + file.filename().string()), rate);
      BOOST_TEST(std::abs(double(pcm.size()) / rate - seconds) < 0.05);
    }
  }
}

BOOST_AUTO_TEST_CASE(mp3_and_opus_segments_cut_mid_frame_keep_their_complete_frames) {
  temp_dir t;
  auto tone = t / "tone.wav";
  sh("sox -n -r 48000 -c 1 -b 16 '" + tone.string() + "' synth 6 sine 440");
  sh("gst-launch-1.0 -q filesrc location='" + tone.string() +
     "' ! wavparse ! audioconvert ! lamemp3enc bitrate=128 cbr=true ! filesink location='" + (t / "a.mp3").string() + "'");
  sh("gst-launch-1.0 -q filesrc location='" + tone.string() + "' ! wavparse ! audioconvert ! audioresample ! opusenc ! oggmux ! filesink location='" +
     (t / "a.opus").string() + "'");
  for (const char* name : {"a.mp3", "a.opus"}) {
    BOOST_TEST_CONTEXT(name) {
      auto dir = t / (std::string{"s-"} + name);
      fs::create_directories(dir);
      auto cut = dir / name;
      fs::copy_file(t / name, cut);
      // Cut at 60% and 17 bytes into a frame/page.
      fs::resize_file(cut, fs::file_size(cut) * 6 / 10 + 17);
      write_manifest(dir, "[]", std::string{"[{\"path\": \""} + name + "\", \"offsetMs\": 0}]");
      auto m = load_manifest(dir);
      BOOST_REQUIRE(m);
      BOOST_TEST(find_damage(*m).empty());  // the decoders handle a cut: no repair stage
      auto r = run({postroll_binary().string(), "process", dir.string(), "--data-dir", (dir / "db").string(), "--no-enrich"});
      BOOST_TEST(r.exit_code == 0, r.err);
      // ffmpeg's reading of the cut file is the reference for what is whole.
      int rate = 0;
      auto readable = double(decode_audio_with_ffmpeg(cut, rate).size()) / rate;
      auto merged = probe_duration(dir / "postroll" / "session.m4a");
      BOOST_TEST(readable > 3.0);
      BOOST_TEST(std::abs(merged - readable) < 0.1, merged << " s merged, " << readable << " s readable");
    }
  }
}

BOOST_AUTO_TEST_CASE(the_cli_repairs_a_crashed_session_and_bad_input_still_exits_2) {
  temp_dir t;
  auto file = t / "screen.mp4";
  auto recorded = record_and_kill(gst_recorder("x264enc tune=zerolatency ! h264parse config-interval=-1 ! mp4mux", file),
                                  file, 3.0);
  auto dir = t / "session";
  fs::create_directories(dir / "video");
  fs::rename(file, dir / "video" / "screen.mp4");
  tone_session(dir, "crashed", 3);  // writes its own manifest with the tone
  auto tone = load_manifest(dir);
  BOOST_REQUIRE(tone);
  write_manifest(dir, R"([{"path": "video/screen.mp4", "offsetMs": 0}])",
                 "[{\"path\": \"" + tone->audio[0].path + "\", \"offsetMs\": 0}]");
  auto r = run({postroll_binary().string(), "process", dir.string(), "--data-dir", (t / "db").string(), "--no-enrich",
                "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto job = json::parse(r.out);
  BOOST_TEST(job["stages"][0]["name"] == "media.repair");
  auto repairs = json::parse(job["stages"][0]["result"].dump())["repairs"];
  BOOST_REQUIRE_EQUAL(repairs.size(), 1u);
  BOOST_TEST(repairs[0]["file"] == "video/screen.mp4");
  BOOST_TEST(repairs[0]["secondsRecovered"].get<double>() > recorded - 0.5);
  auto out = fs::path{job["output"].get<std::string>()};
  BOOST_TEST(decodes_cleanly(out));
  BOOST_TEST(std::abs(probe_duration(out, "v:0") - recorded) < 0.6);
  // The original is untouched.
  BOOST_TEST((scan_mp4(dir / "video" / "screen.mp4").damage == mp4_damage::no_moov));

  // Garbage is still bad input: exit 2, the file named.
  auto bad = t / "bad";
  fs::create_directories(bad);
  write_file(bad / "screen.mp4", std::string(100000, 'x'));
  write_manifest(bad, R"([{"path": "screen.mp4", "offsetMs": 0}])", "[]");
  auto b = run({postroll_binary().string(), "process", bad.string(), "--data-dir", (t / "db2").string(), "--no-enrich"});
  BOOST_TEST(b.exit_code == 2);
  BOOST_TEST(b.err.find("screen.mp4") != std::string::npos, b.err);
}

BOOST_AUTO_TEST_CASE(an_empty_leftover_segment_becomes_silence_with_a_warning_naming_it) {
  temp_dir t;
  auto dir = t / "s";
  fs::create_directories(dir / "audio");
  sh("sox -n -r 16000 -c 1 -b 16 '" + (dir / "audio/a.wav").string() + "' synth 2 sine 440");
  write_file(dir / "audio" / "b.wav", "");  // opened by the recorder, never written: it was killed
  sh("sox -n -r 16000 -c 1 -b 16 '" + (dir / "audio/c.wav").string() + "' synth 2 sine 660");
  write_manifest(dir, "[]", R"([{"path": "audio/a.wav", "offsetMs": 0}, {"path": "audio/b.wav", "offsetMs": 2500},
                               {"path": "audio/c.wav", "offsetMs": 5000}])");
  auto r = run({postroll_binary().string(), "process", dir.string(), "--data-dir", (t / "db").string(), "--no-enrich"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.err.find("audio/b.wav: nothing recoverable") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("silence for about 2.5 s") != std::string::npos, r.err);
  // The timeline keeps its length: c still starts at 5 s.
  auto out = dir / "postroll" / "session.m4a";
  BOOST_TEST(std::abs(probe_duration(out) - 7.0) < 0.1);
  int rate = 0;
  auto pcm = decode_audio_with_ffmpeg(out, rate);
  auto loudness = [&](double from_s, double to_s) {
    double sum = 0;
    std::size_t n = 0;
    for (auto i = std::size_t(from_s * rate); i < std::min(pcm.size(), std::size_t(to_s * rate)); ++i, ++n)
      sum += std::abs(double(pcm[i]));
    return n ? sum / double(n) / 32768.0 : 0.0;
  };
  BOOST_TEST(loudness(0.2, 1.8) > 0.1);   // a
  BOOST_TEST(loudness(2.2, 4.8) < 0.001); // where b was meant to play: silence
  BOOST_TEST(loudness(5.2, 6.8) > 0.1);   // c, still at 5 s
}
