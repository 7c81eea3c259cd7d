#include "storage/job_codec.hpp"

#include <array>

using json = nlohmann::json;

namespace postroll {

namespace {
constexpr std::array<const char*, 5> state_names = {"pending", "processing", "completed", "failed",
                                                    "cancelled"};
constexpr std::array<const char*, 3> priority_names = {"high", "normal", "low"};
constexpr std::array<const char*, 7> errc_names = {"bad_input", "not_found", "media", "io",
                                                   "cancelled", "unavailable", "internal"};
// Record schema; bump when a field changes meaning.
constexpr int record_schema = 1;

json result_value(const std::string& text) {
  if (text.empty())
    return nullptr;
  auto v = json::parse(text, nullptr, false);
  return v.is_discarded() ? json(text) : v;
}
}  // namespace

const char* to_string(job_state s) noexcept { return state_names[size_t(s)]; }
const char* to_string(priority p) noexcept { return priority_names[size_t(p)]; }
const char* to_string(errc c) noexcept {
  auto i = size_t(c) - 1;
  return i < errc_names.size() ? errc_names[i] : "unknown";
}

namespace {
// Sets `out` to the enum whose name is `text`. @returns false if none is.
template <class Enum, size_t N>
bool parse_name(const std::array<const char*, N>& names, const std::string& text, Enum& out) noexcept {
  for (size_t i = 0; i < N; ++i)
    if (text == names[i]) {
      out = Enum(i);
      return true;
    }
  return false;
}
}  // namespace

bool parse(const std::string& text, job_state& out) noexcept { return parse_name(state_names, text, out); }
bool parse(const std::string& text, priority& out) noexcept { return parse_name(priority_names, text, out); }

json to_json_value(const job_record& job) {
  json stages = json::array();
  for (const auto& s : job.stages) {
    stages.push_back({{"name", s.name},
                      {"state", to_string(s.state)},
                      {"attempts", s.attempts},
                      {"preemptions", s.preemptions},
                      {"startedAt", s.started_at},
                      {"finishedAt", s.finished_at},
                      {"notBefore", s.not_before},
                      {"error", s.error},
                      {"result", result_value(s.result)},
                      {"needs", s.needs}});
    if (!s.node.empty())
      stages.back()["node"] = s.node;
  }
  json j = {{"schema", record_schema},
            {"id", job.id},
            {"sessionId", job.session_id},
            {"sessionDir", job.session_dir},
            {"sessionName", job.session_name},
            {"state", to_string(job.state)},
            {"priority", to_string(job.prio)},
            {"createdAt", job.created_at},
            {"updatedAt", job.updated_at},
            {"stages", stages},
            {"output", job.output},
            {"mediaBytes", job.media_bytes},
            {"bytesWritten", job.bytes_written},
            {"bytesReclaimed", job.bytes_reclaimed},
            {"cancelRequested", job.cancel_requested},
            {"error", job.error}};
  if (job.state == job_state::failed)
    j["errorCode"] = to_string(job.error_code);
  if (!job.waiting.empty())
    j["waiting"] = job.waiting;
  if (job.live)
    j["live"] = true;
  if (job.removing)
    j["removing"] = job.removing == 2 ? "everything" : "outputs";
  return j;
}

std::string to_json(const job_record& job) { return to_json_value(job).dump(); }

result<job_record> job_from_json(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return error{errc::io, "job record is not valid JSON"};
  try {
    job_record r;
    r.id = j.at("id").get<std::string>();
    r.session_id = j.at("sessionId").get<std::string>();
    r.session_dir = j.at("sessionDir").get<std::string>();
    r.session_name = j.value("sessionName", "");
    if (!parse(j.at("state").get<std::string>(), r.state) ||
        !parse(j.at("priority").get<std::string>(), r.prio))
      return error{errc::io, "job record " + r.id + " has an unknown state or priority"};
    r.created_at = j.at("createdAt").get<std::int64_t>();
    r.updated_at = j.at("updatedAt").get<std::int64_t>();
    r.output = j.value("output", "");
    r.media_bytes = j.value("mediaBytes", std::int64_t{0});
    r.bytes_written = j.value("bytesWritten", std::int64_t{0});
    r.bytes_reclaimed = j.value("bytesReclaimed", std::int64_t{0});
    r.cancel_requested = j.value("cancelRequested", false);
    r.live = j.value("live", false);
    r.error = j.value("error", "");
    if (auto rm = j.find("removing"); rm != j.end() && rm->is_string())
      r.removing = *rm == "everything" ? 2 : 1;
    if (auto c = j.find("errorCode"); c != j.end() && c->is_string()) {
      size_t index = 0;
      if (parse_name(errc_names, c->get<std::string>(), index))
        r.error_code = errc(index + 1);
    }
    for (const auto& s : j.at("stages")) {
      stage_record st;
      st.name = s.at("name").get<std::string>();
      if (!parse(s.at("state").get<std::string>(), st.state))
        return error{errc::io, "job record " + r.id + " has a stage with an unknown state"};
      st.attempts = s.value("attempts", 0);
      st.preemptions = s.value("preemptions", 0);
      st.started_at = s.value("startedAt", std::int64_t{0});
      st.finished_at = s.value("finishedAt", std::int64_t{0});
      st.not_before = s.value("notBefore", std::int64_t{0});
      st.error = s.value("error", "");
      st.node = s.value("node", "");
      if (auto res = s.find("result"); res != s.end() && !res->is_null())
        st.result = res->is_string() ? res->get<std::string>() : res->dump();
      if (auto n = s.find("needs"); n != s.end() && n->is_array()) {
        st.needs = n->get<std::vector<std::string>>();
      } else {
        for (const auto& earlier : r.stages)  // before stage graphs: one after another
          st.needs.push_back(earlier.name);
      }
      r.stages.push_back(std::move(st));
    }
    return r;
  } catch (const json::exception& e) {
    return error{errc::io, std::string{"job record is malformed: "} + e.what()};
  }
}

json to_json_value(const event& e) {
  json j = {{"kind", e.kind}, {"jobId", e.job_id}, {"sessionId", e.session_id}, {"time", e.time}};
  if (!e.stage.empty())
    j["stage"] = e.stage;
  if (e.kind == events::stage_progress || e.kind == events::stage_completed) {
    j["progress"] = e.progress;
    if (e.eta_ms >= 0)
      j["etaMs"] = e.eta_ms;
  }
  if (!e.message.empty())
    j["message"] = e.message;
  if (!e.node.empty())
    j["node"] = e.node;
  return j;
}

std::string to_json(const event& e) { return to_json_value(e).dump(); }

std::string to_json(const node_summary& n) { return to_json_value(n).dump(); }

json to_json_value(const node_summary& n) {
  return {{"id", n.id},         {"local", n.local},       {"version", n.version},
          {"cores", n.cores},   {"freeBytes", n.free_bytes}, {"encoders", n.encoders},
          {"hardwareEncoder", n.hardware_encoder}, {"stages", n.stages}, {"mediaWorkers", n.media_workers},
          {"enrichWorkers", n.enrich_workers}, {"paths", n.paths}, {"joinedAt", n.joined_at},
          {"slots", n.slots},   {"running", n.running},   {"leases", n.leases},
          {"completed", n.completed}, {"failed", n.failed}};
}

}  // namespace postroll
