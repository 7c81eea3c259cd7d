#include "pipelines/session_removal.hpp"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "pipelines/failpoint.hpp"
#include "session/manifest.hpp"

namespace postroll {

namespace fs = std::filesystem;

maybe_error remove_session_files(const fs::path& session_dir, const std::string& output_dir, bool originals) {
  std::error_code ec;
  if (originals) {
    // The manifest as written (not validated: after a crash some of its
    // files are already gone). It goes last, so a re-run still reads it.
    std::ifstream in(session_dir / manifest_file_name);
    auto doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_object())
      for (const char* kind : {"video", "audio", "screenshots"})
        for (const auto& f : doc.value(kind, nlohmann::json::array())) {
          auto rel = f.is_object() ? f.value("path", "") : "";
          auto file = fs::weakly_canonical(session_dir / rel, ec);
          auto root = fs::weakly_canonical(session_dir, ec).string() + "/";
          if (rel.empty() || file.string().compare(0, root.size(), root) != 0)
            continue;  // never outside the session folder
          if (!fs::remove(file, ec) && ec)
            return error{errc::io, file.string() + ": cannot delete: " + ec.message()};
          failpoint("remove.file");
          // A folder the recorder made for its files goes once empty.
          for (auto dir = file.parent_path(); dir.string().size() > root.size(); dir = dir.parent_path())
            if (!fs::is_empty(dir, ec) || !fs::remove(dir, ec))
              break;
        }
  }
  fs::remove_all(session_dir / output_dir, ec);
  if (ec)
    return error{errc::io, (session_dir / output_dir).string() + ": cannot delete: " + ec.message()};
  failpoint("remove.outputs");
  if (originals) {
    if (!fs::remove(session_dir / manifest_file_name, ec) && ec)
      return error{errc::io, (session_dir / manifest_file_name).string() + ": cannot delete: " + ec.message()};
    if (fs::is_directory(session_dir, ec) && fs::is_empty(session_dir, ec))
      fs::remove(session_dir, ec);
  }
  return std::nullopt;
}

}  // namespace postroll
