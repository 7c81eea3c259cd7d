// What the API's route files share: the runtime, the options, the server,
// the event hub and the metrics. Internal to net/http.
#pragma once

#include <memory>

#include "net/http/api_server.hpp"
#include "net/http/event_stream.hpp"
#include "net/http/metrics.hpp"
#include "net/http/request_guard.hpp"
#include "net/http/server.hpp"

namespace postroll::http {

struct api_server::impl {
  runtime& rt;
  api_options o;
  std::unique_ptr<server> svr;
  std::unique_ptr<request_guard> guard;
  std::unique_ptr<event_hub> hub;
  stage_metrics metrics;
  subscription sub;
  std::uint16_t port = 0;

  impl(runtime& r, api_options opts) : rt(r), o(std::move(opts)) {}
};

/// POST/GET/DELETE /api/jobs..., /api/nodes, /healthz, /metrics.
void add_job_routes(api_server::impl& api);
/// GET /api/sessions/{id} and its media, canvas and recording files.
void add_session_routes(api_server::impl& api);
/// GET /api/events.
void add_event_route(api_server::impl& api);

}  // namespace postroll::http
