#include "config/path_map.hpp"

#include <nlohmann/json.hpp>

namespace postroll {

namespace {
std::string without_trailing_slash(std::string p) {
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  return p;
}
}  // namespace

path_map::path_map(std::vector<std::pair<std::string, std::string>> pairs) {
  for (auto& [remote, local] : pairs)
    pairs_.emplace_back(without_trailing_slash(remote), without_trailing_slash(local));
}

// `path` with the folder prefix `from` replaced by `to`; only whole path
// components match (/srv/a does not match /srv/ab).
std::string path_map::swap_prefix(const std::string& path, const std::string& from, const std::string& to) {
  if (path.compare(0, from.size(), from) != 0)
    return {};
  if (path.size() > from.size() && path[from.size()] != '/' && from != "/")
    return {};
  return to + path.substr(from.size());
}

std::string path_map::to_local(const std::string& remote_path) const {
  for (const auto& [remote, local] : pairs_)
    if (auto p = swap_prefix(remote_path, remote, local); !p.empty())
      return p;
  return remote_path;
}

std::string path_map::to_remote(const std::string& local_path) const {
  for (const auto& [remote, local] : pairs_)
    if (auto p = swap_prefix(local_path, local, remote); !p.empty())
      return p;
  return local_path;
}

std::string path_map::to_remote_json(const std::string& json_text) const {
  if (pairs_.empty())
    return json_text;
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded())
    return json_text;
  auto walk = [&](auto& self, nlohmann::json& v) -> void {
    if (v.is_string()) {
      v = to_remote(v.get<std::string>());
    } else if (v.is_array() || v.is_object()) {
      for (auto& child : v)
        self(self, child);
    }
  };
  walk(walk, j);
  return j.dump();
}

bool path_map::parse_pair(const std::string& text, std::pair<std::string, std::string>& out) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size() || text[0] != '/' || text[eq + 1] != '/')
    return false;
  out = {text.substr(0, eq), text.substr(eq + 1)};
  return true;
}

}  // namespace postroll
