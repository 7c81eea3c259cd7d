#include "net/http/api_server.hpp"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "config/endpoint.hpp"
#include "net/http/api_context.hpp"
#include "net/http/responses.hpp"
#include "session/session_folder.hpp"

namespace postroll::http {

namespace fs = std::filesystem;

void add_event_route(api_server::impl& api) {
  api.svr->route("GET", "/api/events", [&api](const request& req, response& res) {
    auto last = req.header("last-event-id");
    if (last.empty() && req.has_param("after"))
      last = req.param("after");
    std::optional<std::uint64_t> after;
    if (!last.empty())
      after = std::strtoull(last.c_str(), nullptr, 10);
    res.status = 200;
    res.content_type = "text/event-stream";
    res.set_header("X-Accel-Buffering", "no");
    res.on_stream = [&api, after](stream_ptr s) { api.hub->add(std::move(s), after); };
  });
}

namespace {

// The dashboard's files: plain names under web_dir, index.html for "/".
void add_static_files(api_server::impl& api) {
  if (api.o.web_dir.empty())
    return;
  auto web = session_folder::open(api.o.web_dir);
  if (!web) {
    spdlog::warn("http: the dashboard folder {} cannot be opened: {}", api.o.web_dir, web.err().message);
    return;
  }
  api.svr->fallback([dir = *web](const request& req, response& res) {
    auto rel = req.path == "/" ? std::string{"index.html"} : req.path.substr(1);
    bool plain = !rel.empty() && rel.size() < 256 && rel.find("..") == std::string::npos &&
                 std::all_of(rel.begin(), rel.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '/';
                 });
    if (plain)
      if (auto file = dir->open_output(rel)) {
        auto size = std::uint64_t(file->size());
        auto name = file->name();
        return send_fd(res, file->release(), size, name);
      }
    send_error(res, 404, "not_found", "no such route");
  });
}

}  // namespace

api_server::api_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

api_server::~api_server() {
  impl_->sub.reset();
  impl_->svr->stop();
  impl_->hub.reset();
}

std::uint16_t api_server::port() const { return impl_->port; }

result<std::unique_ptr<api_server>> api_server::start(runtime& rt, api_options o) {
  if (!is_loopback(o.host)) {
    if (o.token.empty())
      return error{errc::bad_input, "http: listening on " + o.host +
                                      " (not loopback) needs a token (http.token_env names the variable holding it)"};
    if (o.session_roots.empty())
      return error{errc::bad_input, "http: listening on " + o.host + " (not loopback) needs http.session_roots"};
  }
  auto p = std::make_unique<impl>(rt, std::move(o));
  server_options so;
  so.max_body_bytes = p->o.max_body_bytes;
  so.max_connections = p->o.max_connections;
  so.max_connections_per_client = std::max<std::size_t>(1, p->o.max_connections / 2);
  so.max_streams = p->o.max_event_streams;
  p->svr = std::make_unique<server>(so);
  p->hub = std::make_unique<event_hub>(rt);
  add_job_routes(*p);
  add_session_routes(*p);
  add_event_route(*p);
  add_static_files(*p);
  auto* self = p.get();
  auto sub = rt.subscribe([self](const event& e) {
    self->metrics.on_event(e);
    self->hub->on_event(e);
  });
  if (!sub)
    return sub.err();
  p->sub = std::move(*sub);
  guard_options g;
  g.listen_host = p->o.host;
  g.allowed_hosts = p->o.allowed_hosts;
  g.cors_origins = p->o.cors_origins;
  g.token = p->o.token;
  p->guard = std::make_unique<request_guard>(g);
  // Installed before the first connection: until listen() below knows the
  // port, the guard refuses everything (fail closed).
  auto* guard = p->guard.get();
  p->svr->gate([guard](const request& req, response& res) { return guard->refuse(req, res); });
  p->svr->finish([guard](const request& req, response& res) { guard->secure(req, res); });
  auto port = p->svr->listen(p->o.host, p->o.port);
  if (!port)
    return port.err();
  p->port = *port;
  guard->set_port(*port);
  spdlog::info("http: serving on {}:{}", p->o.host, p->port);
  return std::unique_ptr<api_server>{new api_server(std::move(p))};
}

}  // namespace postroll::http
