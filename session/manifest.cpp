#include "session/manifest.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace postroll {

namespace {

error bad(const fs::path& file, const std::string& what) {
  return error{errc::bad_input, file.string() + ": " + what};
}

// Ids end up in database keys and log lines: keep them plain.
bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 128)
    return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

bool is_within(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *r != *q)
      return false;
  return true;
}

// Resolves one manifest path against the session folder, refusing anything
// that could read outside it.
result<fs::path> resolve(const fs::path& dir, const fs::path& manifest_path,
                         const std::string& where, const std::string& rel, bool empty_ok) {
  if (rel.empty())
    return bad(manifest_path, where + ".path: must not be empty");
  fs::path p{rel};
  if (p.is_absolute())
    return bad(manifest_path,
               where + ".path: absolute paths are not allowed (\"" + rel + "\")");
  for (const auto& part : p)
    if (part == "..")
      return bad(manifest_path,
                 where + ".path: \"..\" is not allowed (\"" + rel + "\")");
  auto full = dir / p;
  std::error_code ec;
  auto st = fs::symlink_status(full, ec);
  if (ec || !fs::exists(st)) {
    // A dangling symlink is reported as missing, like a missing file.
    return bad(full, "file does not exist (" + where + ")");
  }
  auto canonical = fs::canonical(full, ec);
  if (ec)
    return bad(full, "file does not exist (" + where + ")");
  if (!is_within(dir, canonical))
    return bad(full, "resolves outside the session folder (" + where +
                       " -> " + canonical.string() + ")");
  if (!fs::is_regular_file(canonical, ec))
    return bad(full, "is not a regular file (" + where + ")");
  if (::access(canonical.c_str(), R_OK) != 0)
    return bad(full, "is not readable (" + where + ")");
  // An empty audio segment is what a recorder killed right after opening
  // one leaves: media.repair turns it into silence. An empty video is not.
  if (!empty_ok && fs::file_size(canonical, ec) == 0)
    return bad(full, "is empty (" + where + ")");
  return canonical;
}

result<std::vector<media_ref>> read_list(const json& doc, const char* key,
                                         const fs::path& dir,
                                         const fs::path& manifest_path,
                                         bool missing_ok = false) {
  std::vector<media_ref> out;
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null())
    return out;
  if (!it->is_array())
    return bad(manifest_path, std::string{key} + ": must be an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& e = (*it)[i];
    auto where = std::string{key} + "[" + std::to_string(i) + "]";
    if (!e.is_object())
      return bad(manifest_path, where + ": must be an object with \"path\" and \"offsetMs\"");
    auto p = e.find("path");
    if (p == e.end())
      return bad(manifest_path, where + ".path: missing");
    if (!p->is_string())
      return bad(manifest_path, where + ".path: must be a string");
    media_ref ref;
    ref.path = p->get<std::string>();
    auto off = e.find("offsetMs");
    if (off != e.end()) {
      if (!off->is_number_integer())
        return bad(manifest_path, where + ".offsetMs: must be an integer number of milliseconds");
      ref.offset_ms = off->get<std::int64_t>();
      if (ref.offset_ms < 0)
        return bad(manifest_path, where + ".offsetMs: must be >= 0 (got " +
                                    std::to_string(ref.offset_ms) + ")");
    }
    auto resolved = resolve(dir, manifest_path, where, ref.path, std::string{key} == "audio");
    if (!resolved) {
      // Only a file that is simply not there may be let through; a path that
      // escapes the folder stays an error.
      bool absent = resolved.err().message.find(": file does not exist (") != std::string::npos;
      if (!missing_ok || !absent)
        return resolved.err();
      ref.missing = true;
      ref.resolved = dir / ref.path;
    } else {
      ref.resolved = std::move(*resolved);
    }
    out.push_back(std::move(ref));
  }
  return out;
}

}  // namespace

result<manifest> load_manifest(const fs::path& session_dir, const manifest_options& options) {
  std::error_code ec;
  if (!fs::exists(session_dir, ec))
    return bad(session_dir, "session folder does not exist");
  if (!fs::is_directory(session_dir, ec))
    return bad(session_dir, "is not a folder (postroll takes a session folder)");
  auto dir = fs::canonical(session_dir, ec);
  if (ec)
    return bad(session_dir, ec.message());
  auto path = dir / manifest_file_name;
  if (!fs::exists(path, ec))
    return bad(path, "missing (every session folder needs a session.json)");
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return bad(path, "cannot be read");
  std::stringstream buf;
  buf << in.rdbuf();
  json doc;
  try {
    doc = json::parse(buf.str());
  } catch (const json::parse_error& e) {
    return bad(path, std::string{"invalid JSON: "} + e.what());
  }
  if (!doc.is_object())
    return bad(path, "must hold a JSON object");

  manifest m;
  m.dir = dir;
  auto schema = doc.find("schema");
  if (schema == doc.end())
    return bad(path, "schema: missing (expected 1)");
  if (!schema->is_number_integer())
    return bad(path, "schema: must be an integer (expected 1)");
  m.schema = schema->get<int>();
  if (m.schema != 1)
    return bad(path, "schema: version " + std::to_string(m.schema) +
                       " is not supported (this postroll reads 1)");
  auto id = doc.find("id");
  if (id == doc.end())
    return bad(path, "id: missing");
  if (!id->is_string())
    return bad(path, "id: must be a string");
  m.id = id->get<std::string>();
  if (!valid_id(m.id))
    return bad(path, "id: \"" + m.id +
                       "\" must be 1-128 characters of letters, digits, '-', '_' or '.'");
  if (auto n = doc.find("name"); n != doc.end() && !n->is_null()) {
    if (!n->is_string())
      return bad(path, "name: must be a string");
    m.name = n->get<std::string>();
  }
  if (auto s = doc.find("startedAt"); s != doc.end() && !s->is_null()) {
    if (!s->is_number_integer() || s->get<std::int64_t>() < 0)
      return bad(path, "startedAt: must be a non-negative integer (Unix milliseconds)");
    m.started_at = s->get<std::int64_t>();
  }
  if (auto r = doc.find("originalsRetired"); r != doc.end() && r->is_object())
    m.originals_retired = r->value("policy", "retired");
  auto video = read_list(doc, "video", dir, path);
  if (!video)
    return video.err();
  m.video = std::move(*video);
  auto audio = read_list(doc, "audio", dir, path, options.missing_audio_as_silence);
  if (!audio)
    return audio.err();
  m.audio = std::move(*audio);
  auto shots = read_list(doc, "screenshots", dir, path);
  if (!shots)
    return shots.err();
  m.screenshots = std::move(*shots);
  if (m.video.empty() && m.audio.empty())
    return bad(path, "lists no video and no audio: nothing to finalize");
  if (m.video.size() > 1)
    return bad(path, "video: " + std::to_string(m.video.size()) +
                       " files listed; this version merges one screen video per session");
  // Segments are placed by offset, not by list order.
  std::stable_sort(m.audio.begin(), m.audio.end(),
                   [](const media_ref& a, const media_ref& b) { return a.offset_ms < b.offset_ms; });
  return m;
}

}  // namespace postroll
