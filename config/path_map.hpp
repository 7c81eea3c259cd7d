// Path translation between a coordinator and a worker node: both see the
// same shared session folders, mounted at different places. A worker maps
// the coordinator's prefixes to its own (`cluster.path_map`), runs the stage
// on its own paths and reports paths back in the coordinator's spelling.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace postroll {

class path_map {
public:
  path_map() = default;
  /// Pairs of (coordinator prefix, local prefix).
  explicit path_map(std::vector<std::pair<std::string, std::string>> pairs);

  /// A coordinator path as this node sees it (unchanged when no prefix matches).
  std::string to_local(const std::string& remote_path) const;
  /// A local path as the coordinator sees it (unchanged when no prefix matches).
  std::string to_remote(const std::string& local_path) const;
  /// Every string value of a JSON document that is a local path, in the
  /// coordinator's spelling (a stage result names its output files).
  std::string to_remote_json(const std::string& json_text) const;

  bool empty() const { return pairs_.empty(); }
  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

  /// "REMOTE=LOCAL" as the config spells a pair; false when malformed.
  static bool parse_pair(const std::string& text, std::pair<std::string, std::string>& out);

private:
  static std::string swap_prefix(const std::string& path, const std::string& from, const std::string& to);
  std::vector<std::pair<std::string, std::string>> pairs_;
};

}  // namespace postroll
