// The node's HTTP API (docs/http-api.md): jobs, sessions' media with Range,
// the event stream as Server-Sent Events resumable by the journal's sequence
// numbers, health and metrics, and the dashboard's files. It speaks to the
// runtime only through the public API (postroll/runtime.hpp), like any host.
// Who may call it: net/http/request_guard.hpp.
#pragma once

#include "postroll/config.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "postroll/runtime.hpp"

namespace postroll::http {

struct api_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7412;                 ///< 0 = any free port
  std::vector<std::string> session_roots;    ///< session folders must be under one of these ("" = any, loopback only)
  std::string token;                         ///< bearer token required on every route ("" = none)
  std::string web_dir;                       ///< the dashboard's files ("" = not served)
  std::string output_dir = default_output_dir;       ///< media.output_dir: where a session's outputs are
  std::size_t max_body_bytes = 1 << 20;
  std::vector<std::string> allowed_hosts;    ///< Host names besides the listen address and loopback
  std::vector<std::string> cors_origins;     ///< origins allowed to call cross-site (none by default)
  std::size_t max_connections = 512;
  std::size_t max_event_streams = 256;
};

class api_server {
public:
  /// Binds host:port (checking the security rules: a non-loopback address
  /// needs a token and session roots). @returns the server, or bad_input.
  static result<std::unique_ptr<api_server>> start(runtime& rt, api_options o);
  ~api_server();  ///< stops serving and closes open streams
  std::uint16_t port() const;

  struct impl;

private:
  explicit api_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace postroll::http
