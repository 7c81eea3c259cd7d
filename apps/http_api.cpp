#include "apps/http_api.hpp"
#include "apps/http_metrics.hpp"
#include "config/endpoint.hpp"
#include "session/manifest.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

namespace postroll::http {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

int status_of(errc code) {
  switch (code) {
    case errc::bad_input: return 400;
    case errc::not_found: return 404;
    case errc::unavailable: return 503;
    default: return 500;
  }
}

void send_error(httplib::Response& res, int status, const std::string& kind, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", kind}, {"message", message}}.dump(), "application/json");
}

void send_error(httplib::Response& res, const error& e) { send_error(res, status_of(e.code), to_string(e.code), e.message); }

void send_json(httplib::Response& res, const std::string& body, int status = 200) {
  res.status = status;
  res.set_content(body, "application/json");
}

json journal_json(const journal_entry& e) {
  return {{"seq", e.seq}, {"time", e.time}, {"jobId", e.job_id}, {"sessionId", e.session_id},
          {"from", e.from}, {"to", e.to}, {"reason", e.reason}};
}

std::string content_type_of(const fs::path& p) {
  auto ext = p.extension().string();
  if (ext == ".mp4")
    return "video/mp4";
  if (ext == ".m4a" || ext == ".aac")
    return "audio/mp4";
  if (ext == ".webm")
    return "video/webm";
  if (ext == ".mov")
    return "video/quicktime";
  if (ext == ".mkv")
    return "video/x-matroska";
  if (ext == ".wav")
    return "audio/wav";
  if (ext == ".mp3")
    return "audio/mpeg";
  if (ext == ".opus" || ext == ".ogg" || ext == ".oga")
    return "audio/ogg";
  if (ext == ".flac")
    return "audio/flac";
  if (ext == ".jpg" || ext == ".jpeg")
    return "image/jpeg";
  if (ext == ".png")
    return "image/png";
  if (ext == ".json")
    return "application/json";
  if (ext == ".html")
    return "text/html; charset=utf-8";
  if (ext == ".js")
    return "text/javascript; charset=utf-8";
  if (ext == ".css")
    return "text/css; charset=utf-8";
  return "application/octet-stream";
}

// Serves a file with a known length: httplib answers Range requests from
// it (206, Content-Range), so a player seeks without downloading the file.
void send_file(httplib::Response& res, const fs::path& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec)
    return send_error(res, 404, "not_found", file.filename().string() + ": " + ec.message());
  res.set_content_provider(size, content_type_of(file), [file](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
    std::ifstream in(file, std::ios::binary);
    in.seekg(std::streamoff(offset));
    std::vector<char> buf(std::min<std::size_t>(length, 1 << 16));
    in.read(buf.data(), std::streamsize(buf.size()));
    auto n = std::size_t(in.gcount());
    return n > 0 && sink.write(buf.data(), n);
  });
}

// The recording's files as the player needs them: where each sits on the
// timeline and the URL that serves it (by index: a client never names a
// path).
json manifest_json(const manifest& m, const std::string& session_id) {
  json out = json::object();
  auto list = [&](const char* kind, const std::vector<media_ref>& refs) {
    json a = json::array();
    for (std::size_t i = 0; i < refs.size(); ++i) {
      json f = {{"index", i}, {"path", refs[i].path}, {"offsetMs", refs[i].offset_ms}, {"missing", refs[i].missing}};
      if (!refs[i].missing) {
        std::error_code ec;
        f["bytes"] = fs::file_size(refs[i].resolved, ec);
        f["url"] = "/api/sessions/" + session_id + "/files/" + kind + "/" + std::to_string(i);
        f["contentType"] = content_type_of(refs[i].resolved);
      }
      a.push_back(f);
    }
    out[kind] = a;
  };
  list("video", m.video);
  list("audio", m.audio);
  list("screenshots", m.screenshots);
  return out;
}

}  // namespace

struct api_server::impl {
  runtime& rt;
  api_options o;
  httplib::Server svr;
  std::thread thread;
  int port = 0;
  std::atomic<bool> stopping{false};
  // The event stream: transitions come from the journal (persisted, with
  // sequence numbers); progress is live only. A subscription wakes the
  // streams and keeps the latest progress events.
  std::mutex mtx;
  std::condition_variable cv;
  std::uint64_t wakeups = 0;
  std::deque<std::pair<std::uint64_t, event>> progress;  ///< (counter, event), the newest 2000
  std::uint64_t progress_counter = 0;
  /// Bumped by every non-progress event (a journal entry may have been
  /// written): streams read the journal only when it moved, not on every
  /// progress tick (200 streams x 10 ticks/s would be 2,000 queue requests/s).
  std::uint64_t transitions = 0;
  /// The newest progress of each running stage ("job/stage"): a client that
  /// connects (a reloaded page) sees where every stage is at once.
  std::map<std::string, event> latest;
  stage_metrics metrics;
  subscription sub;

  impl(runtime& r, api_options opts) : rt(r), o(std::move(opts)) {}

  // A session folder a client may submit: under one of the roots (when set).
  maybe_error check_session_path(const std::string& dir) const {
    std::error_code ec;
    auto path = fs::weakly_canonical(fs::absolute(dir, ec), ec);
    if (o.session_roots.empty())
      return std::nullopt;
    for (const auto& root : o.session_roots) {
      auto r = fs::weakly_canonical(fs::absolute(root, ec), ec).string();
      auto p = path.string();
      if (p == r || (p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/'))
        return std::nullopt;
    }
    return error{errc::bad_input, dir + ": not under a configured session root (http.session_roots)"};
  }

  // The newest job of a session: where its outputs are.
  result<job_record> session_job(const std::string& session_id) {
    list_filter f;
    f.session_id = session_id;
    f.limit = 1;
    auto page = rt.list(f);
    if (!page)
      return page.err();
    if (page->jobs.empty())
      return error{errc::not_found, "no job for session " + session_id};
    return page->jobs.front();
  }

  void routes();
  void stream_events(const httplib::Request& req, httplib::Response& res);
};

void api_server::impl::routes() {
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (o.token.empty())
      return httplib::Server::HandlerResponse::Unhandled;
    auto header = req.get_header_value("Authorization");
    std::string given = header.rfind("Bearer ", 0) == 0 ? header.substr(7) : "";
    // Constant time: the comparison does not stop at the first difference.
    bool ok = given.size() == o.token.size() && CRYPTO_memcmp(given.data(), o.token.data(), given.size()) == 0;
    if (ok)
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, 401, "unauthorized", "a bearer token is required (Authorization: Bearer ...)");
    return httplib::Server::HandlerResponse::Handled;
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty())
      return;
    auto kind = res.status == 413 ? "too_large" : res.status == 404 ? "not_found" : "error";
    auto message = res.status == 413 ? "request body too large" : res.status == 404 ? "no such route" : "request failed";
    res.set_content(json{{"error", kind}, {"message", message}}.dump(), "application/json");
  });

  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { send_json(res, R"({"ok":true})"); });

  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
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
    out += metrics.render([this](const std::string& id) -> std::int64_t {
      auto job = rt.status(id);
      return job ? job->media_bytes : 0;  // a job removed since: nothing to count
    });
    res.set_content(out, "text/plain; version=0.0.4");
  });

  svr.Get("/api/nodes", [this](const httplib::Request&, httplib::Response& res) {
    auto nodes = rt.nodes();
    if (!nodes)
      return send_error(res, nodes.err());
    auto arr = json::array();
    for (const auto& n : *nodes)
      arr.push_back(json::parse(to_json(n)));
    send_json(res, json{{"nodes", arr}}.dump());
  });

  svr.Post("/api/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("session") || !body["session"].is_string())
      return send_error(res, 400, "bad_input", "expected a JSON object with \"session\" (the session folder's path)");
    auto dir = body["session"].get<std::string>();
    if (auto err = check_session_path(dir))
      return send_error(res, 403, "forbidden", err->message);
    submit_options so;
    if (body.contains("priority") && (!body["priority"].is_string() || !parse(body["priority"].get<std::string>(), so.prio)))
      return send_error(res, 400, "bad_input", "priority must be \"high\", \"normal\" or \"low\"");
    const json opts = body.value("options", json::object());
    for (auto [key, slot] : {std::pair<const char*, std::optional<bool>*>{"compress", &so.compress}, {"enrich", &so.enrich}})
      if (opts.contains(key) && opts[key].is_boolean())
        *slot = opts[key].get<bool>();
    if (opts.contains("retention") && opts["retention"].is_string())
      so.retention = opts["retention"].get<std::string>();
    auto job = rt.submit(dir, so);
    if (!job)
      return send_error(res, job.err());
    send_json(res, to_json(*job), 201);
  });

  svr.Get("/api/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    list_filter f;
    if (req.has_param("state")) {
      job_state s;
      if (!parse(req.get_param_value("state"), s))
        return send_error(res, 400, "bad_input", "unknown state \"" + req.get_param_value("state") + "\"");
      f.state = s;
    }
    f.session_id = req.get_param_value("session");
    f.cursor = req.get_param_value("cursor");
    if (req.has_param("limit"))
      f.limit = std::uint32_t(std::clamp(std::atoi(req.get_param_value("limit").c_str()), 1, 500));
    auto page = rt.list(f);
    if (!page)
      return send_error(res, page.err());
    json jobs = json::array();
    for (const auto& j : page->jobs)
      jobs.push_back(json::parse(to_json(j)));
    auto counts = rt.counts();
    json by_state = json::object();
    if (counts)
      for (auto s : {job_state::pending, job_state::processing, job_state::completed, job_state::failed, job_state::cancelled})
        by_state[to_string(s)] = (*counts)[s];
    send_json(res, json{{"jobs", jobs}, {"next", page->next}, {"counts", by_state}}.dump());
  });

  // Job ids are looked up, never used as paths.
  svr.Get(R"(/api/jobs/([A-Za-z0-9_-]{1,64}))", [this](const httplib::Request& req, httplib::Response& res) {
    auto job = rt.status(req.matches[1]);
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });
  svr.Post(R"(/api/jobs/([A-Za-z0-9_-]{1,64})/cancel)", [this](const httplib::Request& req, httplib::Response& res) {
    auto job = rt.cancel(req.matches[1]);
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });
  svr.Post(R"(/api/jobs/([A-Za-z0-9_-]{1,64})/retry)", [this](const httplib::Request& req, httplib::Response& res) {
    auto job = rt.retry(req.matches[1]);
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });
  svr.Delete(R"(/api/jobs/([A-Za-z0-9_-]{1,64}))", [this](const httplib::Request& req, httplib::Response& res) {
    // files=true: the recording too (cancelling a live job first).
    auto job = req.get_param_value("files") == "true" ? rt.remove(req.matches[1], removal::everything)
                                                        : rt.remove(req.matches[1], req.get_param_value("outputs") == "true");
    job ? send_json(res, to_json(*job)) : send_error(res, job.err());
  });

  svr.Get(R"(/api/sessions/([A-Za-z0-9._-]{1,128}))", [this](const httplib::Request& req, httplib::Response& res) {
    auto job = session_job(req.matches[1]);
    if (!job)
      return send_error(res, job.err());
    json out = {{"sessionId", job->session_id}, {"name", job->session_name}, {"job", json::parse(to_json(*job))}};
    manifest_options mo;
    mo.missing_audio_as_silence = true;
    auto m = load_manifest(job->session_dir, mo);
    if (m) {
      out["manifest"] = manifest_json(*m, job->session_id);
    } else {
      out["manifestError"] = m.err().message;  // the originals moved or are damaged; outputs may still play
    }
    json outputs = json::array();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path{job->session_dir} / "postroll", ec))
      if (entry.is_regular_file() && entry.path().filename().string().find(".partial") == std::string::npos)
        outputs.push_back({{"name", entry.path().filename().string()},
                           {"bytes", entry.file_size()},
                           {"url", "/api/sessions/" + job->session_id + "/media/" + entry.path().filename().string()}});
    out["outputs"] = outputs;
    auto dir = fs::path{job->session_dir} / "postroll" / "enrichment";
    for (const char* name : {"summary", "chapters", "transcript", "canvas"}) {
      std::ifstream in(dir / (std::string{name} + ".json"));
      if (in)
        out["enrichment"][name] = json::parse(std::string(std::istreambuf_iterator<char>(in), {}), nullptr, false);
    }
    send_json(res, out.dump());
  });

  // Outputs by name: only plain file names, looked up in the session's
  // output folders (never a path from the client).
  svr.Get(R"(/api/sessions/([A-Za-z0-9._-]{1,128})/(media|canvas)(?:/([A-Za-z0-9._-]{1,64}))?)",
          [this](const httplib::Request& req, httplib::Response& res) {
            auto job = session_job(req.matches[1]);
            if (!job)
              return send_error(res, job.err());
            auto out_dir = fs::path{job->session_dir} / "postroll";
            std::string name = req.matches[3];
            fs::path file;
            if (req.matches[2] == "canvas") {
              for (const char* c : {"canvas.jpg", "canvas.png"})
                if (fs::exists(out_dir / "enrichment" / c))
                  file = out_dir / "enrichment" / c;
            } else if (!name.empty() && name.find("..") == std::string::npos) {
              for (const auto& d : {out_dir, out_dir / "enrichment", out_dir / "enrichment" / "thumbs"})
                if (fs::is_regular_file(d / name))
                  file = d / name;
            }
            std::error_code ec;
            if (file.empty() || !fs::is_regular_file(file, ec))
              return send_error(res, 404, "not_found", "session " + job->session_id + " has no such output");
            send_file(res, file);
          });

  // The recording's own files, by kind and index in its manifest (the
  // player of a session not merged yet plays them).
  svr.Get(R"(/api/sessions/([A-Za-z0-9._-]{1,128})/files/(video|audio|screenshots)/(\d{1,6}))",
          [this](const httplib::Request& req, httplib::Response& res) {
            auto job = session_job(req.matches[1]);
            if (!job)
              return send_error(res, job.err());
            manifest_options mo;
            mo.missing_audio_as_silence = true;
            auto m = load_manifest(job->session_dir, mo);
            if (!m)
              return send_error(res, 409, "bad_input", m.err().message);
            const auto& refs = req.matches[2] == "video" ? m->video : req.matches[2] == "audio" ? m->audio : m->screenshots;
            auto i = std::size_t(std::stoul(req.matches[3]));
            if (i >= refs.size() || refs[i].missing)
              return send_error(res, 404, "not_found",
                                "session " + job->session_id + " has no " + std::string(req.matches[2]) + " file " + std::string(req.matches[3]));
            send_file(res, refs[i].resolved);
          });

  svr.Get("/api/events", [this](const httplib::Request& req, httplib::Response& res) { stream_events(req, res); });

  if (!o.web_dir.empty())
    svr.set_mount_point("/", o.web_dir);
}

void api_server::impl::stream_events(const httplib::Request& req, httplib::Response& res) {
  struct client {
    std::uint64_t seq = 0;       ///< last journal entry sent
    std::uint64_t progress = 0;  ///< last progress counter sent
    std::uint64_t transitions = ~std::uint64_t{0};  ///< transition count at the last journal read
    std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
    bool snapshot_sent = false;
  };
  auto c = std::make_shared<client>();
  auto last = req.get_header_value("Last-Event-ID");
  if (last.empty() && req.has_param("after"))
    last = req.get_param_value("after");
  if (!last.empty()) {
    c->seq = std::strtoull(last.c_str(), nullptr, 10);
  } else {
    // A new client starts at the end of the journal: it fetches the jobs'
    // current state itself.
    for (;;) {
      auto tail = rt.journal(c->seq, 10000);
      if (!tail || tail->empty())
        break;
      c->seq = tail->back().seq;
    }
  }
  std::string snapshot;
  {
    std::lock_guard<std::mutex> g{mtx};
    c->progress = progress_counter;
    for (const auto& [key, e] : latest)
      snapshot += "event: progress\ndata: " + to_json(e) + "\n\n";
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [this, c, snapshot](std::size_t, httplib::DataSink& sink) {
    if (stopping)
      return false;
    std::string out;
    if (!c->snapshot_sent) {
      out = snapshot;
      c->snapshot_sent = true;
    }
    std::uint64_t moved;
    {
      std::lock_guard<std::mutex> g{mtx};
      moved = transitions;
    }
    // Transitions from the journal: ids are its sequence numbers. Read
    // again while a page came back full (a reconnect after a long gap).
    if (moved != c->transitions) {
      auto entries = rt.journal(c->seq, 500);
      if (entries) {
        for (const auto& e : *entries) {
          out += "id: " + std::to_string(e.seq) + "\nevent: transition\ndata: " + journal_json(e).dump() + "\n\n";
          c->seq = e.seq;
        }
        if (entries->size() < 500)
          c->transitions = moved;
      }
    }
    {
      std::unique_lock<std::mutex> lock{mtx};
      for (const auto& [n, e] : progress)
        if (n > c->progress) {
          out += std::string{"event: "} + (e.kind == events::job_waiting ? "waiting" : "progress") + "\ndata: " + to_json(e) + "\n\n";
          c->progress = n;
        }
      if (out.empty()) {
        auto seen = wakeups;
        cv.wait_for(lock, std::chrono::seconds(1), [&] { return wakeups != seen || stopping.load(); });
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (out.empty() && now - c->last_write > std::chrono::seconds(15))
      out = ": keep-alive\n\n";  // proxies close streams that stay silent
    if (!out.empty()) {
      c->last_write = now;
      return sink.write(out.data(), out.size());
    }
    return true;
  });
}

api_server::api_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

api_server::~api_server() {
  impl_->stopping = true;
  {
    std::lock_guard<std::mutex> g{impl_->mtx};
    ++impl_->wakeups;
  }
  impl_->cv.notify_all();
  impl_->svr.stop();
  if (impl_->thread.joinable())
    impl_->thread.join();
  impl_->sub.reset();
}

std::uint16_t api_server::port() const { return std::uint16_t(impl_->port); }

result<std::unique_ptr<api_server>> api_server::start(runtime& rt, api_options o) {
  if (!is_loopback(o.host)) {
    if (o.token.empty())
      return error{errc::bad_input, "http: listening on " + o.host +
                                      " (not loopback) needs a token (http.token_env names the variable holding it)"};
    if (o.session_roots.empty())
      return error{errc::bad_input, "http: listening on " + o.host + " (not loopback) needs http.session_roots"};
  }
  auto p = std::make_unique<impl>(rt, std::move(o));
  auto* self = p.get();
  // One thread per open connection (an event stream holds one): room for
  // a few hundred dashboards.
  p->svr.new_task_queue = [] { return new httplib::ThreadPool(256); };
  p->svr.set_payload_max_length(p->o.max_body_bytes);
  p->svr.set_keep_alive_max_count(1000);
  // Small JSON answers: without TCP_NODELAY, Nagle and delayed ACKs added
  // ~40 ms to every keep-alive request (measured with bench_http).
  p->svr.set_tcp_nodelay(true);
  p->routes();
  auto sub = rt.subscribe([self](const event& e) {
    self->metrics.on_event(e);
    std::lock_guard<std::mutex> g{self->mtx};
    if (e.kind == events::stage_progress || e.kind == events::job_waiting) {
      // Live only (not in the journal): progress, and why a job is held back.
      self->progress.emplace_back(++self->progress_counter, e);
      if (self->progress.size() > 2000)
        self->progress.pop_front();
      if (e.kind == events::stage_progress)
        self->latest[e.job_id + "/" + e.stage] = e;
    } else {
      ++self->transitions;
      if (!e.stage.empty()) {
        self->latest.erase(e.job_id + "/" + e.stage);
      } else if (e.kind == events::job_completed || e.kind == events::job_failed || e.kind == events::job_cancelled) {
        for (auto it = self->latest.lower_bound(e.job_id + "/"); it != self->latest.end() && it->first.rfind(e.job_id + "/", 0) == 0;)
          it = self->latest.erase(it);
      }
    }
    ++self->wakeups;
    self->cv.notify_all();
  });
  if (!sub)
    return sub.err();
  p->sub = std::move(*sub);
  p->port = p->o.port == 0 ? p->svr.bind_to_any_port(p->o.host) : (p->svr.bind_to_port(p->o.host, p->o.port) ? p->o.port : -1);
  if (p->port <= 0)
    return error{errc::unavailable, "http: cannot listen on " + p->o.host + ":" + std::to_string(p->o.port)};
  p->thread = std::thread([self] { self->svr.listen_after_bind(); });
  spdlog::info("http: serving on {}:{}", p->o.host, p->port);
  return std::unique_ptr<api_server>{new api_server(std::move(p))};
}

}  // namespace postroll::http
