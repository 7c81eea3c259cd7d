#include "postroll/config.hpp"

#include "config/config_checks.hpp"

#include <functional>
#include <map>
#include <set>

#include <toml++/toml.h>

#include "config/endpoint.hpp"
#include "config/path_map.hpp"

namespace postroll {

namespace {

std::string where(const std::string& file, const toml::node& n, const std::string& key) {
  return file + ":" + std::to_string(n.source().begin.line) + ": key '" + key + "'";
}

using setter = std::function<maybe_error(const toml::node&, const std::string& where)>;

setter string_key(std::string& out) {
  return [&out](const toml::node& n, const std::string& at) -> maybe_error {
    if (!n.is_string())
      return error{errc::bad_input, at + ": expected a string"};
    out = *n.value<std::string>();
    return std::nullopt;
  };
}

setter bool_key(bool& out) {
  return [&out](const toml::node& n, const std::string& at) -> maybe_error {
    if (!n.is_boolean())
      return error{errc::bad_input, at + ": expected true or false"};
    out = *n.value<bool>();
    return std::nullopt;
  };
}

setter string_list_key(std::vector<std::string>& out) {
  return [&out](const toml::node& n, const std::string& at) -> maybe_error {
    const auto* arr = n.as_array();
    if (!arr)
      return error{errc::bad_input, at + ": expected a list of strings"};
    out.clear();
    for (const auto& item : *arr) {
      if (!item.is_string())
        return error{errc::bad_input, at + ": expected a list of strings"};
      out.push_back(*item.value<std::string>());
    }
    return std::nullopt;
  };
}

template <class Int>
setter int_key(Int& out, std::int64_t lo, std::int64_t hi) {
  return [&out, lo, hi](const toml::node& n, const std::string& at) -> maybe_error {
    if (!n.is_integer())
      return error{errc::bad_input, at + ": expected an integer"};
    auto v = *n.value<std::int64_t>();
    if (v < lo || v > hi)
      return error{errc::bad_input, at + ": must be between " + std::to_string(lo) + " and " +
                                      std::to_string(hi) + " (got " + std::to_string(v) + ")"};
    out = static_cast<Int>(v);
    return std::nullopt;
  };
}

setter number_key(double& out, double lo, double hi) {
  return [&out, lo, hi](const toml::node& n, const std::string& at) -> maybe_error {
    if (!n.is_number())
      return error{errc::bad_input, at + ": expected a number"};
    auto v = n.is_integer() ? double(*n.value<std::int64_t>()) : *n.value<double>();
    if (v < lo || v > hi)
      return error{errc::bad_input, at + ": must be between " + std::to_string(lo).substr(0, 4) + " and " +
                                      std::to_string(hi).substr(0, 4)};
    out = v;
    return std::nullopt;
  };
}

setter choice_key(std::string& out, std::set<std::string> allowed) {
  return [&out, allowed](const toml::node& n, const std::string& at) -> maybe_error {
    if (!n.is_string())
      return error{errc::bad_input, at + ": expected a string"};
    auto v = *n.value<std::string>();
    if (!allowed.count(v)) {
      std::string list;
      for (const auto& a : allowed)
        list += (list.empty() ? "" : ", ") + a;
      return error{errc::bad_input, at + ": \"" + v + "\" is not one of: " + list};
    }
    out = v;
    return std::nullopt;
  };
}

// [[enrich.command]] tables: stage, argv, timeout_ms, after.
setter command_list_key(std::vector<config::enricher_command>& out) {
  return [&out](const toml::node& n, const std::string& at) -> maybe_error {
    const auto* arr = n.as_array();
    if (!arr)
      return error{errc::bad_input, at + ": expected [[enrich.command]] tables"};
    out.clear();
    for (const auto& item : *arr) {
      const auto* t = item.as_table();
      if (!t)
        return error{errc::bad_input, at + ": expected [[enrich.command]] tables"};
      config::enricher_command c;
      const std::map<std::string, setter> keys = {{"stage", string_key(c.stage)},
                                                  {"argv", string_list_key(c.argv)},
                                                  {"timeout_ms", int_key(c.timeout_ms, 100, 86400000)},
                                                  {"after", string_list_key(c.after)}};
      for (const auto& [key, value] : *t) {
        auto k = keys.find(std::string{key.str()});
        if (k == keys.end())
          return error{errc::bad_input, at + "." + std::string{key.str()} + ": unknown key"};
        if (auto err = k->second(value, at + "." + std::string{key.str()}))
          return err;
      }
      if (c.stage.rfind("enrich.", 0) != 0 || c.stage.size() <= 7)
        return error{errc::bad_input, at + ": stage must be \"enrich.<name>\" (got \"" + c.stage + "\")"};
      if (c.argv.empty())
        return error{errc::bad_input, at + ": argv must name a program"};
      out.push_back(std::move(c));
    }
    return std::nullopt;
  };
}

}  // namespace

result<config> load_config(const std::string& path) { return load_config(path, config{}); }

result<config> load_config(const std::string& path, const config& defaults) {
  config cfg = defaults;
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return error{errc::bad_input, path + ":" + std::to_string(e.source().begin.line) + ": " +
                                    std::string{e.description()}};
  }
  std::string silence_mode = cfg.undecodable_as_silence ? "silence" : "fail";
  std::string role = cfg.role;
  const std::map<std::string, std::map<std::string, setter>> keys = {
    {"node",
     {{"data_dir", string_key(cfg.data_dir)},
      {"role", choice_key(role, {"standalone", "coordinator", "worker"})},
      {"id", string_key(cfg.id)},
      {"host", string_key(cfg.host)},
      {"port", int_key(cfg.port, 0, 65535)}}},
    {"cluster",
     {{"coordinator", string_key(cfg.coordinator)},
      {"path_map", string_list_key(cfg.path_map)},
      {"lease_ms", int_key(cfg.lease_ms, 500, 3600000)},
      {"adopt_ms", int_key(cfg.adopt_ms, -1, 3600000)},
      {"reconnect_max_ms", int_key(cfg.reconnect_max_ms, 100, 3600000)}}},
    {"tls",
     {{"certificate", string_key(cfg.tls_certificate)},
      {"key", string_key(cfg.tls_key)},
      {"ca", string_key(cfg.tls_ca)}}},
    {"media",
     {{"workers", int_key(cfg.media_workers, 0, 64)},
      {"output_dir", string_key(cfg.output_dir)},
      {"undecodable_segments", choice_key(silence_mode, {"fail", "silence"})},
      {"decode_threads", int_key(cfg.decode_threads, 1, 64)},
      {"compress", bool_key(cfg.compress)},
      {"quality", choice_key(cfg.quality, {"low", "medium", "high"})},
      {"encoders", string_list_key(cfg.encoders)},
      {"repair_reference", string_key(cfg.repair_reference)},
      {"max_session_hours", int_key(cfg.max_session_hours, 1, 168)},
      {"max_session_files", int_key(cfg.max_session_files, 1, 1000000)},
      {"playable", choice_key(cfg.playable, {"fast", "compressed"})},
      {"video_gaps", choice_key(cfg.video_gaps, {"hold", "black"})},
      {"max_video_width", int_key(cfg.max_video_width, 160, 16384)},
      {"max_video_height", int_key(cfg.max_video_height, 90, 16384)},
      {"audio_rate", int_key(cfg.audio_rate, 0, 48000)}}},
    {"storage",
     {{"retention", choice_key(cfg.retention, {"keep", "trash", "delete"})},
      {"trash_days", int_key(cfg.trash_days, 0, 3650)},
      {"purge_interval_ms", int_key(cfg.purge_interval_ms, 1000, 7 * 86400000LL)}}},
    {"queue",
     {{"max_attempts", int_key(cfg.max_attempts, 1, 100)},
      {"retry_base_ms", int_key(cfg.retry_base_ms, 0, 86400000)},
      {"retry_cap_ms", int_key(cfg.retry_cap_ms, 0, 86400000)},
      {"aging_ms", int_key(cfg.aging_ms, 0, 7 * 86400000LL)},
      {"stall_timeout_ms", int_key(cfg.stall_timeout_ms, 0, 86400000)},
      {"cancel_grace_ms", int_key(cfg.cancel_grace_ms, 0, 600000)},
      {"min_free_factor", number_key(cfg.min_free_factor, 0, 100)},
      {"disk_wait_ms", int_key(cfg.disk_wait_ms, 0, 30 * 86400000LL)},
      {"preempt", bool_key(cfg.preempt)},
      {"preempt_window_ms", int_key(cfg.preempt_window_ms, 0, 7 * 86400000LL)}}},
    {"enrich",
     {{"enabled", bool_key(cfg.enrich)},
      {"workers", int_key(cfg.enrich_workers, 0, 64)},
      {"max_jobs", int_key(cfg.max_enrich_jobs, 0, 10000)},
      {"min_audio_ms", int_key(cfg.min_audio_ms, 0, 86400000)},
      {"speech_model", string_key(cfg.speech_model)},
      {"asr_speed", choice_key(cfg.asr_speed, {"fast", "balanced", "accurate"})},
      {"asr_threads", int_key(cfg.asr_threads, 0, 64)},
      {"screen_vocabulary", number_key(cfg.screen_vocabulary, 0, 0.5)},
      {"min_chapter_ms", int_key(cfg.min_chapter_ms, 0, 86400000)},
      {"scene_threshold", number_key(cfg.scene_threshold, 0.001, 1)},
      {"ocr_language", string_key(cfg.ocr_language)},
      {"summary_sentences", int_key(cfg.summary_sentences, 1, 100)},
      {"chat_url", string_key(cfg.chat_url)},
      {"chat_model", string_key(cfg.chat_model)},
      {"chat_key_env", string_key(cfg.chat_key_env)},
      {"chat_timeout_ms", int_key(cfg.chat_timeout_ms, 100, 3600000)},
      {"canvas_format", choice_key(cfg.canvas_format, {"jpg", "png"})},
      {"command", command_list_key(cfg.enrich_commands)}}},
    {"live",
     {{"workers", int_key(cfg.live_workers, 0, 1000)},
      {"idle_timeout_ms", int_key(cfg.live_idle_timeout_ms, 0, 7 * 86400000LL)}}},
    {"notify",
     {{"desktop", bool_key(cfg.desktop_notifications)},
      {"webhook_url", string_key(cfg.webhook_url)},
      {"webhook_timeout_ms", int_key(cfg.webhook_timeout_ms, 100, 600000)},
      {"webhook_attempts", int_key(cfg.webhook_attempts, 1, 20)},
      {"webhook_secret_env", string_key(cfg.webhook_secret_env)},
      {"command", string_list_key(cfg.notify_command)},
      {"command_timeout_ms", int_key(cfg.notify_command_timeout_ms, 100, 3600000)}}},
    {"http",
     {{"enabled", bool_key(cfg.http)},
      {"port", int_key(cfg.http_port, 0, 65535)},
      {"session_roots", string_list_key(cfg.session_roots)},
      {"token_env", string_key(cfg.http_token_env)},
      {"web_dir", string_key(cfg.web_dir)},
      {"allowed_hosts", string_list_key(cfg.allowed_hosts)},
      {"cors_origins", string_list_key(cfg.cors_origins)},
      {"max_connections", int_key(cfg.http_max_connections, 8, 100000)},
      {"max_event_streams", int_key(cfg.http_max_event_streams, 1, 10000)}}},
    {"log", {{"level", choice_key(cfg.log_level, {"trace", "debug", "info", "warn", "error", "off"})}}},
  };
  for (const auto& [section, node] : doc) {
    std::string name{section.str()};
    auto sec = keys.find(name);
    if (sec == keys.end())
      return error{errc::bad_input, where(path, node, name) + ": unknown section"};
    const toml::table* table = node.as_table();
    if (!table)
      return error{errc::bad_input, where(path, node, name) + ": expected a [" + name + "] table"};
    for (const auto& [key, value] : *table) {
      std::string full = name + "." + std::string{key.str()};
      auto k = sec->second.find(std::string{key.str()});
      if (k == sec->second.end())
        return error{errc::bad_input, where(path, value, full) + ": unknown key"};
      if (auto err = k->second(value, where(path, value, full)))
        return *err;
    }
  }
  cfg.undecodable_as_silence = silence_mode == "silence";
  cfg.role = role;
  if (auto err = validate(cfg))
    return error{errc::bad_input, path + ": " + err->message};
  return cfg;
}

maybe_error check_output_dir(const std::string& output_dir) {
  if (output_dir.empty() || output_dir.find("..") != std::string::npos || output_dir.front() == '/')
    return error{errc::bad_input, "media.output_dir must be a relative folder inside the session"};
  return std::nullopt;
}

maybe_error check_retention(const std::string& policy) {
  if (policy != "keep" && policy != "trash" && policy != "delete")
    return error{errc::bad_input, "unknown retention \"" + policy + "\" (keep, trash, delete)"};
  return std::nullopt;
}

maybe_error validate(const config& cfg) {
  if (cfg.data_dir.empty())
    return error{errc::bad_input, "node.data_dir must not be empty"};
  if (auto err = check_output_dir(cfg.output_dir))
    return err;
  if (cfg.audio_rate != 0 && cfg.audio_rate != 8000 && cfg.audio_rate != 16000 && cfg.audio_rate != 22050 &&
      cfg.audio_rate != 24000 && cfg.audio_rate != 32000 && cfg.audio_rate != 44100 && cfg.audio_rate != 48000)
    return error{errc::bad_input, "media.audio_rate must be 0 (from the inputs) or one of 8000, 16000, 22050, 24000, "
                                  "32000, 44100, 48000"};
  if (cfg.retry_cap_ms < cfg.retry_base_ms)
    return error{errc::bad_input, "queue.retry_cap_ms must be >= queue.retry_base_ms"};
  if (!cfg.chat_url.empty() && cfg.chat_model.empty())
    return error{errc::bad_input, "enrich.chat_url needs enrich.chat_model"};
  if (cfg.role != "standalone" && cfg.role != "coordinator" && cfg.role != "worker")
    return error{errc::bad_input, "node.role must be standalone, coordinator or worker (got \"" + cfg.role + "\")"};
  if (cfg.role == "worker" && cfg.coordinator.empty())
    return error{errc::bad_input, "cluster.coordinator must name the coordinator (HOST:PORT) on a worker node"};
  for (const auto& m : cfg.path_map) {
    std::pair<std::string, std::string> pair;
    if (!path_map::parse_pair(m, pair))
      return error{errc::bad_input, "cluster.path_map: \"" + m +
                                      "\" must be COORDINATOR_PREFIX=LOCAL_PREFIX, both absolute"};
  }
  int tls_parts = !cfg.tls_certificate.empty() + !cfg.tls_key.empty() + !cfg.tls_ca.empty();
  if (tls_parts != 0 && tls_parts != 3)
    return error{errc::bad_input, "tls: certificate, key and ca go together (all three or none)"};
  if (tls_parts == 0 && !is_loopback(cfg.host) && cfg.role != "worker")
    return error{errc::bad_input, "node.host " + cfg.host +
                                    " is off loopback: set [tls] certificate, key and ca (nodes talk over TLS there)"};
  if (cfg.role == "worker") {
    auto coordinator = parse_endpoint(cfg.coordinator);
    if (!coordinator)
      return error{errc::bad_input, "cluster.coordinator must be HOST:PORT (got \"" + cfg.coordinator + "\")"};
    if (tls_parts == 0 && !is_loopback(coordinator->first))
      return error{errc::bad_input, "cluster.coordinator " + cfg.coordinator +
                                      " is off loopback: set [tls] certificate, key and ca"};
  }
  std::set<std::string> stages = {"enrich.audio_review", "enrich.chapters", "enrich.summary", "enrich.canvas"};
  for (const auto& c : cfg.enrich_commands) {
    for (const auto& a : c.after)
      if (!stages.count(a))
        return error{errc::bad_input, "enrich.command " + c.stage + ": \"after\" names " + a +
                                        ", which is not an enrichment stage defined before it"};
    stages.insert(c.stage);
  }
  return std::nullopt;
}

}  // namespace postroll
