// The job routes: submit, list, one job, cancel, retry, delete; nodes,
// health and metrics.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "net/http/api_context.hpp"
#include "net/http/responses.hpp"
#include "session/manifest.hpp"

namespace postroll::http {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// A session folder a client may submit: under one of the roots (when set),
// judged on the folder as opened (the queue checks again on its own open:
// a symlink swapped in between is refused there).
maybe_error check_session_path(const api_options& o, const std::string& dir) {
  if (o.session_roots.empty())
    return std::nullopt;
  auto folder = session_folder::open(dir);
  std::error_code ec;
  // A folder that cannot be opened is judged by its name (the queue names
  // what is wrong with it when it is inside).
  auto real = folder ? (*folder)->path() : fs::weakly_canonical(fs::absolute(dir, ec), ec);
  for (const auto& root : o.session_roots) {
    std::error_code ec;
    auto r = fs::weakly_canonical(fs::absolute(root, ec), ec).string();
    auto p = real.string();
    if (!r.empty() && (p == r || (p.size() > r.size() && p.compare(0, r.size(), r) == 0 && (r.back() == '/' || p[r.size()] == '/'))))
      return std::nullopt;
  }
  return error{errc::bad_input, one_line(dir) + ": not under a configured session root (http.session_roots)"};
}

const json& states_json() {
  static const json out = [] {
    json a = json::array();
    for (auto s : {job_state::pending, job_state::processing, job_state::completed, job_state::failed, job_state::cancelled})
      a.push_back(to_string(s));
    return a;
  }();
  return out;
}

}  // namespace

void add_job_routes(api_server::impl& api) {
  auto& svr = *api.svr;
  auto& rt = api.rt;

  svr.route("GET", "/healthz", [](const request&, response& res) { send_json(res, R"({"ok":true})"); });

  svr.route("GET", "/metrics", [&api, &rt](const request&, response& res) {
    auto counts = rt.counts();
    if (!counts)
      return send_error(res, counts.err());
    std::string out = "# HELP postroll_jobs Jobs by state.\n# TYPE postroll_jobs gauge\n";
    for (auto s : {job_state::pending, job_state::processing, job_state::completed, job_state::failed, job_state::cancelled})
      out += std::string{"postroll_jobs{state=\""} + to_string(s) + "\"} " + std::to_string((*counts)[s]) + "\n";
    out += "# HELP postroll_queue_depth Jobs waiting or running.\n# TYPE postroll_queue_depth gauge\npostroll_queue_depth " +
           std::to_string((*counts)[job_state::pending] + (*counts)[job_state::processing]) + "\n";
    // Per node (scale-out): load, slots, stage results since it joined.
    if (auto nodes = rt.nodes(); nodes && !nodes->empty()) {
      std::string running, slots, done;
      for (const auto& n : *nodes) {
        auto label = "{node=\"" + n.id + "\"}";
        running += "postroll_node_running" + label + " " + std::to_string(n.running) + "\n";
        slots += "postroll_node_slots" + label + " " + std::to_string(n.slots) + "\n";
        done += "postroll_node_stages_total{node=\"" + n.id + "\",result=\"completed\"} " + std::to_string(n.completed) +
                "\npostroll_node_stages_total{node=\"" + n.id + "\",result=\"failed\"} " + std::to_string(n.failed) + "\n";
      }
      out += "# HELP postroll_node_running Stages running on each node.\n# TYPE postroll_node_running gauge\n" + running;
      out += "# HELP postroll_node_slots Stages each node may run at once.\n# TYPE postroll_node_slots gauge\n" + slots;
      out += "# HELP postroll_node_stages_total Stage attempts each node ended since it joined.\n"
             "# TYPE postroll_node_stages_total counter\n" + done;
    }
    out += "# HELP postroll_http_connections Open HTTP connections.\n# TYPE postroll_http_connections gauge\n"
           "postroll_http_connections " + std::to_string(api.svr->connections()) +
           "\n# HELP postroll_http_event_streams Open event streams.\n# TYPE postroll_http_event_streams gauge\n"
           "postroll_http_event_streams " + std::to_string(api.svr->streams()) + "\n";
    out += api.metrics.render([&rt](const std::string& id) -> std::int64_t {
      auto job = rt.status(id);
      return job ? job->media_bytes : 0;  // a job removed since: nothing to count
    });
    res.status = 200;
    res.content_type = "text/plain; version=0.0.4";
    res.body = std::move(out);
  });

  svr.route("GET", "/api/nodes", [&rt](const request&, response& res) {
    auto nodes = rt.nodes();
    if (!nodes)
      return send_error(res, nodes.err());
    auto arr = json::array();
    for (const auto& n : *nodes)
      arr.push_back(json::parse(to_json(n)));
    send_json(res, json{{"nodes", arr}}.dump());
  });

  svr.route("POST", "/api/jobs", [&api, &rt](const request& req, response& res) {
    auto body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("session") || !body["session"].is_string())
      return send_error(res, 400, "bad_input", "expected a JSON object with \"session\" (the session folder's path)");
    auto dir = body["session"].get<std::string>();
    if (dir.empty() || dir.size() > 4096 || !printable_line(dir))
      return send_error(res, 400, "bad_input", "\"session\" must be a folder's path: UTF-8 without control characters");
    if (auto err = check_session_path(api.o, dir))
      return send_error(res, 403, "forbidden", err->message);
    submit_options so;
    if (body.contains("priority") && (!body["priority"].is_string() || !parse(body["priority"].get<std::string>(), so.prio)))
      return send_error(res, 400, "bad_input", "priority must be \"high\", \"normal\" or \"low\"");
    const json opts = body.value("options", json::object());
    if (!opts.is_object())
      return send_error(res, 400, "bad_input", "\"options\" must be an object");
    for (auto [key, slot] : {std::pair<const char*, std::optional<bool>*>{"compress", &so.compress}, {"enrich", &so.enrich}})
      if (opts.contains(key) && opts[key].is_boolean())
        *slot = opts[key].get<bool>();
    if (opts.contains("retention") && opts["retention"].is_string())
      so.retention = opts["retention"].get<std::string>();
    if (body.contains("live") && !body["live"].is_boolean())
      return send_error(res, 400, "bad_input", "\"live\" must be true or false");
    // live: the recording is being made; files come by the append route
    // (or the recorder's own rewrites of session.json) until the end route.
    auto job = body.value("live", false) ? rt.open_live(dir, so) : rt.submit(dir, so);
    if (!job) {
      if (job.err().message.find("not under a configured session root") != std::string::npos)
        return send_error(res, 403, "forbidden", job.err().message);
      return send_error(res, job.err());
    }
    send_json(res, to_json(*job), 201);
  });

  svr.route("GET", "/api/jobs", [&rt](const request& req, response& res) {
    list_filter f;
    if (req.has_param("state")) {
      job_state s;
      if (!parse(req.param("state"), s))
        return send_error(res, 400, "bad_input", "unknown state \"" + one_line(req.param("state").substr(0, 32)) + "\"");
      f.state = s;
    }
    f.session_id = req.param("session");
    f.cursor = req.param("cursor");
    if (req.has_param("limit"))
      f.limit = std::uint32_t(std::clamp(std::atoi(req.param("limit").c_str()), 1, 500));
    auto page = rt.list(f);
    if (!page)
      return send_error(res, page.err());
    json jobs = json::array();
    for (const auto& j : page->jobs)
      jobs.push_back(json::parse(to_json(j)));
    auto counts = rt.counts();
    json by_state = json::object();
    if (counts)
      for (const auto& s : states_json()) {
        job_state st;
        parse(s.get<std::string>(), st);
        by_state[s.get<std::string>()] = (*counts)[st];
      }
    send_json(res, json{{"jobs", jobs}, {"next", page->next}, {"counts", by_state}}.dump());
  });

  // Job ids are looked up, never used as paths.
  svr.route("GET", R"(/api/jobs/([A-Za-z0-9_-]{1,64}))", [&rt](const request& req, response& res) {
    auto job = rt.status(req.matches[1]);
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });
  svr.route("POST", R"(/api/jobs/([A-Za-z0-9_-]{1,64})/cancel)", [&rt](const request& req, response& res) {
    auto job = rt.cancel(req.matches[1]);
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });
  // A live job: a file the recorder finished ({"kind", "path", "offsetMs"}).
  svr.route("POST", R"(/api/jobs/([A-Za-z0-9_-]{1,64})/files)", [&rt](const request& req, response& res) {
    auto body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("kind") || !body["kind"].is_string() || !body.contains("path") ||
        !body["path"].is_string())
      return send_error(res, 400, "bad_input",
                        "expected a JSON object with \"kind\" (audio, video, screenshot), \"path\" and \"offsetMs\"");
    auto offset = body.value("offsetMs", json(0));
    // Range-checked before it becomes a number: a week at most.
    if (!offset.is_number_unsigned() || offset.get<std::uint64_t>() > std::uint64_t(max_session_ms_limit))
      return send_error(res, 400, "bad_input", "\"offsetMs\" must be a non-negative integer (milliseconds)");
    auto kind = body["kind"].get<std::string>(), path = body["path"].get<std::string>();
    if (kind.size() > 32 || path.size() > 4096)
      return send_error(res, 400, "bad_input", "\"kind\" or \"path\" is too long");
    auto job = rt.append_file(req.matches[1], live_file{kind, path, offset.get<std::int64_t>()});
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });
  svr.route("POST", R"(/api/jobs/([A-Za-z0-9_-]{1,64})/end)", [&rt](const request& req, response& res) {
    auto job = rt.end_recording(req.matches[1]);
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });
  svr.route("POST", R"(/api/jobs/([A-Za-z0-9_-]{1,64})/retry)", [&rt](const request& req, response& res) {
    auto job = rt.retry(req.matches[1]);
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });
  svr.route("DELETE", R"(/api/jobs/([A-Za-z0-9_-]{1,64}))", [&rt](const request& req, response& res) {
    // files=true: the recording too (cancelling a live job first).
    auto job = req.param("files") == "true" ? rt.remove(req.matches[1], removal::everything)
                                            : rt.remove(req.matches[1], req.param("outputs") == "true");
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });
}

}  // namespace postroll::http
