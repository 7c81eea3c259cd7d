#include "pipelines/retention.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <cstring>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pipelines/failpoint.hpp"
#include "pipelines/media_probe.hpp"
#include "pipelines/output_file.hpp"
#include "session/manifest.hpp"

namespace postroll {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The final output a retired session keeps: the compressed or merged MP4,
// or the audio of an audio-only session.
fs::path final_output(const fs::path& out_dir) {
  for (const char* name : {"session.mp4", "session.m4a"})
    if (fs::is_regular_file(out_dir / name))
      return out_dir / name;
  return {};
}

}  // namespace

std::string retention_stage_for(const std::string& policy) {
  if (policy == "trash")
    return stage_trash_originals;
  if (policy == "delete")
    return stage_delete_originals;
  return "";
}

fs::path trash_dir(const fs::path& session_dir, const std::string& output_dir) {
  return session_dir / output_dir / "trash";
}

result<std::string> retire_originals(const std::string& stage, const fs::path& session_dir, const std::string& output_dir,
                                     const gst::cancel_token& cancel, const gst::progress_fn& progress) {
  const bool trash = stage == stage_trash_originals;
  auto out_dir = session_dir / output_dir;
  auto journal_file = out_dir / "retention.json";
  json j;
  if (fs::exists(journal_file)) {
    j = json::parse(read_text(journal_file), nullptr, false);
    if (!j.is_object())
      return error{errc::io, journal_file.string() + ": unreadable journal; remove it to start over"};
    if (j.value("state", "") == "done")
      return j.value("result", json::object()).dump();
  } else {
    // Intent. Nothing goes before the final output is known good and on disk.
    auto m = load_manifest(session_dir);
    if (!m)
      return m.err();
    auto output = final_output(out_dir);
    if (output.empty())
      return error{errc::io, out_dir.string() + ": no final output; the originals stay"};
    auto info = probe_media(output);
    if (!info || info->duration_ms <= 0 || (m->has_video() && !info->has_video) || (m->has_audio() && !info->has_audio))
      return error{errc::media, output.string() + ": the final output does not validate (" +
                                    (info ? "missing a stream or empty" : info.err().message) + "); the originals stay"};
    if (auto err = sync_file_and_folder(output))
      return *err;
    json files = json::array();
    std::int64_t bytes = 0;
    std::error_code ec;
    for (const auto* list : {&m->video, &m->audio, &m->screenshots})
      for (const auto& f : *list)
        if (!f.missing) {
          files.push_back(f.path);
          bytes += std::int64_t(fs::file_size(f.resolved, ec));
        }
    // The manifest that will replace session.json: the output in place of
    // the originals, so the session still opens (and says what happened).
    auto original = read_text(session_dir / manifest_file_name);
    auto doc = json::parse(original);
    auto rel = fs::relative(output, m->dir).string();
    doc["video"] = info->has_video ? json::array({{{"path", rel}, {"offsetMs", 0}}}) : json::array();
    doc["audio"] = info->has_video ? json::array() : json::array({{{"path", rel}, {"offsetMs", 0}}});
    doc["screenshots"] = json::array();
    doc["originalsRetired"] = {{"policy", trash ? "trash" : "delete"}, {"at", unix_ms()},
                               {"journal", fs::relative(journal_file, m->dir).string()}};
    j = {{"policy", trash ? "trash" : "delete"}, {"state", "intent"}, {"files", files}, {"done", json::array()},
         {"bytes", bytes}, {"originalManifest", original}, {"newManifest", doc.dump(2)}, {"startedAt", unix_ms()}};
    if (auto err = write_file_atomically(journal_file, j.dump()))
      return *err;
    failpoint("retention.intent");
  }
  if (j["state"] == "intent") {
    if (auto err = write_file_atomically(session_dir / manifest_file_name, j["newManifest"].get<std::string>()))
      return *err;
    j["state"] = "removing";
    if (auto err = write_file_atomically(journal_file, j.dump()))
      return *err;
    failpoint("retention.manifest");
  }
  auto files = j["files"];
  std::set<std::string> done;
  for (const auto& d : j["done"])
    done.insert(d.get<std::string>());
  auto trash_root = trash_dir(session_dir, output_dir);
  std::size_t n = 0;
  for (const auto& f : files) {
    ++n;
    auto rel = f.get<std::string>();
    if (done.count(rel))
      continue;
    if (cancel.is_cancelled())
      return error{errc::cancelled, "cancelled"};  // the journal continues on retry
    auto src = session_dir / rel;
    std::error_code ec;
    if (trash) {
      auto dest = trash_root / rel;
      fs::create_directories(dest.parent_path(), ec);
      if (fs::exists(src, ec)) {
        fs::rename(src, dest, ec);  // same volume: one atomic step per file
        if (ec)
          return error{errc::io, src.string() + ": cannot move to " + dest.string() + ": " + ec.message()};
        if (auto err = sync_file_and_folder(dest))
          return *err;
      }
    } else if (!fs::remove(src, ec) && ec) {
      return error{errc::io, src.string() + ": cannot delete: " + ec.message()};
    }
    j["done"].push_back(rel);
    if (auto err = write_file_atomically(journal_file, j.dump()))
      return *err;
    failpoint("retention.file");
    if (progress)
      progress(double(n) / double(files.size()));
  }
  json result = {{"policy", j["policy"]},
                 {"files", files.size()},
                 {"bytes", j["bytes"]},
                 {"bytesReclaimed", trash ? 0 : j["bytes"].get<std::int64_t>()},
                 {"at", unix_ms()}};
  if (trash)
    result["trash"] = fs::relative(trash_root, session_dir).string();
  j["state"] = "done";
  j["result"] = result;
  j.erase("newManifest");
  if (auto err = write_file_atomically(journal_file, j.dump()))
    return *err;
  failpoint("retention.done");
  return result.dump();
}

}  // namespace postroll
