// Enrichment end to end and piece by piece: real speech (festival's HTS
// voice and espeak-ng) through pocketsphinx, real slide videos through the
// scene detector and Tesseract, the summary, the storyboard, external
// enrichers as real processes, the cache, notifications to a real local
// HTTP server, and the stage graph in the queue.
#define BOOST_TEST_MODULE enrichment
#include <boost/test/unit_test.hpp>

#include <cctype>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "enrichment/audio_review.hpp"
#include "enrichment/chapters.hpp"
#include "enrichment/enrich_stages.hpp"
#include "net/external_command.hpp"
#include "enrichment/scene_detector.hpp"
#include "enrichment/screen_text.hpp"
#include "enrichment/summary.hpp"
#include "pipelines/media_probe.hpp"
#include "pipelines/stages.hpp"
#include "postroll/runtime.hpp"
#include "support/event_log.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

json read_json(const fs::path& p) { return json::parse(read_file(p)); }

// Recall, what a reader of the transcript cares about.
double recall(const std::string& reference, const std::string& hypothesis) {
  return word_recall(words_of(reference), words_of(hypothesis));
}

const std::vector<std::string> narration = {
  "Good morning. Today we plan the release of the new mobile application.",
  "The first topic is the build server. It is too slow and we want to make it faster.",
  "Next we look at the user interface. The colors on the settings page are hard to read.",
  "Finally we talk about the budget for the next quarter and the travel plans.",
};

const std::vector<slide> slides = {
  {"Release Planning", "Agenda for the team meeting&#10;- build server&#10;- user interface"},
  {"Build Server Performance", "Average build takes twelve minutes&#10;Goal: under five minutes"},
  {"Settings Page Design", "Contrast of the colors is too low&#10;Fix before the release", "0xff1e1e2e", "0xfff0f0f0"},
  {"Quarterly Budget", "Travel plans and hardware&#10;Numbers due next week"},
};
constexpr int slide_ms = 6000;

// A narrated slide session: the four slides above (6 s each), one speech
// segment (HTS voice) per slide starting 0.5 s into it, as 16 kHz WAVs.
fs::path narrated_session(const fs::path& dir, const std::string& id) {
  fs::create_directories(dir / "video");
  fs::create_directories(dir / "audio");
  make_slides_video(dir / "video/screen.mp4", slides, slide_ms);
  json audio = json::array();
  for (std::size_t i = 0; i < narration.size(); ++i) {
    auto raw = dir / ("raw-" + std::to_string(i) + ".wav");
    make_speech(narration[i], raw, "hts");
    auto seg = "audio/seg-" + std::to_string(i) + ".wav";
    sh("sox '" + raw.string() + "' -r 16000 -c 1 '" + (dir / seg).string() + "'");
    fs::remove(raw);
    audio.push_back({{"path", seg}, {"offsetMs", int(i) * slide_ms + 500}});
  }
  write_file(dir / "session.json", json{{"schema", 1},
                                        {"id", id},
                                        {"name", "Release planning"},
                                        {"video", {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}},
                                        {"audio", audio}}
                                     .dump());
  return dir;
}

config enrich_config(const fs::path& data) {
  config cfg;
  cfg.data_dir = data.string();
  cfg.compress = false;  // enrichment is the subject; compression has its own tests
  cfg.min_chapter_ms = 2000;
  cfg.retry_base_ms = 100;
  cfg.desktop_notifications = false;
  cfg.log_level = "warn";
  return cfg;
}

// Runs one session through a fresh embedded runtime: its final record,
// which must be completed.
job_record process_to_completion(const config& cfg, const fs::path& dir) {
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  auto job = (*rt)->submit(dir.string());
  BOOST_REQUIRE(job);
  auto done = (*rt)->wait(job->id, 240s);
  BOOST_REQUIRE(done);
  BOOST_REQUIRE_MESSAGE(done->state == job_state::completed, done->error);
  return *done;
}

const stage_record* stage_of(const job_record& j, const std::string& name) {
  for (auto& s : j.stages)
    if (s.name == name)
      return &s;
  return nullptr;
}

json result_of(const job_record& j, const std::string& name) {
  auto* s = stage_of(j, name);
  return s && !s->result.empty() ? json::parse(s->result) : json{};
}

// A luma picture held in memory.
// 540 rows: three per thumbnail row, so scrolls by 1-2 px are sub-row.
struct picture {
  int w = 320, h = 540;
  std::vector<std::uint8_t> px = std::vector<std::uint8_t>(std::size_t(320) * 540, 245);
  luma_view view() const { return {px.data(), w, w, h}; }
  void rect(int x, int y, int rw, int rh, std::uint8_t v) {
    for (int j = std::max(0, y); j < std::min(h, y + rh); ++j)
      for (int i = std::max(0, x); i < std::min(w, x + rw); ++i)
        px[std::size_t(j) * w + i] = v;
  }
};

// A text-like page: dark "lines of words" on light paper, from a seed.
picture page(unsigned seed, int scroll = 0) {
  picture p;
  std::srand(seed);
  for (int line = 0; line < 60; ++line) {
    int y = 10 + line * 12 - scroll;
    int x = 10;
    while (x < 300) {
      int word = 8 + std::rand() % 30;
      p.rect(x, y, word, 6, 30);
      x += word + 6;
    }
  }
  return p;
}

}  // namespace

// -- scene detection -------------------------------------------------------

BOOST_AUTO_TEST_CASE(scene_detector_splits_on_page_switches_but_not_on_scrolling_or_a_cursor) {
  scene_options o;
  scene_detector d{o};
  change_score s;
  BOOST_TEST(!d.push(page(1).view()));
  // Scrolling the same page by 1..40 px per step: explained by a shift.
  for (int scroll = 1; scroll <= 120; scroll += 7) {
    BOOST_TEST(!d.push(page(1, scroll).view(), &s), "scroll " << scroll << " scored " << s.fraction);
  }
  // A blinking cursor and typing a word: too small to count.
  auto p = page(1, 113);
  p.rect(100, 100, 1, 8, 0);
  BOOST_TEST(!d.push(p.view(), &s));
  p.rect(120, 100, 20, 6, 30);
  BOOST_TEST(!d.push(p.view(), &s));
  // Another page of the same look: a switch.
  BOOST_TEST(d.push(page(2).view(), &s), "page switch scored " << s.fraction);
  // Dark theme page: a switch.
  auto dark = page(3);
  for (auto& v : dark.px)
    v = std::uint8_t(255 - v);
  BOOST_TEST(d.push(dark.view(), &s));
}

BOOST_AUTO_TEST_CASE(a_sparse_page_changing_its_background_tint_is_a_switch_but_noise_is_not) {
  // A slide with a title and one line, then another with a pale blue
  // background: too few text pixels change for the per-pixel rule.
  auto sparse = [](std::uint8_t paper, int title_width) {
    picture p;
    std::fill(p.px.begin(), p.px.end(), paper);
    p.rect(10, 10, title_width, 14, 30);
    p.rect(10, 260, 120, 6, 30);
    return p;
  };
  scene_detector d;
  change_score s;
  BOOST_TEST(!d.push(sparse(248, 150).view()));
  // Encoder noise: every pixel off by up to two levels, either way.
  auto noisy = sparse(248, 150);
  for (std::size_t i = 0; i < noisy.px.size(); ++i)
    noisy.px[i] = std::uint8_t(int(noisy.px[i]) + int(i * 7919 % 5) - 2);
  BOOST_TEST(!d.push(noisy.view(), &s), "noise scored " << s.fraction);
  BOOST_TEST(d.push(sparse(237, 110).view(), &s), "tint change scored " << s.fraction);
  // Same tint, only the title changed: not enough to count.
  BOOST_TEST(!d.push(sparse(237, 130).view(), &s), "title edit scored " << s.fraction);
}

// -- speech ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(transcript_recognises_most_words_with_times_on_the_timeline) {
  temp_dir t;
  // 3 s of silence, two sentences, 4 s of silence, two more (HTS voice), as
  // the session timeline would hold them.
  std::string all;
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < narration.size(); ++i) {
    auto w = t / ("n" + std::to_string(i) + ".wav");
    make_speech(narration[i], w, "hts");
    sh("sox '" + w.string() + "' -r 16000 -c 1 '" + (t / ("m" + std::to_string(i) + ".wav")).string() + "'");
    parts.push_back("'" + (t / ("m" + std::to_string(i) + ".wav")).string() + "'");
    all += narration[i] + " ";
  }
  sh("sox -n -r 16000 -c 1 '" + (t / "gap.wav").string() + "' trim 0 4");
  auto speech = t / "speech.wav";
  sh("sox " + parts[0] + " " + parts[1] + " '" + (t / "gap.wav").string() + "' " + parts[2] + " " + parts[3] + " '" +
     (t / "joined.wav").string() + "'");
  sh("sox '" + (t / "joined.wav").string() + "' '" + speech.string() + "' pad 3 1");
  auto first_part = probe_media(t / "m0.wav")->duration_ms + probe_media(t / "m1.wav")->duration_ms;
  auto second_start = 3000 + first_part + 4000;
  auto info = probe_media(speech);
  BOOST_REQUIRE(info);
  cancel_token never;
  double last_progress = 0;
  auto r = review_audio(speech, info->duration_ms, {}, never, [&](double f) { last_progress = f; });
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  auto text = (*r)["text"].get<std::string>();
  auto got = recall(all, text);
  BOOST_TEST_MESSAGE("HTS voice recall " << got << ": " << text);
  // Measured 0.84 here (media-notes: 0.88 on other sentences); 0.65 leaves
  // room for model/decoder variation while catching a broken pipeline.
  BOOST_TEST(got >= 0.65);
  BOOST_TEST(last_progress > 0.9);
  // Word times are on the audio's timeline: speech starts after 3 s.
  auto first = (*r)["words"].at(0)["startMs"].get<std::int64_t>();
  BOOST_TEST(first >= 2700);
  BOOST_TEST(first <= 3800);
  // Speech vs silence: the leading 3 s are silence; speech starts near 3 s.
  auto sp = (*r)["speech"].at(0)["startMs"].get<std::int64_t>();
  BOOST_TEST(std::abs(sp - 3000) <= 300);
  BOOST_TEST((*r)["silence"].at(0)["startMs"].get<std::int64_t>() == 0);
  // ... and so are the times of later utterances (after the 4 s pause).
  std::int64_t after_gap = -1;
  for (const auto& u : (*r)["utterances"])
    if (u["startMs"].get<std::int64_t>() > 3000 + first_part) {
      after_gap = u["startMs"].get<std::int64_t>();
      break;
    }
  BOOST_TEST(std::abs(after_gap - second_start) <= 600, "after the pause: " << after_gap << " expected " << second_start);
  BOOST_TEST((*r)["loudness"].size() == 1u);
  BOOST_TEST((*r)["loudness"][0]["speechShare"].get<double>() > 0.3);
}

BOOST_AUTO_TEST_CASE(espeak_speech_still_gives_a_transcript) {
  temp_dir t;
  std::string all;
  std::string inputs;
  for (std::size_t i = 0; i < narration.size(); ++i) {
    auto w = t / ("e" + std::to_string(i) + ".wav");
    make_speech(narration[i], w, "espeak");
    inputs += "'" + w.string() + "' ";
    all += narration[i] + " ";
  }
  sh("sox " + inputs + " -r 16000 -c 1 '" + (t / "e.wav").string() + "'");
  auto info = probe_media(t / "e.wav");
  BOOST_REQUIRE(info);
  cancel_token never;
  auto r = review_audio(t / "e.wav", info->duration_ms, {}, never, {});
  BOOST_REQUIRE(r);
  auto got = recall(all, (*r)["text"].get<std::string>());
  BOOST_TEST_MESSAGE("espeak-ng recall " << got);
  // espeak-ng's formant voice is far from the model's training speech:
  // measured 0.4-0.45 (media-notes.md); the floor says "a transcript, not noise".
  BOOST_TEST(got >= 0.25);
}

// -- chapters ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(slide_changes_become_chapters_with_their_titles) {
  temp_dir t;
  make_slides_video(t / "slides.mp4", slides, slide_ms);
  chapter_options o;
  o.min_chapter_ms = 2000;
  cancel_token never;
  auto r = video_chapters(frame_source{t / "slides.mp4"}, slide_ms * 4, t / "thumbs", o, never, {});
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  auto& ch = (*r)["chapters"];
  BOOST_REQUIRE_EQUAL(ch.size(), slides.size());
  for (std::size_t i = 0; i < slides.size(); ++i) {
    auto start = ch[i]["startMs"].get<std::int64_t>();
    BOOST_TEST(std::abs(start - std::int64_t(i) * slide_ms) <= 1000, "chapter " << i << " starts at " << start);
    auto title = ch[i]["title"].get<std::string>();
    BOOST_TEST_MESSAGE("chapter " << i << " title: " << title);
    BOOST_TEST(recall(slides[i].title, title) >= 0.99, "OCR title \"" << title << "\" for \"" << slides[i].title << "\"");
    BOOST_TEST(fs::file_size(t / ch[i]["thumbnail"].get<std::string>()) > 1000u);
  }
}

BOOST_AUTO_TEST_CASE(light_slides_that_differ_only_in_text_are_separate_chapters) {
  // The common talk: one template, white pages, only the words change.
  // Too few thumbnail pixels change for the whole-picture rule.
  const std::vector<slide> pages = {
    {"Build pipeline", "Why every commit takes so long"},
    {"Progress bar on every job", "The user sees how far the work has gone"},
    {"Storage migration", "Who owns it before the release?"},
    {"Queue actor", "How a job is persisted"},
  };
  temp_dir t;
  make_slides_video(t / "light.mp4", pages, 11000);
  cancel_token never;
  auto r = video_chapters(frame_source{t / "light.mp4"}, 44000, t / "thumbs", chapter_options{}, never, {});
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  auto& ch = (*r)["chapters"];
  for (const auto& c : ch)
    BOOST_TEST_MESSAGE("chapter at " << c["startMs"] << " score " << c["changeScore"] << ": " << c["title"]);
  BOOST_REQUIRE_EQUAL(ch.size(), pages.size());
  for (std::size_t i = 0; i < pages.size(); ++i) {
    BOOST_TEST(std::abs(ch[i]["startMs"].get<std::int64_t>() - std::int64_t(i) * 11000) <= 500);
    BOOST_TEST(recall(pages[i].title, ch[i]["title"].get<std::string>()) >= 0.99);
  }
}

BOOST_AUTO_TEST_CASE(a_blinking_cursor_is_one_chapter) {
  temp_dir t;
  make_cursor_blink_video(t / "blink.mp4", 12);
  chapter_options o;
  o.min_chapter_ms = 1000;
  cancel_token never;
  auto r = video_chapters(frame_source{t / "blink.mp4"}, 12000, t / "thumbs", o, never, {});
  BOOST_REQUIRE(r);
  BOOST_TEST((*r)["chapters"].size() == 1u);
  BOOST_TEST(recall("Meeting notes", (*r)["chapters"][0]["title"].get<std::string>()) >= 0.99);
}

BOOST_AUTO_TEST_CASE(screenshots_make_the_chapters_when_there_is_no_video) {
  temp_dir t;
  auto dir = t / "s";
  fs::create_directories(dir / "shots");
  fs::create_directories(dir / "audio");
  // Five screenshots: the first page twice (a recorder's periodic shot of
  // an unchanged screen), then three different pages.
  std::vector<std::pair<slide, int>> shots = {{slides[0], 1000}, {slides[0], 4000}, {slides[1], 12000},
                                              {slides[2], 20000}, {slides[3], 31000}};
  json list = json::array();
  for (std::size_t i = 0; i < shots.size(); ++i) {
    auto name = "shots/" + std::to_string(i) + ".png";
    make_slide_picture(dir / name, shots[i].first);
    list.push_back({{"path", name}, {"offsetMs", shots[i].second}});
  }
  sh("sox -n -r 16000 -c 1 '" + (dir / "audio/a.wav").string() + "' synth 40 sine 200 vol 0.1");
  write_file(dir / "session.json", json{{"schema", 1},
                                        {"id", "shots"},
                                        {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", 0}}}},
                                        {"screenshots", list}}
                                     .dump());
  process_to_completion(enrich_config(t / "db"), dir);
  auto chapters = read_json(dir / "postroll/enrichment/chapters.json");
  BOOST_TEST(chapters["source"] == "screenshots");
  BOOST_REQUIRE_EQUAL(chapters["chapters"].size(), 4u);  // the repeated first page is one chapter
  std::vector<std::int64_t> starts;
  for (const auto& c : chapters["chapters"])
    starts.push_back(c["startMs"].get<std::int64_t>());
  BOOST_TEST((starts == std::vector<std::int64_t>{0, 12000, 20000, 31000}));
  BOOST_TEST(recall(slides[2].title, chapters["chapters"][2]["title"].get<std::string>()) >= 0.99);
  BOOST_TEST(read_json(dir / "postroll/enrichment/canvas.json")["tiles"].get<int>() == 4);
}

// A page as a screenshot, the way Chromium draws it (fonts, anti-aliasing,
// sub-pixel sizes): tests/media/pages/NAME.html at 1280x720.
void render_page(const std::string& name, const fs::path& png, const fs::path& scratch) {
  sh("chromium --headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars "
     "--user-data-dir='" + (scratch / "chromium").string() + "' --window-size=1280,720 --screenshot='" +
     png.string() + "' 'file://" + (source_dir() / "tests/media/pages" / (name + ".html")).string() +
     "' >/dev/null 2>&1");
  BOOST_REQUIRE_MESSAGE(fs::exists(png), "chromium drew no " << png);
}

BOOST_AUTO_TEST_CASE(titles_and_keywords_of_a_slide_a_code_editor_and_a_browser_page) {
  temp_dir t;
  auto dir = t / "s";
  fs::create_directories(dir / "shots");
  fs::create_directories(dir / "audio");
  make_slide_picture(dir / "shots/0.png", slides[3]);  // "Quarterly Budget"
  render_page("code-editor", dir / "shots/1.png", t.path());
  render_page("browser-tab-bar", dir / "shots/2.png", t.path());
  // One sentence per page; the third starts 1.5 s before its page does
  // (a cut mid-sentence) and belongs to the page it is mostly said over.
  const std::vector<std::pair<std::string, int>> said = {
    {"Finally we talk about the budget for the next quarter and the travel plans.", 1000},
    {"Here the queue actor persists every job in the store before it answers the request.", 16000},
    {"The platform team owns the storage migration and reviews it before the release.", 28500},
  };
  json audio = json::array();
  for (std::size_t i = 0; i < said.size(); ++i) {
    auto raw = t / ("raw-" + std::to_string(i) + ".wav");
    make_speech(said[i].first, raw, "hts");
    auto seg = "audio/" + std::to_string(i) + ".wav";
    sh("sox '" + raw.string() + "' -r 16000 -c 1 '" + (dir / seg).string() + "'");
    audio.push_back({{"path", seg}, {"offsetMs", said[i].second}});
  }
  write_file(dir / "session.json",
             json{{"schema", 1},
                  {"id", "pages"},
                  {"audio", audio},
                  {"screenshots", {{{"path", "shots/0.png"}, {"offsetMs", 0}},
                                   {{"path", "shots/1.png"}, {"offsetMs", 15000}},
                                   {{"path", "shots/2.png"}, {"offsetMs", 30000}}}}}
                 .dump());
  process_to_completion(enrich_config(t / "db"), dir);
  auto chapters = read_json(dir / "postroll/enrichment/summary.json")["chapters"];
  for (const auto& c : chapters)
    BOOST_TEST_MESSAGE(c["startMs"] << "-" << c["endMs"] << " [" << c["titleSource"] << "] " << c["title"] << " "
                                    << c["keywords"]);
  BOOST_TEST_MESSAGE("said " << read_json(dir / "postroll/enrichment/transcript.json")["utterances"]);
  BOOST_REQUIRE_EQUAL(chapters.size(), 3u);
  auto words = [](const json& c) {
    auto w = words_of(c["title"].get<std::string>());
    for (const auto& k : c["keywords"])
      w.push_back(k.get<std::string>());
    return std::set<std::string>(w.begin(), w.end());
  };
  // The slide: its large title, read from the screen.
  BOOST_TEST(chapters[0]["titleSource"] == "screen");
  BOOST_TEST(recall(slides[3].title, chapters[0]["title"].get<std::string>()) >= 0.99);
  // The editor has no title on screen (code, file names, menus, a status
  // bar): the key phrase of what is said over it, from its own words.
  BOOST_TEST(chapters[1]["titleSource"] == "speech");
  auto editor = words(chapters[1]);
  auto spoken = words_of(said[1].first);
  BOOST_TEST(!chapters[1]["title"].get<std::string>().empty());
  for (const auto& w : words_of(chapters[1]["title"].get<std::string>()))
    BOOST_TEST((std::find(spoken.begin(), spoken.end(), w) != spoken.end() || w.size() < 3),
               "editor title word \"" << w << "\" was not said over it");
  BOOST_TEST((editor.count("queue") || editor.count("actor") || editor.count("persists")));
  // The browser page: its heading, not the tab bar or the address.
  BOOST_TEST(chapters[2]["titleSource"] == "screen");
  BOOST_TEST(recall("Storage migration plan", chapters[2]["title"].get<std::string>()) >= 0.99);
  BOOST_TEST(chapters[2]["title"].get<std::string>().find("Team Docs") == std::string::npos);
  // The sentence cut by the page change counts for the browser page only.
  std::set<std::string> browser;
  for (const auto& k : chapters[2]["keywords"])
    browser.insert(k.get<std::string>());
  BOOST_TEST((browser.count("platform") || browser.count("migration") || browser.count("storage")));
  BOOST_TEST((!editor.count("platform") && !editor.count("migration")));
}

// -- external enrichers ----------------------------------------------------

BOOST_AUTO_TEST_CASE(external_enrichers_succeed_time_out_or_print_invalid_json) {
  cancel_token never;
  json request = {{"schema", 1}, {"stage", "enrich.words"}, {"n", 42}};
  std::vector<double> progress;
  auto ok = run_external("enrich.words",
                         {{"python3", "-c",
                           "import json,sys; r=json.load(sys.stdin); print('progress 0.5', file=sys.stderr); "
                           "print(json.dumps({'echo': r['n'], 'stage': r['stage']}))"},
                          10000, {}},
                         request, never, [&](double f) { progress.push_back(f); });
  BOOST_REQUIRE_MESSAGE(ok, (ok ? "" : ok.err().message));
  BOOST_TEST((*ok)["echo"].get<int>() == 42);
  BOOST_TEST(progress.back() == 0.5);  // what it reported (time-based before that)

  auto started = std::chrono::steady_clock::now();
  auto slow = run_external("enrich.slow", {{"sleep", "30"}, 500, {}}, request, never, {});
  BOOST_REQUIRE(!slow);
  BOOST_TEST(slow.err().message.find("timed out") != std::string::npos, slow.err().message);
  BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));

  auto bad = run_external("enrich.bad", {{"sh", "-c", "cat >/dev/null; echo this is not json"}, 5000, {}}, request, never, {});
  BOOST_REQUIRE(!bad);
  BOOST_TEST(bad.err().message.find("invalid JSON") != std::string::npos, bad.err().message);
  BOOST_TEST(bad.err().message.find("enrich.bad") != std::string::npos);

  auto crash = run_external("enrich.crash", {{"sh", "-c", "echo broken >&2; exit 3"}, 5000, {}}, request, never, {});
  BOOST_REQUIRE(!crash);
  BOOST_TEST(crash.err().message.find("status 3") != std::string::npos, crash.err().message);
  BOOST_TEST(crash.err().message.find("broken") != std::string::npos);
}

// -- cancel ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_kind_of_stage_stops_within_a_second_of_cancel) {
  temp_dir t;
  sh("sox -n -r 16000 -c 1 '" + (t / "long.wav").string() + "' synth 600 pinknoise vol 0.2");
  make_slides_video(t / "long.mp4", {slides[0], slides[1]}, 60000);
  auto measure = [](const std::function<bool(const cancel_token&)>& run) {
    cancel_token cancel;
    auto fut = std::async(std::launch::async, [&] { return run(cancel); });
    std::this_thread::sleep_for(700ms);  // let it get going (work, not synchronisation)
    auto at = std::chrono::steady_clock::now();
    cancel.cancel();
    bool was_cancelled = fut.get();
    return std::make_pair(was_cancelled, std::chrono::steady_clock::now() - at);
  };
  auto [a_ok, a_time] = measure([&](const cancel_token& c) {
    auto r = review_audio(t / "long.wav", 600000, {}, c, {});
    return !r && r.err().code == errc::cancelled;
  });
  BOOST_TEST(a_ok);
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(a_time).count() < 1000);
  auto [v_ok, v_time] = measure([&](const cancel_token& c) {
    auto r = video_chapters(frame_source{t / "long.mp4"}, 120000, t / "thumbs", {}, c, {});
    return !r && r.err().code == errc::cancelled;
  });
  BOOST_TEST(v_ok);
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(v_time).count() < 1000);
  auto [x_ok, x_time] = measure([&](const cancel_token& c) {
    auto r = run_external("enrich.sleepy", {{"sleep", "60"}, 120000, {}}, json::object(), c, {});
    return !r && r.err().code == errc::cancelled;
  });
  BOOST_TEST(x_ok);
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(x_time).count() < 1000);
}

// Titles from the screen are prose, not the code line or the address bar
// that happens to be set in a large font.
BOOST_AUTO_TEST_CASE(a_title_is_not_a_line_of_code_or_chrome) {
  // Heights as Tesseract reports them on 1280x720 screens.
  std::vector<text_line> editor = {
    {"main.cpp - queue_actor.cpp - Editor", 10, 14, 90},
    {"Submitting a job", 60, 24, 88},
    {"return queue_logic{self}.submit(r);", 120, 15, 92},
    {"if (st.cfg.clock) { now = clock->now_ms(); }", 160, 15, 91},
    {"auto id = self->state.logic.submit(std::move(r));", 180, 15, 91},
  };
  BOOST_TEST(title_line(editor, 720) == "Submitting a job");
  // Only code, file names and chrome of one size: no title (speech names it).
  std::vector<text_line> code_only = {
    {"File Edit Selection View Go Run Terminal Help", 4, 13, 92},
    {"EXPLORER", 40, 12, 90},
    {"queue_actor.cpp", 80, 13, 90},
    {"namespace postroll {", 100, 14, 93},
    {"behavior queue_actor(stateful_actor<queue_state>* self) {", 140, 14, 91},
    {"cf_jobs, cf_legacy_jobs, cf_by_status", 160, 14, 89},
    {"storage", 150, 13, 90},
    {"main Ln 12, Col 4 UTF-8 C++", 700, 12, 90},
  };
  BOOST_TEST(title_line(code_only, 720) == "");
  std::vector<text_line> browser = {
    {"Storage migration plan - Team Docs x Pull requests", 12, 12, 93},
    {"https://docs.example.com/guide/storage", 46, 12, 93},
    {"Team Docs", 100, 12, 90},
    {"Storage migration plan", 100, 26, 90},
    {"The platform team owns the migration of the job store", 160, 14, 90},
    {"Owners and dates", 228, 17, 90},
  };
  BOOST_TEST(title_line(browser, 720) == "Storage migration plan");
  // A heading wrapped over two lines is one title; a footer does not win.
  std::vector<text_line> wrapped = {
    {"Why the build takes twelve", 40, 40, 90},
    {"minutes on every commit", 88, 40, 90},
    {"Average build: 12 min", 300, 22, 90},
    {"Cache misses on every dependency", 340, 22, 90},
    {"Goal: under five minutes", 380, 22, 90},
    {"Confidential - do not share", 650, 44, 85},
  };
  BOOST_TEST(title_line(wrapped, 720) == "Why the build takes twelve minutes on every commit");
  BOOST_TEST(looks_like_code("#include <rocksdb/write_batch.h"));
  BOOST_TEST(looks_like_code("in.slots.push_back(&w)"));
  BOOST_TEST(!looks_like_code("Who owns the storage migration?"));
  BOOST_TEST(!looks_like_code("Build takes 12 minutes (goal: 5)"));
}

// -- the whole job -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_narrated_session_is_enriched_in_parallel_and_cached_on_rerun) {
  temp_dir t;
  auto dir = narrated_session(t / "s", "narrated");
  auto cfg = enrich_config(t / "db");
  cfg.compress = true;  // the default path: enrichment runs beside it
  // An extra stage from the config: counts the transcript's words.
  cfg.enrich_commands.push_back(
    {"enrich.word_count",
     {"python3", "-c",
      "import json,sys; r=json.load(sys.stdin); t=r['inputs']['enrich.audio_review']; "
      "print(json.dumps({'words': t.get('wordCount', 0), 'session': r['session']['id']}))"},
     10000,
     {"enrich.audio_review"}});
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  event_log log;
  auto sub = (*rt)->subscribe(log.sink());
  BOOST_REQUIRE(sub);
  auto job = (*rt)->submit(dir.string());
  BOOST_REQUIRE(job);
  auto done = (*rt)->wait(job->id, 240s);
  BOOST_REQUIRE(done);
  BOOST_REQUIRE_MESSAGE(done->state == job_state::completed, done->error);

  // Chapters start once the merge is done, beside compression; the
  // transcript after them (the screen's words bias the recogniser).
  auto kinds = log.kinds_of(job->id);
  auto pos = [&](const std::string& k) { return std::find(kinds.begin(), kinds.end(), k) - kinds.begin(); };
  BOOST_TEST(pos("stage-started:enrich.chapters") > pos("stage-completed:media.merge"));
  BOOST_TEST(pos("stage-started:enrich.chapters") < pos("stage-completed:media.compress"));
  BOOST_TEST(pos("stage-started:enrich.audio_review") > pos("stage-completed:enrich.chapters"));
  BOOST_TEST(pos("stage-started:enrich.summary") > pos("stage-completed:enrich.chapters"));
  BOOST_TEST(pos("stage-started:enrich.summary") > pos("stage-completed:enrich.audio_review"));
  BOOST_TEST(pos("stage-started:enrich.canvas") > pos("stage-completed:enrich.summary"));
  BOOST_TEST(log.count(job->id, events::stage_progress) > 0);

  auto out = dir / "postroll/enrichment";
  auto transcript = read_json(out / "transcript.json");
  auto chapters = read_json(out / "chapters.json");
  auto summary = read_json(out / "summary.json");
  auto canvas = read_json(out / "canvas.json");
  BOOST_TEST(transcript["wordCount"].get<int>() > 20);
  BOOST_TEST(chapters["chapters"].size() == slides.size());
  // The summary names the chapters; the canvas references them and its
  // picture has one tile per chapter (2 x 2 grid).
  BOOST_TEST(summary["chapters"].size() == slides.size());
  BOOST_TEST(summary["text"].get<std::string>().find("Build Server") != std::string::npos, summary["text"]);
  BOOST_TEST(canvas["chapters"].size() == slides.size());
  BOOST_TEST(canvas["tiles"].get<int>() == int(slides.size()));
  BOOST_TEST(canvas["grid"]["columns"].get<int>() == 2);
  auto dims = run({"ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0",
                   (out / "canvas.jpg").string()});
  BOOST_TEST(dims.out.find(std::to_string(canvas["grid"]["width"].get<int>()) + "," +
                           std::to_string(canvas["grid"]["height"].get<int>())) == 0u,
             dims.out);
  BOOST_TEST(canvas["keyMoments"].size() >= slides.size());
  auto extra = read_json(out / "word_count.json");
  BOOST_TEST(extra["words"].get<int>() == transcript["wordCount"].get<int>());
  // The job record carries the compact results.
  BOOST_TEST(result_of(*done, "enrich.summary")["text"].get<std::string>() == summary["text"].get<std::string>());
  BOOST_TEST(result_of(*done, "enrich.chapters")["chapters"].size() == slides.size());

  // Unchanged session: every enrichment stage is a cache hit.
  auto again = (*rt)->submit(dir.string());
  BOOST_REQUIRE(again);
  auto again_done = (*rt)->wait(again->id, 120s);
  BOOST_REQUIRE(again_done && again_done->state == job_state::completed);
  for (auto* s : {"enrich.audio_review", "enrich.chapters", "enrich.summary", "enrich.canvas", "enrich.word_count"})
    BOOST_TEST(result_of(*again_done, s)["cached"].get<bool>(), s);

  // A changed audio segment: the transcript is redone, the chapters are not.
  make_speech("Changed narration about something else entirely, the weather and lunch.", t / "new.wav", "espeak");
  sh("sox '" + (t / "new.wav").string() + "' -r 16000 -c 1 '" + (dir / "audio/seg-3.wav").string() + "'");
  auto third = (*rt)->submit(dir.string());
  BOOST_REQUIRE(third);
  auto third_done = (*rt)->wait(third->id, 240s);
  BOOST_REQUIRE(third_done && third_done->state == job_state::completed);
  BOOST_TEST(!result_of(*third_done, "enrich.audio_review")["cached"].get<bool>());
  BOOST_TEST(result_of(*third_done, "enrich.chapters")["cached"].get<bool>());
}

BOOST_AUTO_TEST_CASE(a_failing_stage_keeps_the_others_and_retry_reruns_only_what_did_not_complete) {
  temp_dir t;
  auto dir = narrated_session(t / "s", "failing");
  auto cfg = enrich_config(t / "db");
  cfg.max_attempts = 1;
  auto marker = t / "second-run";
  // The transcript engine fails the first time it runs (a model server down).
  cfg.enrich_commands.push_back(
    {"enrich.audio_review",
     {"sh", "-c",
      "cat >/dev/null; if [ -f '" + marker.string() + "' ]; then echo '{\"wordCount\": 3, \"utterances\": []}'; "
      "else touch '" + marker.string() + "'; echo 'model server down' >&2; exit 1; fi"},
     10000,
     {}});
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  auto job = (*rt)->submit(dir.string());
  BOOST_REQUIRE(job);
  auto failed = (*rt)->wait(job->id, 240s);
  BOOST_REQUIRE(failed);
  BOOST_TEST((failed->state == job_state::failed));
  BOOST_TEST(failed->error.find("enrich.audio_review") == 0u, failed->error);
  BOOST_TEST(failed->error.find("model server down") != std::string::npos, failed->error);
  BOOST_TEST((stage_of(*failed, "enrich.chapters")->state == job_state::completed));
  BOOST_TEST((stage_of(*failed, "enrich.summary")->state == job_state::pending));
  BOOST_TEST(fs::exists(dir / "postroll/enrichment/chapters.json"));

  auto retried = (*rt)->retry(job->id);
  BOOST_REQUIRE(retried);
  auto done = (*rt)->wait(job->id, 240s);
  BOOST_REQUIRE(done);
  BOOST_REQUIRE_MESSAGE(done->state == job_state::completed, done->error);
  BOOST_TEST(stage_of(*done, "enrich.chapters")->attempts == 1);  // not re-run
  BOOST_TEST(stage_of(*done, "media.merge")->attempts == 1);
  BOOST_TEST(stage_of(*done, "enrich.audio_review")->attempts == 1);  // attempts restart at a retry
  BOOST_TEST((stage_of(*done, "enrich.canvas")->state == job_state::completed));
}

BOOST_AUTO_TEST_CASE(short_audio_is_skipped_with_a_reason_not_failed) {
  temp_dir t;
  auto dir = t / "s";
  fs::create_directories(dir / "audio");
  make_speech("Just a short note.", dir / "audio/a.wav", "espeak");
  write_file(dir / "session.json",
             json{{"schema", 1}, {"id", "short"}, {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", 0}}}}}.dump());
  auto done = process_to_completion(enrich_config(t / "db"), dir);
  auto review = result_of(done, "enrich.audio_review");
  BOOST_TEST(review["skipped"].get<bool>());
  BOOST_TEST(review["reason"].get<std::string>().find("needs 10 s") != std::string::npos, review.dump());
  auto chapters = result_of(done, "enrich.chapters");
  BOOST_TEST(chapters["skipped"].get<bool>());
  BOOST_TEST(fs::exists(dir / "postroll/enrichment/canvas.json"));
}

// -- summary engines and notifications -------------------------------------

BOOST_AUTO_TEST_CASE(a_configured_chat_endpoint_writes_the_summary_and_the_key_stays_out_of_logs) {
  temp_dir t;
  auto requests = t / "requests.jsonl";
  child_process server({"python3", (source_dir() / "tests/support/fake_http_server.py").string(), requests.string(), "chat"});
  auto line = server.wait_for_line([](const std::string& l) { return l.rfind("listening", 0) == 0; }, 10s);
  BOOST_REQUIRE(!line.empty());
  auto port = line.substr(10);
  ::setenv("POSTROLL_TEST_CHAT_KEY", "sk-test-SECRET-1234", 1);

  summary_inputs in;
  in.session_name = "Planning";
  in.duration_ms = 60000;
  in.transcript = {{"utterances", {{{"startMs", 1000}, {"endMs", 4000}, {"text", "we plan the release on friday"}}}}};
  in.chapters = {{"chapters", {{{"index", 1}, {"startMs", 0}, {"endMs", 60000}, {"title", "Release"}}}}};
  summary_options o;
  o.chat_url = "http://127.0.0.1:" + port + "/v1";
  o.chat_model = "test-model";
  o.chat_key_env = "POSTROLL_TEST_CHAT_KEY";
  cancel_token never;
  auto r = summarize(in, o, never);
  BOOST_REQUIRE(r);
  BOOST_TEST((*r)["engine"] == "chat");
  BOOST_TEST((*r)["text"].get<std::string>().find("CHAT SUMMARY") == 0u);
  auto logged = json::parse(read_file(requests).substr(0, read_file(requests).find('\n')));
  BOOST_TEST(logged["path"] == "/v1/chat/completions");
  BOOST_TEST(logged["headers"]["Authorization"] == "Bearer sk-test-SECRET-1234");
  BOOST_TEST(json::parse(logged["body"].get<std::string>())["model"] == "test-model");

  // A dead endpoint: the extractive summary, with the reason, and no key in
  // what the stage reports.
  o.chat_url = "http://127.0.0.1:9/v1";
  o.chat_timeout_ms = 2000;
  auto fallback = summarize(in, o, never);
  BOOST_REQUIRE(fallback);
  BOOST_TEST((*fallback)["engine"] == "extractive");
  BOOST_TEST((*fallback)["fallbackReason"].get<std::string>().find("127.0.0.1:9") != std::string::npos);
  BOOST_TEST(fallback->dump().find("SECRET") == std::string::npos);

  // Through a node: its log (info level) never shows the key.
  auto dir = t / "s";
  fs::create_directories(dir / "audio");
  sh("sox -n -r 16000 -c 1 '" + (dir / "audio/a.wav").string() + "' synth 12 sine 300 vol 0.2");
  write_file(dir / "session.json",
             json{{"schema", 1}, {"id", "chat"}, {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", 0}}}}}.dump());
  write_file(t / "node.toml", "[node]\ndata_dir = \"" + (t / "db").string() + "\"\nport = 0\n"
                              "[enrich]\nchat_url = \"http://127.0.0.1:" + port + "/v1\"\nchat_model = \"m\"\n"
                              "chat_key_env = \"POSTROLL_TEST_CHAT_KEY\"\n[notify]\ndesktop = false\n"
                              "[log]\nlevel = \"debug\"\n");
  auto processed = run({postroll_binary().string(), "process", dir.string(), "--config", (t / "node.toml").string(),
                        "--log-level", "debug"});
  BOOST_TEST(processed.exit_code == 0, processed.err);
  BOOST_TEST((processed.out + processed.err).find("SECRET") == std::string::npos);
  BOOST_TEST(read_json(dir / "postroll/enrichment/summary.json")["engine"] == "chat");
}

BOOST_AUTO_TEST_CASE(a_finished_job_is_posted_to_the_webhook_with_retries_and_no_desktop_is_fine) {
  temp_dir t;
  auto requests = t / "hooks.jsonl";
  child_process server(
    {"python3", (source_dir() / "tests/support/fake_http_server.py").string(), requests.string(), "webhook-flaky"});
  auto line = server.wait_for_line([](const std::string& l) { return l.rfind("listening", 0) == 0; }, 10s);
  BOOST_REQUIRE(!line.empty());
  auto dir = t / "s";
  fs::create_directories(dir / "audio");
  sh("sox -n -r 16000 -c 1 '" + (dir / "audio/a.wav").string() + "' synth 2 sine 300 vol 0.2");
  write_file(dir / "session.json",
             json{{"schema", 1}, {"id", "hook"}, {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", 0}}}}}.dump());
  auto cfg = enrich_config(t / "db");
  cfg.enrich = false;
  cfg.desktop_notifications = true;  // no D-Bus service here: must not matter
  cfg.webhook_url = "http://127.0.0.1:" + line.substr(10) + "/hook";
  cfg.webhook_timeout_ms = 2000;
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  auto job = (*rt)->submit(dir.string());
  BOOST_REQUIRE(job);
  auto job_id = job->id;
  auto done = (*rt)->wait(job->id, 60s);
  BOOST_REQUIRE(done && done->state == job_state::completed);
  // The first POST gets a 500; the sender retries after 1 s.
  BOOST_REQUIRE(!server.wait_for_line([](const std::string& l) { return l == "post 2 200"; }, 20s).empty());
  std::istringstream lines(read_file(requests));
  std::vector<json> posts;
  for (std::string l; std::getline(lines, l);)
    posts.push_back(json::parse(l));
  BOOST_REQUIRE_EQUAL(posts.size(), 2u);  // a 500, then a retry that got 200
  auto body = json::parse(posts[1]["body"].get<std::string>());
  BOOST_TEST(body["event"] == "job-completed");
  BOOST_TEST(body["job"]["id"] == job_id);
  BOOST_TEST(body["job"]["output"].get<std::string>().find("session.m4a") != std::string::npos);
  // The retry carries the same delivery id (receivers dedupe on it).
  BOOST_TEST(json::parse(posts[0]["body"].get<std::string>())["deliveryId"] == body["deliveryId"]);
}
