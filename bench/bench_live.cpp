// A recording replayed at N x real time into a live job, then the same files
// as a batch job: how long after the recorder's end the session is playable,
// transcribed and enriched (no compression), and what the live work cost
// while it recorded (CPU share of the machine, the recorder's lateness).
//
// usage: bench_live WORK_DIR MINUTES SPEED [--video]   (bench/bench-live.sh runs it)
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "postroll/runtime.hpp"
#include "postroll/stages.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct times {
  std::mutex m;
  std::condition_variable cv;
  std::map<std::string, std::map<std::string, std::int64_t>> at;  // job -> what -> Unix ms

  void on(const event& e) {
    std::lock_guard<std::mutex> g{m};
    auto& t = at[e.job_id];
    if (e.kind == events::media_ready)
      t["playable"] = e.time;
    if (e.kind == events::stage_completed && e.stage == stage_audio_review)
      t["transcript"] = e.time;
    if (e.kind == events::job_completed || e.kind == events::job_failed)
      t["done"] = e.time;
    cv.notify_all();
  }
  std::map<std::string, std::int64_t> wait(const std::string& job) {
    std::unique_lock<std::mutex> lock{m};
    cv.wait(lock, [&] { return at[job].count("done") > 0; });
    return at[job];
  }
};

json since(const std::map<std::string, std::int64_t>& t, std::int64_t from) {
  json out;
  for (const char* k : {"playable", "transcript", "done"})
    out[k] = t.count(k) ? json(double(t.at(k) - from) / 1000.0) : json(nullptr);
  return out;
}

}  // namespace

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: bench_live WORK_DIR MINUTES SPEED [--video]\n";
    return 2;
  }
  fs::path work = fs::absolute(argv[1]);
  int minutes = std::atoi(argv[2]);
  std::string speed = argv[3];
  bool video = argc > 4 && std::string{argv[4]} == "--video";
  fs::remove_all(work);
  fs::create_directories(work);
  auto dir = work / "rec";
  config cfg;
  cfg.data_dir = (work / "db").string();
  cfg.compress = false;
  cfg.log_level = std::getenv("BENCH_LOG") ? std::getenv("BENCH_LOG") : "warn";
  cfg.desktop_notifications = false;
  auto rt = runtime::start(cfg);
  if (!rt) {
    std::cerr << rt.err().message << "\n";
    return 1;
  }
  times t;
  auto sub = (*rt)->subscribe([&t](const event& e) { t.on(e); });
  auto ready = work / "ready";
  auto script = fs::path{__FILE__}.parent_path().parent_path() / "tests/media/live-recorder.py";
  auto cmd = "python3 '" + script.string() + "' '" + dir.string() + "' " + std::to_string(minutes * 60) + " " + speed +
             (video ? " --video" : "") + " --ready '" + ready.string() + "'";
  FILE* rec = popen(cmd.c_str(), "r");
  while (!fs::exists(dir / "session.json"))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto job = (*rt)->open_live(dir.string());
  if (!job) {
    std::cerr << job.err().message << "\n";
    return 1;
  }
  auto cpu0 = cpu_seconds();
  auto wall0 = std::chrono::steady_clock::now();
  std::ofstream{ready} << "go";
  char line[512];
  std::int64_t ended = 0, worst_late = 0;
  int segments = 0;
  while (fgets(line, sizeof line, rec)) {
    std::string l = line;
    if (auto at = l.find("late_ms="); at != std::string::npos) {
      worst_late = std::max<std::int64_t>(worst_late, std::atoll(l.c_str() + at + 8));
      ++segments;
    }
    if (l.rfind("ended ", 0) == 0)
      ended = std::atoll(l.c_str() + 6);
  }
  pclose(rec);
  auto rec_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  auto rec_cpu = cpu_seconds() - cpu0;
  auto live = t.wait(job->id);
  auto final = (*rt)->status(job->id);
  json live_stage = final ? json::parse(final->stages[0].result, nullptr, false) : json();
  json transcript = json::parse(std::ifstream{dir / "postroll/enrichment/transcript.json"}, nullptr, false);
  json timeline;
  if (final)
    for (const auto& s : final->stages)
      if (s.name == stage_timeline)
        timeline = json::parse(s.result, nullptr, false);

  // The same files as a batch job.
  auto batch = work / "batch";
  fs::create_directories(batch);
  auto doc = json::parse(std::ifstream{dir / "session.json"});
  for (const char* list : {"audio", "video"})
    for (const auto& e : doc.value(list, json::array())) {
      auto p = e["path"].get<std::string>();
      fs::create_directories((batch / p).parent_path());
      fs::copy_file(dir / p, batch / p);
    }
  doc["id"] = "batch-" + doc["id"].get<std::string>();
  std::ofstream{batch / "session.json"} << doc.dump();
  auto submitted = unix_now_ms();
  auto bjob = (*rt)->submit(batch.string());
  if (!bjob) {
    std::cerr << bjob.err().message << "\n";
    return 1;
  }
  auto batch_t = t.wait(bjob->id);
  json batch_transcript = json::parse(std::ifstream{batch / "postroll/enrichment/transcript.json"}, nullptr, false);
  auto chapters_of = [](const fs::path& session) {
    return json::parse(std::ifstream{session / "postroll/enrichment/chapters.json"}, nullptr, false);
  };
  auto live_chapters = chapters_of(dir), batch_chapters = chapters_of(batch);
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  json out = {{"minutes", minutes},
              {"speed", speed},
              {"video", video},
              {"cores", cores},
              {"segments", segments},
              {"live", since(live, ended)},
              {"batch", since(batch_t, submitted)},
              {"recordingWallS", rec_wall},
              {"recordingCpuS", rec_cpu},
              {"cpuShare", rec_cpu / rec_wall / cores},
              {"recorderWorstLateMs", worst_late},
              {"liveStage", live_stage},
              {"piecesReused", transcript.value("piecesReused", -1)},
              {"audioPieces", timeline.is_object() ? timeline.value("pieces", -1) : -1},
              {"audioPiecesReused", timeline.is_object() ? timeline.value("piecesReused", -1) : -1},
              {"sameTimeline", read_bytes(dir / "postroll/timeline.aac") == read_bytes(batch / "postroll/timeline.aac")},
              {"sameWords", transcript.value("words", json()) == batch_transcript.value("words", json())},
              {"chapters", live_chapters.is_object() ? live_chapters.value("count", 0) : 0},
              {"chaptersReused", live_chapters.is_object() && live_chapters.value("chaptersReused", false)},
              {"sameChapters", live_chapters.is_object() && batch_chapters.is_object() &&
                                   live_chapters.value("chapters", json()) == batch_chapters.value("chapters", json())}};
  std::cout << out.dump(2) << "\n";
  return 0;
}
