#pragma once
// A `postroll node` child for the HTTP benchmarks: started with a config,
// its HTTP port read from what it prints.
#include <regex>
#include <string>

#include <sys/types.h>
#include <unistd.h>

namespace postroll::bench {

/// Forks `binary node --config config` with its stdout on a pipe and waits
/// for "http://127.0.0.1:PORT". @returns its pid (-1 on failure); `port` set.
inline pid_t start_node(const std::string& binary, const std::string& config, int& port) {
  int out[2];
  if (::pipe(out) != 0)
    return -1;
  pid_t node = ::fork();
  if (node == 0) {
    ::dup2(out[1], 1);
    ::execl(binary.c_str(), binary.c_str(), "node", "--config", config.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[512];
  std::smatch m;
  port = 0;
  while (!port) {
    auto n = ::read(out[0], buf, sizeof buf);
    if (n <= 0)
      return -1;
    text.append(buf, std::size_t(n));
    if (std::regex_search(text, m, std::regex{"http://127\\.0\\.0\\.1:(\\d+)"}))
      port = std::stoi(m[1].str());
  }
  return node;
}

}  // namespace postroll::bench
