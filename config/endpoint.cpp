#include "config/endpoint.hpp"

#include <fstream>

#include <arpa/inet.h>

namespace postroll {

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1")
    return true;
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

std::optional<std::pair<std::string, std::uint16_t>> parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  try {
    auto port = std::stoul(text.substr(colon + 1));
    if (port > 65535)
      return std::nullopt;
    return std::make_pair(text.substr(0, colon), static_cast<std::uint16_t>(port));
  } catch (...) {
    return std::nullopt;
  }
}

maybe_error write_endpoint(const std::filesystem::path& file, const std::string& host, std::uint16_t port) {
  auto tmp = file.string() + ".tmp";
  {
    std::ofstream out{tmp};
    out << host << ":" << port << "\n";
    if (!out.flush())
      return error{errc::io, tmp + ": cannot write the endpoint file"};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec)
    return error{errc::io, file.string() + ": " + ec.message()};
  return std::nullopt;
}

}  // namespace postroll
