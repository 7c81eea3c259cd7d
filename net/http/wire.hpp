// HTTP/1.1 on the wire, as the server needs it: query strings, status
// reasons, byte ranges, JSON error bodies. No I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace postroll::http {

/// "a=1&b=x%20y" -> {a: 1, b: "x y"}.
std::map<std::string, std::string> parse_query(const std::string& q);
/// "OK", "Not Found", ... for a status code.
const char* reason_of(int status);
/// "bytes=a-b", "bytes=a-", "bytes=-n": one range (what players send) of a
/// file of `size` bytes; false when it does not fit.
bool parse_range(const std::string& h, std::uint64_t size, std::uint64_t& from, std::uint64_t& to);
/// {"error": kind, "message": message}, control characters dropped.
std::string json_error(const std::string& kind, const std::string& message);

}  // namespace postroll::http
