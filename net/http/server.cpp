// One file for the connection state machine and the server: the connection
// reads and writes the server's private state (its limits, its lists of
// connections and streams, the handler pool) on the I/O thread, and split,
// each half would need the other's internals in a header. The HTTP message
// helpers are in wire.cpp.
#include "net/http/server.hpp"
#include "net/http/wire.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace postroll::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class connection;

struct route_entry {
  std::string method;
  std::regex pattern;
  handler_fn handler;
};

struct server::impl : std::enable_shared_from_this<server::impl> {
  server_options o;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{io};
  std::thread io_thread;
  asio::thread_pool pool;
  std::vector<route_entry> routes;
  handler_fn fallback;
  gate_fn gate;
  std::function<void(const request&, response&)> finish;
  // Touched on the I/O thread only, except the counters.
  std::list<std::shared_ptr<connection>> conns;  ///< oldest first
  std::atomic<std::size_t> conn_count{0};
  std::atomic<std::size_t> stream_count{0};
  std::atomic<bool> stopped{false};

  explicit impl(server_options opts) : o(std::move(opts)), pool(std::size_t(std::max(1, o.handler_threads))) {}

  void accept();
  void admit(tcp::socket socket);
  void handle(std::shared_ptr<connection> c, std::shared_ptr<request> req);
  void forget(connection* c);
};

class connection : public std::enable_shared_from_this<connection> {
public:
  connection(std::shared_ptr<server::impl> srv, tcp::socket s) : srv_(std::move(srv)), stream_(std::move(s)) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    peer_ = ec ? std::string{"?"} : ep.address().to_string();
  }

  const std::string& peer() const { return peer_; }
  /// Waiting for (or reading) a request, not answering one: may be closed
  /// to make room for a new client.
  bool evictable() const { return phase_ == phase::reading; }
  std::chrono::steady_clock::time_point since() const { return since_; }

  void start() { read_request(); }

  void close() {
    if (phase_ == phase::closed)
      return;
    if (phase_ == phase::streaming)
      --srv_->stream_count;
    phase_ = phase::closed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
    srv_->forget(this);
  }

  // -- writing (I/O thread) -----------------------------------------------

  void send(std::shared_ptr<request> req, response res) {
    if (phase_ == phase::closed)
      return;
    if (srv_->finish)
      srv_->finish(*req, res);
    spdlog::debug("http: {} {} {} -> {}", peer_, req->method, req->path, res.status);
    if (res.on_stream && srv_->stream_count >= srv_->o.max_streams) {
      response busy;
      busy.json(json_error("unavailable", "too many event streams open (http.max_event_streams = " +
                                              std::to_string(srv_->o.max_streams) + "); try again later"),
                503);
      busy.set_header("Retry-After", "5");
      return send(std::move(req), std::move(busy));
    }
    keep_alive_ = keep_alive_ && !res.on_stream && res.status < 400;
    int status = res.status;
    std::string fields;
    for (const auto& [k, v] : res.headers)
      fields += k + ": " + v + "\r\n";
    if (!res.content_type.empty())
      fields += "Content-Type: " + res.content_type + "\r\n";
    fields += keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    std::string body;
    if (res.on_stream) {
      fields += "Transfer-Encoding: chunked\r\n";
    } else if (res.file) {
      std::uint64_t size = res.file->size, from = 0, to = size ? size - 1 : 0;
      auto range = req->header("range");
      if (!range.empty() && !parse_range(range, size, from, to)) {
        status = 416;
        keep_alive_ = false;
        fields = "Content-Range: bytes */" + std::to_string(size) + "\r\nContent-Length: 0\r\nConnection: close\r\n";
      } else {
        if (!range.empty()) {
          status = 206;
          fields += "Content-Range: bytes " + std::to_string(from) + "-" + std::to_string(to) + "/" +
                    std::to_string(size) + "\r\n";
        }
        std::uint64_t length = size == 0 ? 0 : to - from + 1;
        fields += "Accept-Ranges: bytes\r\nContent-Length: " + std::to_string(length) + "\r\n";
        if (req->method != "HEAD") {
          file_ = res.file;
          file_at_ = from;
          file_left_ = length;
        }
      }
    } else {
      fields += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
      if (req->method != "HEAD")
        body = std::move(res.body);
    }
    out_.push_back("HTTP/1.1 " + std::to_string(status) + " " + reason_of(status) + "\r\n" + fields + "\r\n" + body);
    if (res.on_stream) {
      ++srv_->stream_count;
      phase_ = phase::streaming;
      flush();
      watch_for_close();
      res.on_stream(make_stream());
      return;
    }
    phase_ = phase::writing;
    flush();
  }

private:
  enum class phase { reading, handling, writing, streaming, closed };

  void read_request() {
    phase_ = phase::reading;
    since_ = std::chrono::steady_clock::now();
    parser_.emplace();
    parser_->header_limit(std::uint32_t(srv_->o.max_header_bytes));
    parser_->body_limit(std::uint64_t(srv_->o.max_body_bytes));
    // One deadline for the whole request: a client sending a byte at a
    // time (slowloris) is cut off when it passes.
    stream_.expires_after(first_ ? srv_->o.request_timeout : srv_->o.idle_timeout + srv_->o.request_timeout);
    first_ = false;
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (phase_ == phase::closed)
      return;
    if (ec) {
      if (ec == bhttp::error::body_limit)
        return refuse(413, "too_large", "request body too large (at most " +
                                            std::to_string(srv_->o.max_body_bytes) + " bytes)");
      if (ec == bhttp::error::header_limit)
        return refuse(431, "too_large", "request headers too large");
      if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
        return close();
      return refuse(400, "bad_request", "malformed request");
    }
    stream_.expires_never();
    auto& msg = parser_->get();
    auto req = std::make_shared<request>();
    req->method = std::string(msg.method_string());
    std::string target(msg.target());
    auto q = target.find('?');
    req->path = url_decode(target.substr(0, q), false);
    req->query = q == std::string::npos ? std::string{} : target.substr(q + 1);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      auto& slot = req->headers[name];
      slot = slot.empty() ? std::string(f.value()) : slot + ", " + std::string(f.value());
    }
    req->body = std::move(msg.body());
    req->peer = peer_;
    keep_alive_ = msg.keep_alive();
    phase_ = phase::handling;
    srv_->handle(shared_from_this(), std::move(req));
  }

  void refuse(int status, const std::string& kind, const std::string& message) {
    keep_alive_ = false;
    linger_ = true;  // the client may still be sending: let it read the answer
    auto req = std::make_shared<request>();
    response res;
    res.json(json_error(kind, message), status);
    send(req, std::move(res));
  }

  void flush() {
    if (writing_ || phase_ == phase::closed)
      return;
    if (out_.empty() && file_left_ > 0) {
      std::string chunk(std::size_t(std::min<std::uint64_t>(file_left_, 65536)), '\0');
      auto n = ::pread(file_->fd, chunk.data(), chunk.size(), off_t(file_at_));
      if (n <= 0)
        return close();  // the file shrank under us: nothing sensible to send
      chunk.resize(std::size_t(n));
      file_at_ += std::uint64_t(n);
      file_left_ -= std::uint64_t(n);
      out_.push_back(std::move(chunk));
    }
    if (out_.empty()) {
      if (phase_ == phase::writing) {
        file_.reset();
        if (keep_alive_ && !srv_->stopped)
          return read_request();
        if (linger_)
          return linger();
        return close();
      }
      if (phase_ == phase::streaming && closing_)
        return close();
      return;
    }
    writing_ = true;
    current_ = std::move(out_.front());
    out_.pop_front();
    backlog_ -= std::min(backlog_, current_.size());
    stream_.expires_after(srv_->o.write_timeout);
    asio::async_write(stream_, asio::buffer(current_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (ec)
                          return self->close();
                        if (self->phase_ == phase::streaming)
                          self->stream_.expires_never();
                        self->flush();
                      });
  }

  // A refused request's client may still be sending its body: half-close
  // and read (and drop) a bounded amount for a short while, so it reads the
  // answer instead of a reset (RFC 9112 9.6).
  void linger() {
    phase_ = phase::writing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));  // the whole linger, not per read
    linger_more();
  }
  void linger_more() {
    stream_.async_read_some(asio::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > (8u << 20))
        return self->close();
      self->linger_more();
    });
  }

  // A streaming client never sends again: a read that ends means it left.
  void watch_for_close() {
    stream_.socket().async_read_some(asio::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec)
        return self->close();
      self->watch_for_close();
    });
  }

  stream_ptr make_stream();

  // Called on the I/O thread by the stream handle.
  void stream_write(std::string data) {
    if (phase_ != phase::streaming || closing_)
      return;
    if (backlog_ + data.size() > srv_->o.max_stream_backlog) {
      spdlog::info("http: dropping the event stream of {} (it fell {} bytes behind)", peer_, backlog_);
      return close();
    }
    char size[24];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    data = size + data + "\r\n";
    backlog_ += data.size();
    out_.push_back(std::move(data));
    flush();
  }
  void stream_close() {
    if (phase_ != phase::streaming || closing_)
      return;
    closing_ = true;
    out_.push_back("0\r\n\r\n");
    flush();
  }

  friend class stream_handle;
  std::shared_ptr<server::impl> srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string peer_;
  phase phase_ = phase::reading;
  bool first_ = true;
  bool keep_alive_ = true;
  bool writing_ = false;
  bool closing_ = false;
  bool linger_ = false;
  std::size_t lingered_ = 0;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::deque<std::string> out_;
  std::string current_;
  std::size_t backlog_ = 0;
  std::shared_ptr<file_body> file_;
  std::uint64_t file_at_ = 0, file_left_ = 0;
  char sink_[16384];

public:
  std::atomic<bool> gone{false};  ///< closed: stream handles stop posting
};

class stream_handle : public stream {
public:
  stream_handle(std::weak_ptr<connection> c, asio::io_context& io) : c_(std::move(c)), io_(io) {}
  bool write(std::string data) override {
    auto c = c_.lock();
    if (!c || c->gone)
      return false;
    asio::post(io_, [c, data = std::move(data)]() mutable { c->stream_write(std::move(data)); });
    return true;
  }
  bool closed() const override {
    auto c = c_.lock();
    return !c || c->gone;
  }
  void close() override {
    if (auto c = c_.lock())
      asio::post(io_, [c] { c->stream_close(); });
  }

private:
  std::weak_ptr<connection> c_;
  asio::io_context& io_;
};

stream_ptr connection::make_stream() { return std::make_shared<stream_handle>(weak_from_this(), srv_->io); }

void server::impl::forget(connection* c) {
  c->gone = true;
  for (auto it = conns.begin(); it != conns.end(); ++it)
    if (it->get() == c) {
      // Erased later on the I/O thread: `c` may be running a member now.
      asio::post(io, [self = shared_from_this(), keep = *it] {
        self->conns.remove(keep);
        --self->conn_count;
      });
      break;
    }
}

void server::impl::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped)
      return;
    if (!ec)
      self->admit(std::move(socket));
    self->accept();
  });
}

void server::impl::admit(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);  // small JSON answers: no Nagle delay
  auto c = std::make_shared<connection>(shared_from_this(), std::move(socket));
  // Over a limit: the oldest connection still waiting for its request makes
  // room (a slow client's), so one that has a request to send gets in.
  auto make_room = [&](const std::function<bool(const connection&)>& which, std::size_t count, std::size_t limit) {
    if (count < limit)
      return true;
    for (auto& old : conns)
      if (!old->gone && old->evictable() && which(*old)) {
        old->close();
        return true;
      }
    return false;
  };
  // Per client only off loopback: every local program shares 127.0.0.1.
  bool local = c->peer() == "127.0.0.1" || c->peer() == "::1" || c->peer().rfind("::ffff:127.", 0) == 0;
  std::size_t same = local ? 0 : std::count_if(conns.begin(), conns.end(), [&](const auto& o) {
    return !o->gone && o->peer() == c->peer();
  });
  bool room = make_room([&](const connection& o) { return o.peer() == c->peer(); }, same, o.max_connections_per_client) &&
              make_room([](const connection&) { return true; }, conn_count.load(), o.max_connections);
  if (!room) {
    // Every connection is busy answering: refuse this one at once.
    c->close();
    return;
  }
  conns.push_back(c);
  ++conn_count;
  c->start();
}

void server::impl::handle(std::shared_ptr<connection> c, std::shared_ptr<request> req) {
  asio::post(pool, [self = shared_from_this(), c, req]() mutable {
    response res;
    try {
      bool answered = self->gate && self->gate(*req, res);
      if (!answered) {
        bool path_known = false;
        for (const auto& r : self->routes) {
          std::smatch m;
          if (!std::regex_match(req->path, m, r.pattern))
            continue;
          path_known = true;
          if (r.method != req->method && !(r.method == "GET" && req->method == "HEAD"))
            continue;
          for (const auto& g : m)
            req->matches.push_back(g.str());
          r.handler(*req, res);
          answered = true;
          break;
        }
        if (!answered && (req->method == "GET" || req->method == "HEAD") && self->fallback && !path_known) {
          self->fallback(*req, res);
          answered = true;
        }
        if (!answered)
          res.json(path_known ? json_error("method_not_allowed", req->method + " is not allowed on " + req->path)
                              : json_error("not_found", "no such route"),
                   path_known ? 405 : 404);
      }
    } catch (const std::exception& e) {
      spdlog::error("http: {} {}: {}", req->method, req->path, e.what());
      res = response{};
      res.json(json_error("internal", "the request failed"), 500);
    }
    asio::post(self->io, [c, req, res = std::move(res)]() mutable { c->send(std::move(req), std::move(res)); });
  });
}

server::server(server_options o) : impl_(std::make_shared<impl>(std::move(o))) {}

server::~server() { stop(); }

void server::route(const std::string& method, const std::string& pattern, handler_fn h) {
  impl_->routes.push_back({method, std::regex{pattern}, std::move(h)});
}
void server::fallback(handler_fn h) { impl_->fallback = std::move(h); }
void server::gate(gate_fn g) { impl_->gate = std::move(g); }
void server::finish(std::function<void(const request&, response&)> f) { impl_->finish = std::move(f); }

result<std::uint16_t> server::listen(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec)
    return error{errc::bad_input, "http: " + host + " is not an IP address"};
  tcp::endpoint ep{address, port};
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec)
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    impl_->acceptor.bind(ep, ec);
  if (!ec)
    impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return error{errc::unavailable, "http: cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message()};
  auto bound = impl_->acceptor.local_endpoint(ec).port();
  impl_->work.emplace(impl_->io.get_executor());
  impl_->accept();
  impl_->io_thread = std::thread([io = &impl_->io] { io->run(); });
  return std::uint16_t(bound);
}

void server::stop() {
  if (impl_->stopped.exchange(true))
    return;
  if (impl_->io_thread.joinable()) {
    asio::post(impl_->io, [self = impl_] {
      beast::error_code ec;
      self->acceptor.close(ec);
      auto all = self->conns;
      for (auto& c : all)
        c->close();
    });
  }
  impl_->pool.join();  // handlers finish; their answers are posted to the I/O thread
  impl_->work.reset();
  if (impl_->io_thread.joinable()) {
    // Give queued writes a moment, then stop the loop.
    asio::post(impl_->io, [self = impl_] { self->io.stop(); });
    impl_->io_thread.join();
  }
}

std::size_t server::connections() const { return impl_->conn_count.load(); }
std::size_t server::streams() const { return impl_->stream_count.load(); }

}  // namespace postroll::http
