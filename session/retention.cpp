#include "session/retention.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <cstring>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "postroll/job.hpp"
#include "session/failpoint.hpp"
#include "session/output_file.hpp"
#include "session/manifest.hpp"
#include "session/seal.hpp"
#include "session/session_folder.hpp"

namespace postroll {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

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

namespace {

bool inside_output_dir(const std::string& rel, const std::string& output_dir) {
  auto first = fs::path{rel}.begin();
  return first != fs::path{rel}.end() && *first == fs::path{output_dir}.begin()->string();
}

}  // namespace

result<std::string> retire_originals(const std::string& stage, const fs::path& session_dir, const retention_context& rc,
                                     const cancel_token& cancel, const progress_fn& progress) {
  const bool trash = stage == stage_trash_originals;
  auto folder = session_folder::open(session_dir);
  if (!folder)
    return folder.err();
  auto out_dir = (*folder)->output_dir(rc.output_dir);
  if (!out_dir)
    return out_dir.err();
  auto journal_file = *out_dir / "retention.json";
  auto save = [&](const json& doc) { return write_file_atomically(journal_file, sealed(doc, rc.seal_key).dump()); };
  json j;
  std::error_code ec;
  if (fs::exists(journal_file, ec)) {
    auto doc = json::parse(read_text(journal_file), nullptr, false);
    if (seal_valid(doc, rc.seal_key) && doc.value("job", "") == rc.job_id) {
      j = std::move(doc);
      if (j.value("state", "") == "done")
        return j.value("result", json::object()).dump();
    } else {
      spdlog::warn("retention: {} was not written by this node for job {}; ignored", journal_file.string(), rc.job_id);
    }
  }
  if (j.is_null()) {
    // Intent. Nothing goes before the final output is known good and on disk.
    auto m = load_manifest(session_dir);
    if (!m)
      return m.err();
    if (!m->originals_retired.empty())
      return error{errc::bad_input, (m->dir / manifest_file_name).string() + ": its originals were already retired (" +
                                      m->originals_retired + "); nothing left to move or delete"};
    auto output = final_output(*out_dir);
    if (output.empty())
      return error{errc::io, out_dir->string() + ": no final output; the originals stay"};
    auto bad = rc.check_output ? rc.check_output(output, m->has_video(), m->has_audio())
                               : maybe_error{error{errc::internal, "nothing checked it"}};
    if (bad)
      return error{errc::media, output.string() + ": the final output does not validate (" + bad->message +
                                    "); the originals stay"};
    if (auto err = sync_file_and_folder(output))
      return *err;
    json files = json::array();
    std::set<std::string> listed;
    std::int64_t bytes = 0;
    for (const auto* list : {&m->video, &m->audio, &m->screenshots})
      for (const auto& f : *list)
        // postroll's own files are never originals, and a file listed
        // twice goes once.
        if (!f.missing && !inside_output_dir(f.path, rc.output_dir) && listed.insert(f.path).second) {
          files.push_back(f.path);
          bytes += f.bytes;
        }
    // The manifest that will replace session.json: the output in place of
    // the originals, so the session still opens (and says what happened).
    auto original = (*folder)->open_file(manifest_file_name, "");
    if (!original)
      return original.err();
    auto original_text = original->read_all(max_manifest_bytes);
    if (!original_text)
      return original_text.err();
    auto doc = json::parse(*original_text);
    auto rel = fs::relative(output, m->dir).string();
    doc["video"] = m->has_video() ? json::array({{{"path", rel}, {"offsetMs", 0}}}) : json::array();
    doc["audio"] = m->has_video() ? json::array() : json::array({{{"path", rel}, {"offsetMs", 0}}});
    doc["screenshots"] = json::array();
    doc["originalsRetired"] = {{"policy", trash ? "trash" : "delete"}, {"at", unix_now_ms()},
                               {"journal", fs::relative(journal_file, m->dir).string()}};
    j = {{"policy", trash ? "trash" : "delete"}, {"state", "intent"}, {"job", rc.job_id}, {"files", files},
         {"done", json::array()}, {"bytes", bytes}, {"originalManifest", *original_text},
         {"newManifest", doc.dump(2)}, {"startedAt", unix_now_ms()}};
    if (auto err = save(j))
      return *err;
    failpoint("retention.intent");
  }
  if (j["state"] == "intent") {
    if (auto err = write_file_atomically((*folder)->path() / manifest_file_name, j["newManifest"].get<std::string>()))
      return *err;
    j["state"] = "removing";
    if (auto err = save(j))
      return *err;
    failpoint("retention.manifest");
  }
  auto files = j["files"];
  std::set<std::string> done;
  for (const auto& d : j["done"])
    done.insert(d.get<std::string>());
  auto trash_rel = (fs::path{rc.output_dir} / "trash").string();
  std::size_t n = 0;
  for (const auto& f : files) {
    ++n;
    auto rel = f.get<std::string>();
    if (done.count(rel))
      continue;
    if (!plain_relative(rel) || inside_output_dir(rel, rc.output_dir))
      return error{errc::internal, journal_file.string() + ": lists " + one_line(rel) + ", which is not an original"};
    if (cancel.is_cancelled())
      return error{errc::cancelled, "cancelled"};  // the journal continues on retry
    if (trash) {
      // Same volume: one atomic step per file.
      if (auto err = (*folder)->move_file(rel, (fs::path{trash_rel} / rel).string()))
        return *err;
      auto dest = (*folder)->path() / trash_rel / rel;
      if (fs::exists(dest, ec))
        if (auto err = sync_file_and_folder(dest))
          return *err;
    } else if (auto err = (*folder)->remove_file(rel)) {
      return *err;
    }
    j["done"].push_back(rel);
    if (auto err = save(j))
      return *err;
    failpoint("retention.file");
    if (progress)
      progress(double(n) / double(files.size()));
  }
  json result = {{"policy", j["policy"]},
                 {"files", files.size()},
                 {"bytes", j["bytes"]},
                 {"bytesReclaimed", trash ? 0 : j["bytes"].get<std::int64_t>()},
                 {"at", unix_now_ms()}};
  if (trash)
    result["trash"] = trash_rel;
  j["state"] = "done";
  j["result"] = result;
  j.erase("newManifest");
  if (auto err = save(j))
    return *err;
  failpoint("retention.done");
  return result.dump();
}

}  // namespace postroll
