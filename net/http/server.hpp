// A small HTTP/1.1 server for the node's API: asynchronous I/O on one thread
// (Boost.Asio; requests parsed by Boost.Beast), route handlers on a bounded
// pool. Built to stay answering under hostile load: every connection has a
// deadline for its request, the number of connections is bounded overall and
// per client (the oldest idle connection makes room for a new one), bodies
// are bounded whatever their transfer encoding, and event streams are
// bounded and never hold a thread. docs/security.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "postroll/error.hpp"

namespace postroll::http {

/// A request as a route sees it. Header names are lower case.
struct request {
  std::string method;  ///< "GET", "POST", ...
  std::string path;    ///< decoded path, without the query
  std::string query;   ///< raw query string
  std::map<std::string, std::string> headers;
  std::string body;
  std::string peer;                  ///< the client's address
  std::vector<std::string> matches;  ///< the route's regex groups ([0] = whole path)

  /// The header's value ("" when absent).
  std::string header(const std::string& lower_name) const;
  bool has_param(const std::string& key) const;
  /// The query parameter's decoded value ("" when absent).
  std::string param(const std::string& key) const;
};

/// An open event stream (text/event-stream): written from any thread.
class stream {
public:
  virtual ~stream() = default;
  /// Queues `data` for the client. @returns false once the stream is closed
  /// (the client left, or fell too far behind and was dropped).
  virtual bool write(std::string data) = 0;
  virtual bool closed() const = 0;
  /// Ends the stream (the connection closes once the queued data is out).
  virtual void close() = 0;
};
using stream_ptr = std::shared_ptr<stream>;

/// A file served with its length and Range support.
struct file_body {
  int fd = -1;           ///< owned: closed after the response
  std::uint64_t size = 0;
  ~file_body();
};

/// What a route answers.
struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Instead of `body`: a file (Range requests answered from it).
  std::shared_ptr<file_body> file;
  /// Instead of `body`: an event stream; called with the stream once the
  /// headers are out (on the server's I/O thread: keep it short).
  std::function<void(stream_ptr)> on_stream;

  void json(const std::string& text, int code = 200) {
    status = code;
    content_type = "application/json";
    body = text;
  }
  void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

struct server_options {
  std::size_t max_connections = 512;        ///< open at once, all clients
  std::size_t max_connections_per_client = 256;  ///< from one address off loopback (all local programs share 127.0.0.1)
  std::size_t max_streams = 256;            ///< event streams at once
  std::chrono::milliseconds request_timeout{10000};  ///< to receive a whole request (headers and body)
  std::chrono::milliseconds idle_timeout{30000};     ///< a keep-alive connection waiting for its next request
  std::chrono::milliseconds write_timeout{60000};    ///< to send one piece of a response
  std::size_t max_header_bytes = 16384;
  std::size_t max_body_bytes = 1 << 20;     ///< chunked bodies included
  std::size_t max_stream_backlog = 1 << 20; ///< bytes queued for a slow stream reader before it is dropped
  int handler_threads = 8;                  ///< routes run here, never on the I/O thread
};

/// Decides before routing: fills `res` and returns true to answer at once
/// (refused, or a preflight), false to route the request.
using gate_fn = std::function<bool(const request&, response&)>;
using handler_fn = std::function<void(const request&, response&)>;

class server {
public:
  explicit server(server_options o = {});
  ~server();  ///< stops (see stop())
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Adds a route: `method` and a regex over the whole path; groups go to
  /// request::matches. Routes are tried in the order added.
  void route(const std::string& method, const std::string& pattern, handler_fn h);
  /// For GETs no route matched (the dashboard's files); 404 when unset.
  void fallback(handler_fn h);
  /// Runs before routing (host, origin, token checks).
  void gate(gate_fn g);
  /// Runs on every response before it goes out (security headers).
  void finish(std::function<void(const request&, response&)> f);

  /// Binds host:port (0 = any free port) and starts serving.
  /// @returns the port, or `unavailable` naming the address.
  result<std::uint16_t> listen(const std::string& host, std::uint16_t port);

  /// Stops accepting, closes every connection and stream, waits for the
  /// handlers and the I/O thread. Idempotent.
  void stop();

  /// Connections and streams open now (for tests and metrics).
  std::size_t connections() const;
  std::size_t streams() const;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

/// Percent-decodes a URL component ("+" as space when `plus`).
std::string url_decode(const std::string& s, bool plus);

}  // namespace postroll::http
