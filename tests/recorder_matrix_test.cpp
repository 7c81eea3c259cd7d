// Sessions made the way real recorders make them (tests/media/
// make-recorder-session.sh: ffmpeg's libx264 with B-frames, sparse variable
// frame rate, HEVC in .mov, an empty edit with a manifest offset, 4:4:4 at an
// odd size, 59.94 fps, a SIGKILLed recorder, several files with gaps and a
// size change, mixed sample rates; and Chromium's MediaRecorder: VP8/VP9 WebM
// with Opus WebM segments), each finalized by `postroll process` with the
// default settings (compress and enrichment on). Asserted on the final file
// with ffmpeg as the independent decoder: the job completes, every flash and
// beep of the inputs is there, their A/V offset is the inputs' own within
// 2 ms, flashes sit where the inputs show them, the video starts where the
// first file's first frame is, the file lasts as long as the session, and
// the compressed file was swapped in where it is smaller (or the merge
// encoded it once). Each case's time and size against ffmpeg veryfast
// crf 23 on the same input go to test-artifacts/recorder-matrix.jsonl.
#define BOOST_TEST_MODULE recorder_matrix
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "support/browser.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

// Onsets of white flashes (ms): frames whose mean luma jumps above 120
// (the page is dark; a letterboxed flash still clears it).
std::vector<double> flashes(const fs::path& file) {
  // -copyts: the file's own presentation times (an empty edit included),
  // not times shifted to start at 0.
  auto out = sh("ffmpeg -v error -copyts -i '" + file.string() +
                "' -map 0:v:0 -vf signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=- -f null -");
  std::vector<double> times;
  double t = -1;
  bool bright = false;
  std::istringstream in{out};
  for (std::string line; std::getline(in, line);) {
    if (auto p = line.find("pts_time:"); p != std::string::npos)
      t = std::stod(line.substr(p + 9)) * 1000.0;
    if (auto p = line.find("YAVG="); p != std::string::npos) {
      bool now = std::stod(line.substr(p + 5)) > 120;
      if (now && !bright)
        times.push_back(t);
      bright = now;
    }
  }
  return times;
}

std::vector<double> beeps_in(const fs::path& file) {
  int rate = 0;
  auto pcm = decode_audio_with_ffmpeg(file, rate);
  return rate > 0 ? find_beeps(pcm, rate, 0.15) : std::vector<double>{};
}

double stream_start_ms(const fs::path& file, const std::string& stream) {
  auto r = run({"ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "stream=start_time", "-of",
                "csv=p=0", file.string()});
  return std::atof(r.out.c_str()) * 1000.0;
}

double frame_rate(const fs::path& file) {
  auto r = run({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=r_frame_rate", "-of",
                "csv=p=0", file.string()});
  auto slash = r.out.find('/');
  double num = std::atof(r.out.c_str()), den = slash == std::string::npos ? 1 : std::atof(r.out.c_str() + slash + 1);
  return den > 0 && num > 0 ? num / den : 30.0;
}

struct entry {
  fs::path path;
  double offset_ms = 0;
};

std::vector<entry> entries(const fs::path& dir, const char* kind) {
  std::vector<entry> out;
  auto doc = json::parse(read_file(dir / "session.json"));
  for (const auto& e : doc.value(kind, json::array()))
    out.push_back({dir / e["path"].get<std::string>(), e.value("offsetMs", 0.0)});
  return out;
}

// The marks as the inputs hold them on the session timeline: each file's
// flashes and beeps plus its offset. A crashed recording cannot be read
// before repair: its marks are those of what the recorder was shown
// (crash-source.mp4 beside the session), up to `until_ms`.
std::pair<std::vector<double>, std::vector<double>> input_marks(const fs::path& dir, double until_ms = 1e12) {
  std::vector<double> fl, be;
  auto crash_source = dir.parent_path() / "crash-source.mp4";
  for (const auto& v : entries(dir, "video"))
    for (double t : flashes(fs::exists(crash_source) ? crash_source : v.path))
      if (t + v.offset_ms < until_ms)
        fl.push_back(t + v.offset_ms);
  for (const auto& a : entries(dir, "audio"))
    for (double t : beeps_in(a.path))
      if (t + a.offset_ms < until_ms)
        be.push_back(t + a.offset_ms);
  std::sort(fl.begin(), fl.end());
  std::sort(be.begin(), be.end());
  return {fl, be};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Finalizes `dir` with the defaults and checks the result; appends the
// case's figures to the matrix report.
void finalize_and_check(const std::string& name, const fs::path& dir, const fs::path& tmp) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = run({"timeout", "600", postroll_binary().string(), "process", dir.string(), "--data-dir",
                (tmp / "db").string(), "--json"});
  double took = seconds_since(t0);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, name << ": exit " << r.exit_code << ": " << r.err);
  auto job = json::parse(r.out);
  BOOST_REQUIRE_EQUAL(job["state"], "completed");
  json merge, compress;
  for (const auto& s : job["stages"]) {
    if (s["name"] == "media.merge")
      merge = s["result"];
    if (s["name"] == "media.compress")
      compress = s["result"];
  }
  auto out = fs::path{job["output"].get<std::string>()};
  auto decode = decode_errors(out);
  BOOST_TEST(decode.empty(), name << ": the final file does not decode cleanly: " << decode);
  // A crashed recording holds what it recorded before the kill (media.repair says how much).
  double recorded_ms = 1e12;
  for (const auto& s : job["stages"])
    if (s["name"] == "media.repair")
      recorded_ms = s["result"]["repairs"][0].value("secondsRecovered", 0.0) * 1000.0;
  auto [in_flashes, in_beeps] = input_marks(dir, recorded_ms);
  BOOST_TEST_MESSAGE(name << ": input flashes " << json(in_flashes).dump() << ", beeps " << json(in_beeps).dump());
  BOOST_REQUIRE_MESSAGE(!in_flashes.empty(), "the test media has no flashes");
  BOOST_REQUIRE_EQUAL(in_flashes.size(), in_beeps.size());
  bool encoded_by_merge = compress.value("compressedByMerge", false);
  bool replaced = compress.value("replaced", false);
  BOOST_TEST((replaced || encoded_by_merge),
             name << ": not compressed (" << compress.value("reason", std::string{}) << ")");

  auto out_flashes = flashes(out);
  int rate = 0;
  auto pcm = decode_audio_with_ffmpeg(out, rate);
  auto out_beeps = find_beeps(pcm, rate, 0.15);
  out_beeps.erase(std::remove_if(out_beeps.begin(), out_beeps.end(), [&](double t) { return t >= recorded_ms; }),
                  out_beeps.end());
  BOOST_TEST_MESSAGE(name << ": final flashes " << json(out_flashes).dump() << ", beeps " << json(out_beeps).dump());
  BOOST_REQUIRE_EQUAL(out_flashes.size(), in_flashes.size());
  BOOST_REQUIRE_EQUAL(out_beeps.size(), in_beeps.size());
  double worst = 0;
  for (std::size_t i = 0; i < in_flashes.size(); ++i) {
    auto drift = (out_flashes[i] - out_beeps[i]) - (in_flashes[i] - in_beeps[i]);
    worst = std::max(worst, std::abs(drift));
    BOOST_TEST_CONTEXT(name << " mark " << i << ": flash " << out_flashes[i] << " (input " << in_flashes[i] << "), beep "
                            << out_beeps[i] << " (input " << in_beeps[i] << ")") {
      BOOST_TEST(std::abs(drift) <= 2.0, "A/V offset changed by " << drift << " ms");
      BOOST_TEST(std::abs(out_flashes[i] - in_flashes[i]) <= 1.0, "the flash moved");
    }
  }
  // The first frame where the first file shows it; the file as long as the session.
  auto videos = entries(dir, "video");
  bool crashed = recorded_ms < 1e12;  // ffprobe cannot read the original: no start or end to compare
  double one_frame = 1000.0 / (crashed ? 30.0 : frame_rate(videos.front().path));
  auto first = crashed ? 0.0 : stream_start_ms(videos.front().path, "v:0") + videos.front().offset_ms;
  BOOST_TEST(std::abs(stream_start_ms(out, "v:0") - first) <= one_frame, name << ": the video starts elsewhere");
  double session_end = 0;
  for (const auto& v : videos)
    if (!crashed)
      session_end = std::max(session_end, v.offset_ms + stream_start_ms(v.path, "v:0") + probe_duration(v.path) * 1000.0);
  for (const auto& a : entries(dir, "audio"))
    session_end = std::max(session_end, a.offset_ms + probe_duration(a.path) * 1000.0);
  auto video_end = stream_start_ms(out, "v:0") + probe_duration(out, "v:0") * 1000.0;
  BOOST_TEST(video_end >= session_end - one_frame, name << ": the video ends early (" << video_end << " ms of " << session_end << ")");
  BOOST_TEST(stream_start_ms(out, "a:0") + probe_duration(out, "a:0") * 1000.0 >= video_end - one_frame,
             name << ": the audio ends before the video");

  // The peer: ffmpeg's libx264 veryfast crf 23 on the same video files.
  double peer_s = 0;
  std::int64_t peer_bytes = 0;
  for (std::size_t i = 0; i < videos.size(); ++i) {
    auto ref = tmp / ("peer-" + std::to_string(i) + ".mp4");
    auto p0 = std::chrono::steady_clock::now();
    auto src = crashed ? dir.parent_path() / "crash-source.mp4" : videos[i].path;
    // Even sizes for 4:2:0, as postroll pads them.
    sh("ffmpeg -v error -y -i '" + src.string() + "' -an -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' -c:v libx264 -preset veryfast "
       "-crf 23 -pix_fmt yuv420p '" + ref.string() + "'");
    peer_s += seconds_since(p0);
    peer_bytes += std::int64_t(fs::file_size(ref));
  }
  auto video_only = tmp / "final-video.mp4";
  sh("ffmpeg -v error -y -i '" + out.string() + "' -map 0:v:0 -c copy '" + video_only.string() + "'");
  auto ours = std::int64_t(fs::file_size(video_only));
  json figures = {{"case", name},
                  {"postrollSeconds", took},
                  {"ffmpegVeryfastSeconds", peer_s},
                  {"videoBytes", ours},
                  {"ffmpegVeryfastBytes", peer_bytes},
                  {"sizeRatio", double(ours) / double(std::max<std::int64_t>(1, peer_bytes))},
                  {"worstSyncChangeMs", worst},
                  {"compressed", replaced},
                  {"encodedByMerge", encoded_by_merge},
                  {"mergeRemuxed", merge.value("videoRemuxed", false)},
                  {"encodeReason", merge.value("encodeReason", std::string{})}};
  BOOST_TEST_MESSAGE(figures.dump());
  std::ofstream(artifact_dir() / "recorder-matrix.jsonl", std::ios::app) << figures.dump() << "\n";
}

const char* kinds[] = {"bframes-2-15", "bframes-3-30", "vfr-h264", "vfr-hevc", "edit-offset", "yuv444-odd",
                       "fps-5994",     "crashed",      "two-files", "three-files", "mixed-rates"};

std::string base64_decode(const std::string& in) {
  std::string out(in.size() * 3 / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          int(in.size()));
  std::size_t pad = in.size() >= 2 && in[in.size() - 1] == '=' ? (in[in.size() - 2] == '=' ? 2 : 1) : 0;
  out.resize(n > 0 ? std::size_t(n) - pad : 0);
  return out;
}

// A session recorded by Chromium: the canvas by MediaRecorder as `mime`,
// the audio in two Opus WebM segments by one MediaRecorder each, flashes
// and beeps at the same times on the page's clock.
fs::path browser_session(const fs::path& dir, const std::string& mime, const std::string& id) {
  fs::create_directories(dir / "video");
  fs::create_directories(dir / "audio");
  child_process server{{"python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                        (source_dir() / "tests/media").string(), "0"}};
  auto line = server.wait_for_line([](const std::string& l) { return l.find("Serving HTTP") != std::string::npos; }, 20s);
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(std::regex_search(line, m, std::regex{"port (\\d+)"}), server.transcript());
  browser b;
  b.go("http://127.0.0.1:" + m[1].str() + "/record.html");
  auto rec = b.run_async("const done = arguments[arguments.length - 1];"
                         "record(arguments[0], 8, [1, 2.4, 4, 5.6, 7], [[0, 3.5], [3.8, 8]])"
                         ".then(done, (e) => done({error: String(e)}));",
                         {mime});
  BOOST_REQUIRE_MESSAGE(!rec.contains("error"), rec.dump());
  write_file(dir / "video/screen.webm", base64_decode(rec["video"].get<std::string>()));
  json audio = json::array();
  for (std::size_t i = 0; i < rec["segments"].size(); ++i) {
    auto name = "seg-" + std::to_string(i) + ".webm";
    write_file(dir / "audio" / name, base64_decode(rec["segments"][i]["data"].get<std::string>()));
    audio.push_back({{"path", "audio/" + name}, {"offsetMs", rec["segments"][i]["offsetMs"]}});
  }
  write_file(dir / "session.json", json{{"schema", 1}, {"id", id},
                                        {"video", {{{"path", "video/screen.webm"}, {"offsetMs", 0}}}},
                                        {"audio", audio}}
                                       .dump());
  return dir;
}

}  // namespace

BOOST_DATA_TEST_CASE(a_recorder_shaped_session_completes_in_sync_and_compressed, boost::unit_test::data::make(kinds), kind) {
  temp_dir t;
  auto dir = t / "session";
  sh("bash '" + (source_dir() / "tests/media/make-recorder-session.sh").string() + "' " + kind + " '" + dir.string() + "'");
  finalize_and_check(kind, dir, t.path());
}

BOOST_AUTO_TEST_CASE(chromium_mediarecorder_vp8_with_opus_segments) {
  temp_dir t;
  finalize_and_check("mediarecorder-vp8", browser_session(t / "session", "video/webm;codecs=vp8", "chromium-vp8"), t.path());
}

BOOST_AUTO_TEST_CASE(chromium_mediarecorder_vp9_with_opus_segments) {
  temp_dir t;
  finalize_and_check("mediarecorder-vp9", browser_session(t / "session", "video/webm;codecs=vp9", "chromium-vp9"), t.path());
}
