// One HTTP POST with a deadline (libcurl): what the summary's chat endpoint
// and the notifier's webhook need. Header values are never logged (they
// carry API keys).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "postroll/error.hpp"

namespace postroll {

struct http_response {
  long status = 0;
  std::string body;
};

/// POSTs `body` to `url` with `headers` ("Name: value"); gives up after
/// `timeout_ms` or when `cancel` (if given) becomes true.
/// @returns the response (any status), or `errc::unavailable` for a
///          connection failure or timeout, `errc::cancelled`.
result<http_response> http_post(const std::string& url, const std::string& body,
                                const std::vector<std::string>& headers, long timeout_ms,
                                const std::atomic<bool>* cancel = nullptr);

}  // namespace postroll
