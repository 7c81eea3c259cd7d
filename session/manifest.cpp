#include "session/manifest.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace postroll {

namespace {

error bad(const fs::path& file, const std::string& what) {
  return error{errc::bad_input, file.string() + ": " + what};
}

// Ids end up in database keys, URLs and log lines: keep them plain.
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
  for (; r != root.end(); ++r, ++q) {
    if (r->empty())
      continue;  // a trailing slash
    if (q == p.end() || *r != *q)
      return false;
  }
  return true;
}

std::string ms_text(std::int64_t ms) {
  return std::to_string(ms / 3600000) + " h (" + std::to_string(ms) + " ms)";
}

result<std::vector<media_ref>> read_list(const json& doc, const char* key, const session_folder_ptr& folder,
                                         const fs::path& manifest_path, const manifest_options& o,
                                         bool missing_ok) {
  std::vector<media_ref> out;
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null())
    return out;
  if (!it->is_array())
    return bad(manifest_path, std::string{key} + ": must be an array");
  const bool audio = std::string{key} == "audio";
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
    if (ref.path.empty())
      return bad(manifest_path, where + ".path: must not be empty");
    if (ref.path.size() > 4096 || !printable_line(ref.path))
      return bad(manifest_path, where + ".path: must be at most 4096 bytes of UTF-8 without control characters (\"" +
                                  one_line(ref.path.substr(0, 200)) + "\")");
    if (fs::path{ref.path}.is_absolute())
      return bad(manifest_path, where + ".path: absolute paths are not allowed (\"" + ref.path + "\")");
    for (const auto& part : fs::path{ref.path})
      if (part == "..")
        return bad(manifest_path, where + ".path: \"..\" is not allowed (\"" + ref.path + "\")");
    auto off = e.find("offsetMs");
    if (off != e.end()) {
      // Unsigned values above 2^63 are integers too: is_number_unsigned
      // catches them before get<int64_t> could wrap.
      if (!off->is_number_integer())
        return bad(manifest_path, where + ".offsetMs: must be an integer number of milliseconds");
      if (off->is_number_unsigned() && off->get<std::uint64_t>() > std::uint64_t(o.max_session_ms))
        return bad(manifest_path, where + ".offsetMs: " + off->dump() + " is beyond the longest session postroll takes (" +
                                    ms_text(o.max_session_ms) + ", media.max_session_hours)");
      ref.offset_ms = off->get<std::int64_t>();
      if (ref.offset_ms < 0)
        return bad(manifest_path, where + ".offsetMs: must be >= 0 (got " + std::to_string(ref.offset_ms) + ")");
      if (ref.offset_ms > o.max_session_ms)
        return bad(manifest_path, where + ".offsetMs: " + std::to_string(ref.offset_ms) +
                                    " is beyond the longest session postroll takes (" + ms_text(o.max_session_ms) +
                                    ", media.max_session_hours)");
    }
    ref.folder = folder;
    ref.open_rel = ref.path;
    ref.resolved = folder->path() / ref.path;
    auto opened = folder->open_file(ref.path, where);
    if (!opened) {
      // Only a file that is simply not there may be let through; a path that
      // escapes the folder stays an error.
      bool absent = opened.err().message.find(": file does not exist (") != std::string::npos;
      if (!missing_ok || !absent)
        return opened.err();
      ref.missing = true;
    } else {
      ref.bytes = opened->size();
      ref.identity = opened->identity();
      ref.mtime_ns = opened->mtime_ns();
      // An empty audio segment is what a recorder killed right after opening
      // one leaves: media.repair turns it into silence. An empty video is not.
      if (!audio && ref.bytes == 0 && !o.recording)
        return bad(ref.resolved, "is empty (" + where + ")");
    }
    out.push_back(std::move(ref));
  }
  return out;
}

std::size_t count_of(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_array() ? it->size() : 0;
}

}  // namespace

result<opened_file> media_ref::open() const {
  if (!folder)
    return error{errc::internal, resolved.string() + ": not from a manifest"};
  return folder->open_file(open_rel.empty() ? path : open_rel, path);
}

std::int64_t manifest::media_bytes() const {
  std::set<std::pair<std::uint64_t, std::uint64_t>> seen;
  std::int64_t n = 0;
  for (const auto* list : {&video, &audio})
    for (const auto& f : *list)
      if (!f.missing && seen.insert(f.identity).second)
        n += f.bytes;
  return n;
}

bool printable_line(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f)
      return false;
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size())
      return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
        return false;
    if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0)
      return false;  // C1 control characters (U+0080..U+009F)
    i += n;
  }
  return true;
}

std::string one_line(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size() && printable_line(s.substr(i, n));
    if (ok)
      out.append(s, i, n);
    else
      out += '?';
    i += ok ? n : 1;
  }
  return out;
}

result<manifest> load_manifest(const fs::path& session_dir, const manifest_options& options) {
  auto folder = session_folder::open(session_dir);
  if (!folder)
    return folder.err();
  const auto& dir = (*folder)->path();
  if (!options.roots.empty()) {
    bool inside = std::any_of(options.roots.begin(), options.roots.end(), [&](const std::string& root) {
      std::error_code ec;
      auto r = fs::weakly_canonical(fs::absolute(root, ec), ec);
      return !root.empty() && is_within(r, dir);
    });
    if (!inside) {
      // Named, so that whoever hands the folder over knows where it belongs.
      std::string roots;
      for (const auto& r : options.roots)
        roots += (roots.empty() ? "" : ", ") + r;
      return error{errc::bad_input, session_dir.string() + ": not under a configured session root (http.session_roots: " +
                                      roots + ")" + (dir != session_dir ? " (it is " + dir.string() + ")" : std::string{})};
    }
  }
  auto path = dir / manifest_file_name;
  auto file = (*folder)->open_file(manifest_file_name, "");
  if (!file) {
    if (file.err().message.find("file does not exist") != std::string::npos)
      return bad(path, "missing (every session folder needs a session.json)");
    return file.err();
  }
  auto text = file->read_all(max_manifest_bytes);
  if (!text)
    return text.err();
  json doc;
  try {
    doc = json::parse(*text);
  } catch (const json::parse_error& e) {
    // The byte, never the text: a manifest may be a symlink's target, and
    // its content is not ours to echo.
    return bad(path, "invalid JSON (at byte " + std::to_string(e.byte) + ")");
  }
  if (!doc.is_object())
    return bad(path, "must hold a JSON object");

  manifest m;
  m.dir = dir;
  m.folder = *folder;
  auto schema = doc.find("schema");
  if (schema == doc.end())
    return bad(path, "schema: missing (expected 1)");
  if (!schema->is_number_integer())
    return bad(path, "schema: must be an integer (expected 1)");
  if (!schema->is_number_unsigned() || schema->get<std::uint64_t>() != 1)
    return bad(path, "schema: version " + schema->dump() + " is not supported (this postroll reads 1)");
  m.schema = 1;
  auto id = doc.find("id");
  if (id == doc.end())
    return bad(path, "id: missing");
  if (!id->is_string())
    return bad(path, "id: must be a string");
  m.id = id->get<std::string>();
  if (!valid_id(m.id))
    return bad(path, "id: \"" + one_line(m.id.substr(0, 200)) +
                       "\" must be 1-128 characters of letters, digits, '-', '_' or '.'");
  if (auto n = doc.find("name"); n != doc.end() && !n->is_null()) {
    if (!n->is_string())
      return bad(path, "name: must be a string");
    m.name = n->get<std::string>();
    if (m.name.size() > 1024 || !printable_line(m.name))
      return bad(path, "name: must be at most 1024 bytes of UTF-8 without control characters");
  }
  if (auto s = doc.find("startedAt"); s != doc.end() && !s->is_null()) {
    // Up to the year 9999: a time people can print.
    if (!s->is_number_integer() || !s->is_number_unsigned() || s->get<std::uint64_t>() > 253402300799999ull)
      return bad(path, "startedAt: must be a non-negative integer (Unix milliseconds)");
    m.started_at = s->get<std::int64_t>();
  }
  if (auto e = doc.find("endedAt"); e != doc.end() && !e->is_null()) {
    if (!e->is_number_integer() || !e->is_number_unsigned() || e->get<std::uint64_t>() > 253402300799999ull)
      return bad(path, "endedAt: must be a non-negative integer (Unix milliseconds)");
    m.ended_at = std::max<std::int64_t>(1, e->get<std::int64_t>());
  }
  if (auto r = doc.find("originalsRetired"); r != doc.end() && r->is_object()) {
    auto policy = r->value("policy", json("retired"));
    m.originals_retired = policy.is_string() ? one_line(policy.get<std::string>().substr(0, 32)) : "retired";
  }
  auto entries = count_of(doc, "video") + count_of(doc, "audio") + count_of(doc, "screenshots");
  if (entries > options.max_entries)
    return bad(path, "lists " + std::to_string(entries) + " files; postroll takes at most " +
                       std::to_string(options.max_entries) + " per session (media.max_session_files)");
  auto video = read_list(doc, "video", *folder, path, options, false);
  if (!video)
    return video.err();
  m.video = std::move(*video);
  auto audio = read_list(doc, "audio", *folder, path, options, options.missing_audio_as_silence);
  if (!audio)
    return audio.err();
  m.audio = std::move(*audio);
  auto shots = read_list(doc, "screenshots", *folder, path, options, false);
  if (!shots)
    return shots.err();
  m.screenshots = std::move(*shots);
  if (m.video.empty() && m.audio.empty() && !options.recording)
    return bad(path, "lists no video and no audio: nothing to finalize");
  // Files are placed by offset, not by list order.
  auto by_offset = [](const media_ref& a, const media_ref& b) { return a.offset_ms < b.offset_ms; };
  std::stable_sort(m.audio.begin(), m.audio.end(), by_offset);
  std::stable_sort(m.video.begin(), m.video.end(), by_offset);
  return m;
}

}  // namespace postroll
