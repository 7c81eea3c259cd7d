#include "net/http/request_guard.hpp"

#include <algorithm>

#include <openssl/crypto.h>

namespace postroll::http {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// "name:port", "[v6]:port", "name" -> name, port ("" when absent).
std::pair<std::string, std::string> split_host(const std::string& h) {
  if (!h.empty() && h.front() == '[') {
    auto close = h.find(']');
    if (close == std::string::npos)
      return {h, ""};
    auto rest = h.substr(close + 1);
    return {h.substr(1, close - 1), rest.size() > 1 && rest[0] == ':' ? rest.substr(1) : ""};
  }
  auto colon = h.rfind(':');
  if (colon == std::string::npos || h.find(':') != colon)
    return {h, ""};
  return {h.substr(0, colon), h.substr(colon + 1)};
}

void refuse_with(response& res, int status, const std::string& kind, const std::string& message) {
  res.json("{\"error\":\"" + kind + "\",\"message\":\"" + message + "\"}", status);
}

bool state_changing(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

bool wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::" || host.empty(); }

}  // namespace

bool request_guard::host_allowed(const std::string& host_header) const {
  auto [name, port] = split_host(lower(host_header));
  auto ours = port_.load();
  if (ours == 0 || (!port.empty() && port != std::to_string(ours)))
    return false;
  static const std::vector<std::string> loopback = {"127.0.0.1", "localhost", "::1"};
  if (std::find(loopback.begin(), loopback.end(), name) != loopback.end())
    return true;
  if (!wildcard(o_.listen_host) && name == lower(o_.listen_host))
    return true;
  for (const auto& a : o_.allowed_hosts)
    if (name == lower(a))
      return true;
  // Bound to every address with a token and no list: the token decides (a
  // rebinding page cannot know it).
  return wildcard(o_.listen_host) && !o_.token.empty() && o_.allowed_hosts.empty();
}

bool request_guard::own_origin(const std::string& origin) const {
  auto o = lower(origin);
  if (o.rfind("http://", 0) != 0)
    return false;
  auto host = o.substr(7);
  if (host.find('/') != std::string::npos)
    return false;
  auto [name, port] = split_host(host);
  return !port.empty() && host_allowed(host);
}

bool request_guard::cors_allowed(const std::string& origin) const {
  return std::find(o_.cors_origins.begin(), o_.cors_origins.end(), origin) != o_.cors_origins.end();
}

bool request_guard::refuse(const request& req, response& res) const {
  auto host = req.header("host");
  if (host.empty() || !host_allowed(host)) {
    refuse_with(res, 421, "misdirected",
                "this node does not answer for that host name (http.allowed_hosts lists more names)");
    return true;
  }
  auto origin = req.header("origin");
  auto fetch_site = lower(req.header("sec-fetch-site"));
  bool cors = !origin.empty() && cors_allowed(origin);
  if (req.method == "OPTIONS") {
    if (!cors) {
      refuse_with(res, 403, "forbidden", "cross-origin requests are not allowed (http.cors_origins)");
      return true;
    }
    res.status = 204;
    res.content_type.clear();
    res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE");
    res.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization, Last-Event-ID");
    res.set_header("Access-Control-Max-Age", "600");
    return true;
  }
  // A browser says where a request comes from; only the node's own pages
  // (and navigations the user made) may act or read.
  bool cross_site = (!fetch_site.empty() && fetch_site != "same-origin" && fetch_site != "none") ||
                    (!origin.empty() && (origin == "null" || !own_origin(origin)) &&
                     (state_changing(req.method) || !fetch_site.empty()));
  if (cross_site && !cors) {
    refuse_with(res, 403, "forbidden", "cross-site requests are not allowed");
    return true;
  }
  if (!o_.token.empty()) {
    auto header = req.header("authorization");
    std::string given = header.rfind("Bearer ", 0) == 0 ? header.substr(7) : "";
    // Constant time: the comparison does not stop at the first difference.
    bool ok = given.size() == o_.token.size() && CRYPTO_memcmp(given.data(), o_.token.data(), given.size()) == 0;
    if (!ok) {
      refuse_with(res, 401, "unauthorized", "a bearer token is required (Authorization: Bearer ...)");
      return true;
    }
  }
  if (state_changing(req.method) && !req.body.empty()) {
    auto type = lower(req.header("content-type"));
    auto base = type.substr(0, type.find(';'));
    base.erase(std::remove(base.begin(), base.end(), ' '), base.end());
    if (base != "application/json") {
      refuse_with(res, 415, "unsupported_media_type", "the body must be application/json");
      return true;
    }
  }
  return false;
}

void request_guard::secure(const request& req, response& res) const {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Cross-Origin-Resource-Policy", "same-origin");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  if (res.content_type.rfind("text/html", 0) == 0)
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                   "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                   "form-action 'self'; frame-ancestors 'none'");
  if (res.content_type == "application/json" || res.content_type == "text/event-stream")
    res.set_header("Cache-Control", "no-store");
  auto origin = req.header("origin");
  if (!origin.empty() && cors_allowed(origin)) {
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
  }
}

}  // namespace postroll::http
