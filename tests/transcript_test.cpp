// The transcript against a plain libpocketsphinx run on the same audio, on
// speech made hard the way real sessions are: several voices (festival's
// HTS voice and espeak-ng's), a noise floor, 16 kHz MP3 segments with
// gaps, a sentence cut across two segments, slides whose words are spoken.
// Recall is measured as the share of the script's words heard (each heard
// word counted once); the numbers go to the log and docs/enrichment.md.
#define BOOST_TEST_MODULE transcript
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include <pocketsphinx.h>

#include "enrichment/enrich_stages.hpp"
#include "postroll/runtime.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

struct line {
  std::string text;
  std::string voice;  // "hts" or an espeak-ng voice
  slide page;         // on screen while it is said
};

const std::vector<line> script = {
  {"Today we look at the build pipeline and why it takes so long on every commit.", "hts",
   {"Build pipeline", "Why every commit takes so long"}},
  {"There is a progress bar on every job so the user can see how far the work has gone.", "en-us",
   {"Progress bar on every job", "The user sees how far the work has gone"}},
  {"The next question is who owns the storage migration before the release.", "hts",
   {"Storage migration", "Who owns it before the release?"}},
  {"Here we open the queue actor and look at how a job is persisted.", "en-gb+f3",
   {"Queue actor", "How a job is persisted"}},
  {"The group writer batches every change into a single write.", "hts",
   {"Group writer", "Batches every change into a single write"}},
  {"Now I switch to the slides to explain the architecture of the media pipeline.", "en-us+m3",
   {"Media pipeline architecture", "Slides"}},
  {"Let me scroll down to the section about recovery after a crash of the node.", "hts",
   {"Recovery after a crash", "Section about the node"}},
  {"We should measure this against the previous version before we change the presets.", "en-gb",
   {"Measure before changing presets", "Against the previous version"}},
};
constexpr int page_ms = 12000;  // longer than a chapter must be (enrich.min_chapter_ms)
constexpr std::size_t split_line = 4;  // said across two segments, no gap at the join

double recall(const std::vector<std::string>& reference, const std::vector<std::string>& heard) {
  return word_recall(reference, heard);
}

std::vector<std::string> all_words() {
  std::vector<std::string> out;
  for (const auto& l : script)
    for (auto& w : words_of(l.text))
      out.push_back(w);
  return out;
}

// The spoken words that are also on the page shown meanwhile (3+ letters).
std::vector<std::string> on_screen_words() {
  std::vector<std::string> out;
  for (const auto& l : script) {
    auto page = words_of(l.page.title + " " + l.page.body);
    std::set<std::string> shown(page.begin(), page.end());
    for (auto& w : words_of(l.text))
      if (w.size() >= 3 && shown.count(w))
        out.push_back(w);
  }
  return out;
}

std::string shq(const fs::path& p) { return "'" + p.string() + "'"; }

struct session_media {
  temp_dir tmp;
  fs::path dir = tmp / "narrated";
  fs::path reference_wav = tmp / "timeline-16k.wav";  // mixed by ffmpeg, for the plain run

  session_media() {
    fs::create_directories(dir / "audio");
    fs::create_directories(dir / "video");
    std::vector<slide> pages;
    for (const auto& l : script)
      pages.push_back(l.page);
    make_slides_video(dir / "video/screen.mp4", pages, page_ms);
    json audio = json::array();
    std::string inputs, filter;
    int n = 0;
    auto add = [&](const fs::path& mp3, std::int64_t offset) {
      auto rel = fs::relative(mp3, dir).string();
      audio.push_back({{"path", rel}, {"offsetMs", offset}});
      inputs += " -i " + shq(mp3);
      filter += "[" + std::to_string(n) + "]adelay=" + std::to_string(offset) + "[a" + std::to_string(n) + "];";
      ++n;
    };
    for (std::size_t i = 0; i < script.size(); ++i) {
      auto raw = tmp / ("raw-" + std::to_string(i) + ".wav");
      const auto& l = script[i];
      if (l.voice == "hts")
        make_speech(l.text, raw, "hts");
      else
        sh("espeak-ng -v " + l.voice + " -s 160 -w " + shq(raw) + " '" + l.text + "'");
      // A faint noise floor under the voice, as a laptop microphone has.
      // (sox -R: repeatable noise and dither, so every run hears the same audio.)
      auto clean = tmp / "clean.wav", noise = tmp / "noise.wav", mixed = tmp / "mixed.wav";
      sh("sox -R " + shq(raw) + " -r 16000 -c 1 " + shq(clean));
      sh("sox -R -n -r 16000 -c 1 " + shq(noise) + " synth $(soxi -D " + shq(clean) + ") pinknoise vol 0.01");
      sh("sox -R -m " + shq(clean) + " " + shq(noise) + " " + shq(mixed));
      std::int64_t offset = std::int64_t(i) * page_ms + 800;
      auto seg = [&](const std::string& name) { return dir / "audio" / name; };
      if (i == split_line) {
        // Cut mid-sentence into two files that follow each other exactly.
        double cut = probe_duration(mixed) / 2;
        auto a = seg("seg-" + std::to_string(i) + "a.mp3"), b = seg("seg-" + std::to_string(i) + "b.mp3");
        sh("sox -R " + shq(mixed) + " " + shq(tmp / "part-a.wav") + " trim 0 " + std::to_string(cut));
        sh("sox -R " + shq(mixed) + " " + shq(tmp / "part-b.wav") + " trim " + std::to_string(cut));
        // WAV pieces: MP3 would add its own padding at the join.
        fs::copy_file(tmp / "part-a.wav", a.replace_extension(".wav"));
        fs::copy_file(tmp / "part-b.wav", b.replace_extension(".wav"));
        add(a, offset);
        add(b, offset + std::int64_t(cut * 1000));
      } else {
        auto mp3 = seg("seg-" + std::to_string(i) + ".mp3");
        sh("ffmpeg -loglevel error -y -i " + shq(mixed) + " -ar 16000 -ac 1 -c:a libmp3lame -b:a 32k " + shq(mp3));
        add(mp3, offset);
      }
    }
    std::string labels;
    for (int k = 0; k < n; ++k)
      labels += "[a" + std::to_string(k) + "]";
    sh("ffmpeg -loglevel error -y" + inputs + " -filter_complex '" + filter + labels + "amix=inputs=" +
       std::to_string(n) + ":normalize=0[o]' -map '[o]' -ac 1 -ar 16000 -c:a pcm_s16le " + shq(reference_wav));
    write_file(dir / "session.json", json{{"schema", 1},
                                          {"id", "narrated-hard"},
                                          {"name", "Release planning"},
                                          {"video", {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}},
                                          {"audio", audio}}
                                       .dump());
  }
};

session_media& media() {
  static session_media m;
  return m;
}

// libpocketsphinx as a 30-line script uses it: defaults, 4096-sample reads,
// one utterance, the words from ps_seg_iter.
std::vector<std::string> plain_pocketsphinx(const fs::path& wav) {
  const std::string model = "/usr/share/pocketsphinx/model/en-us";
  cmd_ln_t* config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", (model + "/en-us").c_str(), "-lm",
                                 (model + "/en-us.lm.bin").c_str(), "-dict", (model + "/cmudict-en-us.dict").c_str(),
                                 "-logfn", "/dev/null", nullptr);
  BOOST_REQUIRE(config);
  ps_decoder_t* ps = ps_init(config);
  BOOST_REQUIRE(ps);
  std::ifstream in(wav, std::ios::binary);
  in.seekg(44);
  std::vector<std::int16_t> buf(4096);
  ps_start_utt(ps);
  while (in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(buf.size() * 2)) || in.gcount() > 0)
    ps_process_raw(ps, buf.data(), std::size_t(in.gcount() / 2), FALSE, FALSE);
  ps_end_utt(ps);
  std::vector<std::string> out;
  for (ps_seg_t* s = ps_seg_iter(ps); s; s = ps_seg_next(s)) {
    std::string w = ps_seg_word(s);
    if (w.empty() || w[0] == '<' || w[0] == '[' || w[0] == '+')
      continue;
    out.push_back(w.substr(0, w.find('(')));
  }
  ps_free(ps);
  cmd_ln_free_r(config);
  return out;
}

json read_transcript(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

std::vector<std::string> transcript_words(const fs::path& file) {
  std::vector<std::string> out;
  auto t = read_transcript(file);  // held: a temporary's member would dangle in the loop
  for (const auto& w : t["words"])
    out.push_back(w["word"].get<std::string>());
  return out;
}

// "word@start-end" (ms): what the decoder count must not change.
std::vector<std::string> timed_words(const fs::path& file) {
  std::vector<std::string> out;
  auto t = read_transcript(file);
  for (const auto& w : t["words"])
    out.push_back(w["word"].get<std::string>() + "@" + std::to_string(w["startMs"].get<std::int64_t>()) + "-" +
                  std::to_string(w["endMs"].get<std::int64_t>()));
  return out;
}

fs::path transcript_file() { return media().dir / "postroll/enrichment/transcript.json"; }

// The default path, as a user runs it: compress and enrichment on.
void process_once() {
  static bool done = false;
  if (done)
    return;
  config cfg;
  cfg.data_dir = (media().tmp / "db").string();
  cfg.desktop_notifications = false;
  cfg.log_level = "warn";
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  auto job = (*rt)->submit(media().dir.string());
  BOOST_REQUIRE(job);
  auto rec = (*rt)->wait(job->id, 300s);
  BOOST_REQUIRE(rec);
  BOOST_REQUIRE_MESSAGE(rec->state == job_state::completed, rec->error);
  done = true;
}

// enrich.audio_review again with other options (the media stages ran).
// The transcript goes first: the decoder count is not in the cache key (it
// must not change the result), so a cached transcript would be reused.
std::vector<std::string> review_with(double screen_vocabulary, int threads) {
  fs::remove(transcript_file());
  enrich_options o;
  o.screen_vocabulary = screen_vocabulary;
  o.audio.asr_threads = threads;
  cancel_token never;
  auto r = run_enrich_stage(stage_audio_review, media().dir, o, never, {});
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  return transcript_words(transcript_file());
}

}  // namespace

BOOST_AUTO_TEST_CASE(postroll_hears_at_least_what_plain_pocketsphinx_hears) {
  process_once();
  auto reference = all_words();
  double plain = recall(reference, plain_pocketsphinx(media().reference_wav));
  auto heard = transcript_words(transcript_file());
  double ours = recall(reference, heard);
  BOOST_TEST_MESSAGE("recall: postroll " << ours << ", plain libpocketsphinx " << plain << " (" << reference.size()
                                         << " words)");
  // Same engine and model: postroll's own path (segments decoded, pieces
  // cut at silences, the balanced search) must not lose what it hears.
  BOOST_TEST(ours >= plain - 0.03);
  BOOST_TEST(ours > 0.5);
}

BOOST_AUTO_TEST_CASE(the_screen_words_are_heard_more_often) {
  process_once();
  // POSTROLL_SWEEP_WEIGHTS=1: the chapters read and the recall at several weights (docs/enrichment.md).
  if (std::getenv("POSTROLL_SWEEP_WEIGHTS")) {
    std::ifstream ch(media().dir / "postroll/enrichment/chapters.json");
    auto cj = json::parse(ch);
    for (const auto& c : cj["chapters"])
      BOOST_TEST_MESSAGE(c["startMs"] << " " << c["screenText"] << " | " << c["title"]);
    for (double w : {0.0, 0.1, 0.2, 0.3, 0.5}) {
      auto h = review_with(w, 0);
      BOOST_TEST_MESSAGE("w " << w << " shown " << recall(on_screen_words(), h) << " all " << recall(all_words(), h));
    }
  }
  auto off = review_with(0, 0);
  auto off_timed = read_transcript(transcript_file());
  auto on = review_with(0.1, 0);
  auto on_timed = read_transcript(transcript_file());
  // Per voice: each line's words against what was heard during its page.
  for (const std::string voice : {"hts", "en-us", "en-us+m3", "en-gb", "en-gb+f3"}) {
    std::vector<std::string> said, shown_said;
    auto heard = [&](const json& t) {
      std::vector<std::string> out;
      for (const auto& w : t["words"]) {
        auto page = std::size_t(w["startMs"].get<std::int64_t>() / page_ms);
        if (page < script.size() && script[page].voice == voice)
          out.push_back(w["word"].get<std::string>());
      }
      return out;
    };
    for (const auto& l : script)
      if (l.voice == voice) {
        auto page = words_of(l.page.title + " " + l.page.body);
        for (auto& w : words_of(l.text)) {
          if (w.size() >= 3 && std::find(page.begin(), page.end(), w) != page.end())
            shown_said.push_back(w);
          said.push_back(w);
        }
      }
    auto h_off = heard(off_timed), h_on = heard(on_timed);
    BOOST_TEST_MESSAGE("voice " << voice << ": all " << recall(said, h_off) << " -> " << recall(said, h_on)
                                << ", on screen " << recall(shown_said, h_off) << " -> " << recall(shown_said, h_on)
                                << " (" << said.size() << " words, " << shown_said.size() << " on screen)");
  }
  auto shown = on_screen_words(), all = all_words();
  double shown_off = recall(shown, off), shown_on = recall(shown, on);
  double all_off = recall(all, off), all_on = recall(all, on);
  BOOST_TEST_MESSAGE("on-screen words (" << shown.size() << "): recall " << shown_off << " without the screen "
                                         << "vocabulary, " << shown_on << " with it; all words " << all_off << " -> "
                                         << all_on);
  BOOST_TEST(shown_on >= shown_off + 0.15);  // the goal of #21; measured +0.23
  BOOST_TEST(all_on >= all_off - 0.01);
}

BOOST_AUTO_TEST_CASE(the_transcript_does_not_depend_on_the_number_of_decoders) {
  process_once();
  review_with(0.1, 1);
  auto one = timed_words(transcript_file());
  review_with(0.1, 3);
  auto three = timed_words(transcript_file());
  // Same words at the same times: a decoder's earlier pieces leave nothing
  // behind (each piece is a stream of its own).
  BOOST_TEST(one == three, boost::test_tools::per_element());
  BOOST_TEST(!one.empty());
  // Every word lies where the (independent) speech detector heard speech.
  auto t = read_transcript(transcript_file());
  for (const auto& w : t["words"]) {
    auto from = w["startMs"].get<std::int64_t>(), to = w["endMs"].get<std::int64_t>();
    bool inside = false;
    for (const auto& s : t["speech"])
      inside |= from >= s["startMs"].get<std::int64_t>() - 500 && to <= s["endMs"].get<std::int64_t>() + 500;
    BOOST_TEST(inside, "\"" << w["word"] << "\" at " << from << "-" << to << " ms is outside every stretch of speech");
  }
}
