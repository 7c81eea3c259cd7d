#include "session/session_removal.hpp"

#include <nlohmann/json.hpp>

#include "session/failpoint.hpp"
#include "session/manifest.hpp"

namespace postroll {

namespace fs = std::filesystem;

maybe_error remove_session_files(const fs::path& session_dir, const std::string& output_dir, bool originals) {
  auto folder = session_folder::open(session_dir);
  if (!folder) {
    std::error_code ec;
    return fs::exists(session_dir, ec) ? maybe_error{folder.err()} : std::nullopt;  // already gone
  }
  const auto& f = **folder;
  if (originals) {
    // The manifest as written (not validated: after a crash some of its
    // files are already gone). It goes last, so a re-run still reads it.
    // Every deletion is confined to the folder (session_folder).
    nlohmann::json doc;
    if (auto file = f.open_file(manifest_file_name, ""))
      if (auto text = file->read_all(max_manifest_bytes))
        doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_object())
      for (const char* kind : {"video", "audio", "screenshots"})
        for (const auto& entry : doc.value(kind, nlohmann::json::array())) {
          auto rel = entry.is_object() && entry.contains("path") && entry["path"].is_string()
                         ? entry["path"].get<std::string>() : std::string{};
          if (rel.empty())
            continue;
          if (auto err = f.remove_file(rel)) {
            if (err->message.find("outside the session folder") != std::string::npos)
              continue;  // never outside the session folder
            return err;
          }
          failpoint("remove.file");
          // A folder the recorder made for its files goes once empty.
          for (auto dir = fs::path{rel}.parent_path(); !dir.empty(); dir = dir.parent_path())
            f.remove_if_empty(dir.string());
        }
  }
  if (auto err = f.remove_tree(output_dir))
    return err;
  failpoint("remove.outputs");
  if (originals) {
    if (auto err = f.remove_file(manifest_file_name))
      return err;
    std::error_code ec;
    if (fs::is_directory(f.path(), ec) && fs::is_empty(f.path(), ec))
      fs::remove(f.path(), ec);
  }
  return std::nullopt;
}

}  // namespace postroll
