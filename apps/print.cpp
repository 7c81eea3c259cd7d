#include "apps/print.hpp"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/cli.hpp"
#include "postroll/stage_results.hpp"
#include "postroll/stages.hpp"
#include "session/output_file.hpp"
#include "storage/job_codec.hpp"

namespace fs = std::filesystem;

namespace postroll::cli {

namespace {

// Disk accounting: the recording as submitted, what postroll wrote and
// retention reclaimed (both in the record), and the session folder now.
void print_sizes(const job_record& j, std::ostream& out) {
  std::error_code ec;
  if (!fs::is_directory(j.session_dir, ec))
    return;
  out << "  size: recording " << megabytes(j.media_bytes) << ", session folder now " << megabytes(folder_bytes(j.session_dir));
  if (j.state == job_state::completed)
    out << " (postroll wrote " << megabytes(j.bytes_written)
        << (j.bytes_reclaimed ? ", retention reclaimed " + megabytes(j.bytes_reclaimed) : "") << ")";
  out << "\n";
}

}  // namespace

void print_repairs(const job_record& j, std::ostream& out) {
  auto* s = find_stage(j, stage_repair);
  if (!s)
    return;
  for (const auto& f : repairs_of(s->result))
    if (f.silence)
      out << "  " << f.file << ": nothing recoverable (" << f.reason << "); silence for about " << f.seconds_lost
          << " s\n";
    else
      out << "  repaired " << f.file << " (" << f.damage << "): " << f.seconds_recovered << " s recovered, about "
          << f.seconds_lost << " s lost (" << f.bytes_lost << " bytes)\n";
}

std::string compression_note(const job_record& j) {
  auto* s = find_stage(j, stage_compress);
  auto note = s ? compress_result_of(s->result).note() : std::string{};
  return note.empty() ? note : "  (" + note + ")";
}

void print_record(const job_record& j, bool as_json) {
  if (as_json) {
    std::cout << to_json_value(j).dump(2) << "\n";
    return;
  }
  std::cout << j.id << "  " << (j.live ? "recording" : to_string(j.state)) << "  " << j.session_id << "  "
            << j.session_dir << "\n";
  for (const auto& s : j.stages) {
    std::cout << "  " << s.name << "  " << to_string(s.state) << "  attempts " << s.attempts;
    if (!s.node.empty())
      std::cout << "  on " << s.node;
    if (s.finished_at && s.started_at)
      std::cout << "  " << (s.finished_at - s.started_at) << " ms";
    if (s.name == "media.compress") {
      job_record one;
      one.stages = {s};
      std::cout << compression_note(one);
    }
    if (!s.error.empty())
      std::cout << "  (" << s.error << ")";
    std::cout << "\n";
  }
  print_repairs(j, std::cout);
  print_sizes(j, std::cout);
  if (!j.output.empty())
    std::cout << "  output: " << j.output << "\n";
  if (!j.error.empty())
    std::cout << "  error: " << j.error << "\n";
}

int print_nodes(runtime& r, bool as_json) {
  auto nodes = r.nodes();
  if (!nodes)
    return fail(nodes.err());
  if (as_json) {
    auto arr = nlohmann::json::array();
    for (const auto& n : *nodes)
      arr.push_back(to_json_value(n));
    std::cout << arr.dump(2) << "\n";
    return exit_ok;
  }
  for (const auto& n : *nodes) {
    std::cout << n.id << (n.local ? "  (coordinator's own workers)" : "  worker") << "  load " << n.running << "/"
              << n.slots << "  completed " << n.completed << "  failed " << n.failed << "\n";
    std::cout << "  " << n.cores << " cores, " << n.media_workers << " media + " << n.enrich_workers
              << " enrichment workers, encoder "
              << (n.encoders.empty() ? std::string{"none"} : n.encoders.front() + (n.hardware_encoder ? " (hardware)" : ""))
              << (n.free_bytes >= 0 ? ", " + megabytes(n.free_bytes) + " free" : "") << "\n";
    std::string stages;
    for (const auto& s : n.stages)
      stages += (stages.empty() ? "" : ", ") + s;
    std::cout << "  stages: " << (stages.empty() ? "none" : stages) << "\n";
    for (const auto& p : n.paths)
      std::cout << "  path: " << p << "\n";
    for (const auto& l : n.leases)
      std::cout << "  running: " << l << "\n";
  }
  return exit_ok;
}

int exit_code_for(const job_record& j) {
  if (j.state == job_state::completed)
    return exit_ok;
  if (j.state == job_state::failed && j.error_code == errc::bad_input)
    return exit_bad_input;
  return exit_failure;
}


void print_history(const std::vector<journal_entry>& entries, bool as_json) {
  auto arr = nlohmann::json::array();
  for (const auto& e : entries) {
    if (as_json) {
      arr.push_back({{"seq", e.seq}, {"time", e.time}, {"from", e.from}, {"to", e.to}, {"reason", e.reason}});
      continue;
    }
    std::time_t secs = std::time_t(e.time / 1000);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&secs));
    std::cout << when << "." << std::setw(3) << std::setfill('0') << e.time % 1000 << std::setfill(' ') << "  "
              << std::left << std::setw(10) << (e.from.empty() ? "-" : e.from) << " -> " << std::setw(10)
              << e.to << std::right << "  " << e.reason << "\n";
  }
  if (as_json)
    std::cout << arr.dump(2) << "\n";
}

}  // namespace postroll::cli
