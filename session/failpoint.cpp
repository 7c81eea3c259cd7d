#include "session/failpoint.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

namespace postroll {

void failpoint(const char* point) {
  static const std::string spec = [] {
    const char* v = std::getenv("POSTROLL_FAILPOINT");
    return std::string(v ? v : "");
  }();
  if (spec.empty() || spec.compare(0, std::strlen(point), point) != 0 ||
      (spec.size() > std::strlen(point) && spec[std::strlen(point)] != ':'))
    return;
  static std::atomic<int> passes{0};
  auto colon = spec.find(':');
  int at = colon == std::string::npos ? 1 : std::atoi(spec.c_str() + colon + 1);
  if (++passes == at) {
    spdlog::warn("failpoint {} reached: SIGKILL", spec);
    ::raise(SIGKILL);
  }
}

}  // namespace postroll
