#include "postroll/stage_results.hpp"

#include <nlohmann/json.hpp>

namespace postroll {

namespace {

nlohmann::json object_of(const std::string& text) {
  auto v = nlohmann::json::parse(text, nullptr, false);
  return v.is_object() ? v : nlohmann::json::object();
}

template <class T>
T get(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end())
    return fallback;
  if constexpr (std::is_same_v<T, std::string>)
    return it->is_string() ? it->template get<std::string>() : fallback;
  else if constexpr (std::is_same_v<T, bool>)
    return it->is_boolean() ? it->template get<bool>() : fallback;
  else
    return it->is_number() ? it->template get<T>() : fallback;
}

}  // namespace

std::string compress_result::note() const {
  if (replaced || compressed_by_merge || reason.empty())
    return {};
  return "not compressed: " + reason;
}

compress_result compress_result_of(const std::string& result_json) {
  auto j = object_of(result_json);
  compress_result r;
  r.replaced = get(j, "replaced", false);
  r.compressed_by_merge = get(j, "compressedByMerge", false);
  r.reason = get(j, "reason", std::string{});
  r.bytes_before = get(j, "bytesBefore", std::int64_t{0});
  r.bytes_after = get(j, "bytesAfter", std::int64_t{0});
  return r;
}

std::vector<repaired_file> repairs_of(const std::string& result_json) {
  std::vector<repaired_file> out;
  auto j = object_of(result_json);
  auto list = j.find("repairs");
  if (list == j.end() || !list->is_array())
    return out;
  for (const auto& f : *list) {
    if (!f.is_object())
      continue;
    repaired_file r;
    r.file = get(f, "file", std::string{});
    r.damage = get(f, "damage", std::string{});
    r.silence = get(f, "silence", false);
    r.reason = get(f, "reason", std::string{});
    r.seconds_recovered = get(f, "secondsRecovered", 0.0);
    r.seconds_lost = get(f, "secondsLostEstimate", 0.0);
    r.bytes_lost = get(f, "bytesLost", std::int64_t{0});
    out.push_back(std::move(r));
  }
  return out;
}

retention_result retention_result_of(const std::string& result_json) {
  auto j = object_of(result_json);
  retention_result r;
  r.trash = get(j, "trash", std::string{});
  r.at = get(j, "at", std::int64_t{0});
  r.bytes_reclaimed = get(j, "bytesReclaimed", std::int64_t{0});
  return r;
}

std::int64_t output_bytes_of(const std::string& result_json) {
  return get(object_of(result_json), "outputBytes", std::int64_t{0});
}

std::string with_output_bytes(const std::string& result_json, std::int64_t bytes) {
  auto j = object_of(result_json);
  j["outputBytes"] = bytes;
  return j.dump();
}

std::string output_file_of(const std::string& result_json) { return get(object_of(result_json), "file", std::string{}); }

const stage_record* find_stage(const job_record& job, const std::string& name) {
  for (const auto& s : job.stages)
    if (s.name == name)
      return &s;
  return nullptr;
}

}  // namespace postroll
