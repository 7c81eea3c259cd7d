// `postroll --version`: what this binary is. `postroll doctor`: whether this
// machine can run it with the config it would use, and what to install.
#include <unistd.h>

#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "apps/build_info.hpp"
#include "apps/commands.hpp"
#include "enrichment/screen_text.hpp"
#include "enrichment/transcript/speech_recognizer.hpp"
#include "net/notification_sender.hpp"
#include "pipelines/encoder_choice.hpp"
#include "pipelines/media_requirements.hpp"
#include "session/output_file.hpp"
#include "storage/job_store.hpp"
#include "storage/lock_holder.hpp"

namespace fs = std::filesystem;

namespace postroll::cli {

namespace {

std::string joined(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& i : items)
    out += (out.empty() ? "" : sep) + i;
  return out;
}

// One finding of doctor.
struct check {
  enum level { ok, note, warn, missing } status = ok;
  std::string what;    ///< "GStreamer elements", "speech model", ...
  std::string detail;  ///< what was found, or what is wrong and what it breaks
  std::vector<std::string> packages;  ///< Debian packages that fix it

  static const char* word(level l) { return l == ok ? "ok" : l == note ? "note" : l == warn ? "warn" : "MISSING"; }
};

// The nearest folder of `p` that exists (the data folder may be made later).
fs::path existing_part(fs::path p) {
  std::error_code ec;
  while (!p.empty() && !fs::exists(p, ec) && p != p.root_path())
    p = p.parent_path();
  return p.empty() ? fs::path{"/"} : p;
}

void check_elements(std::vector<check>& out) {
  // Missing ones by the package that brings them: one line, one fix each.
  std::map<std::string, std::vector<std::string>> missing;
  std::size_t present = 0;
  for (const auto& need : needed_elements()) {
    if (element_present(need.element))
      ++present;
    else
      missing[need.package].push_back(std::string{need.element} + " (" + need.purpose + ")");
  }
  out.push_back({missing.empty() ? check::ok : check::missing, "GStreamer " + gstreamer_version(),
                 std::to_string(present) + " of " + std::to_string(needed_elements().size()) +
                   " elements postroll uses are installed",
                 {}});
  for (const auto& [package, elements] : missing)
    out.push_back({check::missing, package, "not installed: " + joined(elements), {package}});
}

void check_encoders(const config& cfg, std::vector<check>& out) {
  auto found = find_encoders(cfg.encoders);
  std::vector<std::string> hardware;
  for (const auto& e : found.h264)
    if (!is_software_encoder(e))
      hardware.push_back(e);
  if (!cfg.compress) {
    out.push_back({check::note, "H.264 encoder", "not needed: media.compress = false", {}});
  } else if (found.chosen.empty()) {
    out.push_back({check::missing, "H.264 encoder",
                   "none of " + joined(cfg.encoders.empty() ? default_encoder_ranking() : cfg.encoders) +
                     " works here: sessions stay as merged, not compressed",
                   {"gstreamer1.0-plugins-ugly"}});
  } else {
    out.push_back({check::ok, "H.264 encoder",
                   found.chosen + (is_software_encoder(found.chosen) ? " (software)" : " (hardware)") +
                     " for media.compress" +
                     (hardware.empty() ? "; no hardware encoder found (gstreamer1.0-vaapi adds VA-API ones)"
                                       : "; hardware: " + joined(hardware)),
                   {}});
  }
}

void check_enrichment(const config& cfg, std::vector<check>& out) {
  if (!cfg.enrich) {
    out.push_back({check::note, "enrichment", "off (enrich.enabled = false): no speech or OCR model needed", {}});
    return;
  }
  recognizer_options ro;
  ro.model_dir = cfg.speech_model;
  ro.speed = cfg.asr_speed;
  auto asr = speech_recognizer::open(ro);
  if (asr)
    out.push_back({check::ok, "speech recognition", cfg.speech_model + " (enrich.speech_model)", {}});
  else
    out.push_back({check::missing, "speech recognition", asr.err().message + "; no transcripts without it",
                   cfg.speech_model == config{}.speech_model ? std::vector<std::string>{"pocketsphinx-en-us"}
                                                             : std::vector<std::string>{}});
  auto ocr = screen_reader::open(cfg.ocr_language);
  if (ocr) {
    out.push_back({check::ok, "OCR language data", cfg.ocr_language + " (enrich.ocr_language), Tesseract " +
                                                     screen_reader::engine_version(), {}});
  } else {
    std::vector<std::string> packages;
    for (const auto& lang : missing_ocr_languages(cfg.ocr_language))
      packages.push_back("tesseract-ocr-" + lang);
    out.push_back({check::missing, "OCR language data", ocr.err().message + "; screen text is not read", packages});
  }
}

void check_data_dir(const resolved_config& rc, std::vector<check>& out) {
  const auto& dir = rc.data_dir.path;
  std::string where = dir.string() + " (" + rc.data_dir.source + ")";
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    auto parent = existing_part(dir);
    bool writable = ::access(parent.c_str(), W_OK) == 0;
    out.push_back({writable ? check::ok : check::missing, "job database",
                   where + (writable ? ": made at the first job" : ": cannot be made, " + parent.string() +
                                                                      " is not writable (--data-dir names another)"),
                   {}});
  } else if (::access(dir.c_str(), W_OK) != 0) {
    out.push_back({check::missing, "job database", where + ": not writable by this user", {}});
  } else if (!holds_database(dir)) {
    out.push_back({check::ok, "job database", where + ": empty, made at the first job", {}});
  } else {
    std::string state;
    if (auto store = job_store::open_read_only(dir)) {
      auto counts = (*store)->count_by_state();
      std::uint64_t total = 0;
      for (auto n : counts.by_state)
        total += n;
      state = std::to_string(total) + (total == 1 ? " job (" : " jobs (") +
              std::to_string(counts[job_state::pending] + counts[job_state::processing]) + " unfinished), " +
              megabytes(folder_bytes(dir));
    } else {
      state = store.err().message;
    }
    auto holder = database_lock_holder(dir);
    out.push_back({check::ok, "job database",
                   where + ": " + state + (holder ? "; in use by " + holder->describe() : "; not in use"), {}});
  }
  auto at = existing_part(dir);
  if (auto free_bytes = volume_free_bytes(at)) {
    bool low = *free_bytes < (std::int64_t(1) << 30);
    char gb[32];
    std::snprintf(gb, sizeof gb, "%.1f GB", double(*free_bytes) / 1e9);
    out.push_back({low ? check::warn : check::ok, "disk",
                   std::string{gb} + " free at " + at.string() +
                     (low ? ": a job database needs little, but outputs go beside each session" : ""),
                   {}});
  }
}

void check_services(const resolved_config& rc, std::vector<check>& out) {
  const auto& cfg = rc.cfg;
  auto rt = runtime::connect(cfg.host, cfg.port, cfg);
  std::string at = cfg.host + ":" + std::to_string(cfg.port);
  out.push_back(rt ? check{check::ok, "node", "one answers at " + at + ": client commands use it", {}}
                   : check{check::note, "node",
                           "none at " + at + ": client commands use the job database; `postroll node` starts one",
                           {}});
  if (cfg.desktop_notifications)
    out.push_back(session_bus_present()
                    ? check{check::ok, "desktop notifications", "a D-Bus session bus is there", {}}
                    : check{check::note, "desktop notifications", "no D-Bus session bus: none are shown", {}});
}

}  // namespace

int cmd_version(const args& a) {
  auto b = this_build();
  auto enc = find_encoders();
  if (a.json) {
    nlohmann::json libs = nlohmann::json::object();
    for (const auto& [name, version] : b.libraries)
      libs[name] = version;
    std::cout << nlohmann::json{{"version", b.version},
                                {"commit", b.commit},
                                {"libraries", libs},
                                {"h264Encoders", enc.h264},
                                {"h264Encoder", enc.chosen},
                                {"aacEncoders", enc.aac}}
                   .dump(2)
              << "\n";
    return exit_ok;
  }
  std::cout << "postroll " << b.version << " (commit " << b.commit << ")\n";
  std::vector<std::string> libs;
  for (const auto& [name, version] : b.libraries)
    libs.push_back(name + " " + version);
  std::cout << "libraries: " << joined(libs) << "\n";
  std::cout << "H.264 encoders: " << (enc.h264.empty() ? "none" : joined(enc.h264))
            << (enc.chosen.empty() ? "; none usable (videos are not compressed)" : "; compress uses " + enc.chosen)
            << "\n";
  std::cout << "AAC encoders: " << (enc.aac.empty() ? "none" : joined(enc.aac)) << "\n";
  return exit_ok;
}

int cmd_doctor(const args& a) {
  std::vector<check> checks;
  auto rc = resolve_config(a);
  resolved_config fallback;
  if (!rc) {
    // The rest is still worth knowing: checked with the defaults.
    checks.push_back({check::missing, "config", rc.err().message, {}});
    args plain = a;
    plain.options.erase("config");
    auto defaults = resolve_config(plain);
    if (!defaults)
      return fail(defaults.err());
    fallback = *defaults;
  } else {
    checks.push_back({check::ok, "config",
                      rc->config_file.empty() ? "no config file; the defaults (docs/configuration.md)"
                                              : rc->config_file,
                      {}});
  }
  const auto& used = rc ? *rc : fallback;
  check_elements(checks);
  check_encoders(used.cfg, checks);
  check_enrichment(used.cfg, checks);
  check_data_dir(used, checks);
  check_services(used, checks);

  std::set<std::string> packages;
  bool broken = false;
  for (const auto& c : checks) {
    broken = broken || c.status == check::missing;
    if (c.status == check::missing)
      packages.insert(c.packages.begin(), c.packages.end());
  }
  std::string fix = packages.empty() ? "" : "apt install " + joined({packages.begin(), packages.end()}, " ");
  if (a.json) {
    auto arr = nlohmann::json::array();
    for (const auto& c : checks)
      arr.push_back({{"status", check::word(c.status)}, {"what", c.what}, {"detail", c.detail}, {"packages", c.packages}});
    std::cout << nlohmann::json{{"ok", !broken}, {"checks", arr}, {"fix", fix}}.dump(2) << "\n";
    return broken ? exit_failure : exit_ok;
  }
  for (const auto& c : checks)
    std::cout << "  " << std::left << std::setw(8) << check::word(c.status) << std::right << c.what << ": "
              << c.detail << (c.status == check::missing && !c.packages.empty() ? " [" + joined(c.packages) + "]" : "")
              << "\n";
  if (!fix.empty())
    std::cout << "\nTo fix: " << fix << "\n";
  else if (broken)
    std::cout << "\nSomething postroll needs is missing (MISSING above).\n";
  else
    std::cout << "\nThis machine can run postroll.\n";
  return broken ? exit_failure : exit_ok;
}

}  // namespace postroll::cli
