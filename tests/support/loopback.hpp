#pragma once
// Raw TCP to a local port, for tests and benchmarks that speak HTTP byte by
// byte (slow clients, floods, hand-written requests).
#include <cstdint>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace postroll::test {

/// A connection to 127.0.0.1:port whose reads give up after `read_timeout`;
/// -1 when refused.
inline int dial_loopback(int port, timeval read_timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof read_timeout);
  return fd;
}

/// A loopback port bound but not listening, for as long as this lives:
/// nothing answers there (a connect is refused at once) and no other
/// process can take it. Closed, it is a free port to hand to a server.
struct bound_port {
  int fd = -1;
  std::uint16_t port = 0;
  bound_port() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~bound_port() { ::close(fd); }
  bound_port(const bound_port&) = delete;
  bound_port& operator=(const bound_port&) = delete;
};

}  // namespace postroll::test
