#include "net/http/wire.hpp"

#include <algorithm>
#include <cctype>

#include <unistd.h>

#include "net/http/server.hpp"

namespace postroll::http {

file_body::~file_body() {
  if (fd >= 0)
    ::close(fd);
}

std::string request::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string{} : it->second;
}

std::map<std::string, std::string> parse_query(const std::string& q) {
  std::map<std::string, std::string> out;
  std::size_t at = 0;
  while (at <= q.size()) {
    auto amp = q.find('&', at);
    auto part = q.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    if (!part.empty()) {
      auto eq = part.find('=');
      out.emplace(url_decode(part.substr(0, eq), true),
                  eq == std::string::npos ? std::string{} : url_decode(part.substr(eq + 1), true));
    }
    if (amp == std::string::npos)
      break;
    at = amp + 1;
  }
  return out;
}

const char* reason_of(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

// "bytes=a-b", "bytes=a-", "bytes=-n": one range (what players send).
bool parse_range(const std::string& h, std::uint64_t size, std::uint64_t& from, std::uint64_t& to) {
  if (h.rfind("bytes=", 0) != 0 || h.find(',') != std::string::npos || size == 0)
    return false;
  auto spec = h.substr(6);
  auto dash = spec.find('-');
  if (dash == std::string::npos)
    return false;
  auto a = spec.substr(0, dash), b = spec.substr(dash + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() < 20 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (a.empty()) {
    if (!digits(b))
      return false;
    auto n = std::min<std::uint64_t>(std::stoull(b), size);
    from = size - n;
    to = size - 1;
  } else {
    if (!digits(a) || (!b.empty() && !digits(b)))
      return false;
    from = std::stoull(a);
    to = b.empty() ? size - 1 : std::min<std::uint64_t>(std::stoull(b), size - 1);
  }
  return from <= to && from < size;
}

std::string json_error(const std::string& kind, const std::string& message) {
  std::string out = "{\"error\":\"" + kind + "\",\"message\":\"";
  for (char c : message)
    if (c == '"' || c == '\\')
      out += std::string{'\\', c};
    else if (static_cast<unsigned char>(c) >= 0x20)
      out += c;
  return out + "\"}";
}

std::string url_decode(const std::string& s, bool plus) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += char(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (plus && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

bool request::has_param(const std::string& key) const { return parse_query(query).count(key) > 0; }

std::string request::param(const std::string& key) const {
  auto q = parse_query(query);
  auto it = q.find(key);
  return it == q.end() ? std::string{} : it->second;
}

}  // namespace postroll::http
