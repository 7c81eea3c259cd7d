#include "session/live_manifest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace postroll {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Replaces session.json in the folder `fd` in one rename, the new text
// fsynced first and the folder after: a crash leaves the old or the new.
maybe_error replace_manifest(const session_folder& folder, const std::string& text) {
  auto display = (folder.path() / manifest_file_name).string();
  const char* tmp = ".session.json.postroll-tmp";
  ::unlinkat(folder.fd(), tmp, 0);
  int fd = ::openat(folder.fd(), tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return error{errc::io, display + ": cannot write: " + std::strerror(errno)};
  unique_fd owner{fd};
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return error{errc::io, display + ": cannot write: " + std::strerror(errno)};
    done += std::size_t(n);
  }
  if (::fsync(fd) != 0 || ::renameat(folder.fd(), tmp, folder.fd(), manifest_file_name) != 0)
    return error{errc::io, display + ": cannot replace: " + std::strerror(errno)};
  ::fsync(folder.fd());
  return std::nullopt;
}

// The manifest as JSON, after the same validation as any manifest.
result<std::pair<json, session_folder_ptr>> current(const fs::path& dir, const manifest_options& options) {
  auto o = options;
  o.recording = true;
  auto m = load_manifest(dir, o);
  if (!m)
    return m.err();
  auto file = m->folder->open_file(manifest_file_name, "the manifest");
  if (!file)
    return file.err();
  auto text = file->read_all(max_manifest_bytes);
  if (!text)
    return text.err();
  auto doc = json::parse(*text, nullptr, false);
  if (!doc.is_object())  // load_manifest read it a moment ago: someone replaced it
    return error{errc::bad_input, (m->dir / manifest_file_name).string() + ": changed while it was read"};
  if (m->ended_at > 0)
    doc["endedAt"] = m->ended_at;
  return std::make_pair(std::move(doc), m->folder);
}

}  // namespace

maybe_error append_to_manifest(const fs::path& dir, const live_file& file, const manifest_options& options) {
  const char* key = file.kind == "audio" ? "audio" : file.kind == "video" ? "video"
                    : file.kind == "screenshot" || file.kind == "screenshots" ? "screenshots" : nullptr;
  auto manifest_path = (dir / manifest_file_name).string();
  if (!key)
    return error{errc::bad_input, "unknown kind \"" + one_line(file.kind.substr(0, 40)) +
                                      "\" (audio, video or screenshot)"};
  if (!printable_line(file.path) || !plain_relative(file.path))
    return error{errc::bad_input, manifest_path + ": path \"" + one_line(file.path.substr(0, 200)) +
                                      "\" must be relative and inside the session folder"};
  if (file.offset_ms < 0 || file.offset_ms > options.max_session_ms)
    return error{errc::bad_input, manifest_path + ": offsetMs " + std::to_string(file.offset_ms) +
                                      " is outside the session (0.." + std::to_string(options.max_session_ms) + ")"};
  auto cur = current(dir, options);
  if (!cur)
    return cur.err();
  auto& [doc, folder] = *cur;
  if (doc.contains("endedAt"))
    return error{errc::bad_input, manifest_path + ": the recording has ended (endedAt is set); nothing more is taken"};
  if (auto opened = folder->open_file(file.path, std::string{key} + " " + file.path); !opened)
    return opened.err();
  auto& list = doc[key];
  if (!list.is_array())
    list = json::array();
  for (const auto& e : list)
    if (e.is_object() && e.value("path", "") == file.path && e.value("offsetMs", std::int64_t{-1}) == file.offset_ms)
      return std::nullopt;  // a retried append
  std::size_t entries = 0;
  for (const char* k : {"audio", "video", "screenshots"})
    if (auto it = doc.find(k); it != doc.end() && it->is_array())
      entries += it->size();
  if (entries >= options.max_entries)
    return error{errc::bad_input, manifest_path + ": already lists " + std::to_string(entries) +
                                      " files; postroll takes at most " + std::to_string(options.max_entries)};
  list.push_back({{"path", file.path}, {"offsetMs", file.offset_ms}});
  return replace_manifest(*folder, doc.dump(2) + "\n");
}

maybe_error end_manifest(const fs::path& dir, std::int64_t ended_at) {
  manifest_options o;
  o.max_entries = SIZE_MAX;
  o.max_session_ms = max_session_ms_limit;
  auto cur = current(dir, o);
  if (!cur)
    return cur.err();
  auto& [doc, folder] = *cur;
  if (doc.contains("endedAt"))
    return std::nullopt;
  doc["endedAt"] = ended_at;
  return replace_manifest(*folder, doc.dump(2) + "\n");
}

}  // namespace postroll
