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

}  // namespace postroll::test
