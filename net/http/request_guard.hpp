// Who may talk to the node's HTTP API (docs/security.md). A page on any web
// site can make the browser send requests to 127.0.0.1; these rules keep such
// a page from acting or reading:
// - DNS rebinding: the Host header must name the node (its listen address,
//   loopback names, or http.allowed_hosts), else 421;
// - cross-site requests (Sec-Fetch-Site cross-site or same-site, or an
//   Origin that is not the node's own) are refused with 403, unless the
//   origin is configured for CORS (http.cors_origins);
// - a state-changing request's body must be application/json (a "simple"
//   request a browser sends without asking, text/plain or a form, never is);
// - a bearer token, when configured, on every route.
// Every response carries nosniff, Cross-Origin-Resource-Policy: same-origin,
// no framing, and the dashboard a Content-Security-Policy.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "net/http/server.hpp"

namespace postroll::http {

struct guard_options {
  std::string listen_host;                 ///< the address the server is bound to
  std::uint16_t port = 0;                  ///< the port it is bound to
  std::vector<std::string> allowed_hosts;  ///< more names for Host
  std::vector<std::string> cors_origins;   ///< origins allowed cross-site
  std::string token;                       ///< bearer token ("" = none)
};

class request_guard {
public:
  explicit request_guard(guard_options o) : o_(std::move(o)), port_(o_.port) {}

  /// The port the server got (0 until then: every request is refused).
  void set_port(std::uint16_t port) { port_ = port; }

  /// The server's gate: @returns true when it answered (refused, or a CORS
  /// preflight), false when the request may be routed.
  bool refuse(const request& req, response& res) const;

  /// Adds the security headers every response carries.
  void secure(const request& req, response& res) const;

  /// Whether `origin` ("http://host:port") is the node's own.
  bool own_origin(const std::string& origin) const;

private:
  bool host_allowed(const std::string& host_header) const;
  bool cors_allowed(const std::string& origin) const;
  guard_options o_;
  std::atomic<std::uint16_t> port_;
};

}  // namespace postroll::http
