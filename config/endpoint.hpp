// Network addresses in configs and on the command line: HOST:PORT, and
// whether a host is loopback (off loopback, nodes need TLS and the HTTP
// API needs a token).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "postroll/error.hpp"

namespace postroll {

/// "localhost", "::1" or an IPv4 address in 127.0.0.0/8.
bool is_loopback(const std::string& host);

/// "HOST:PORT" split at the last colon; nullopt when malformed.
std::optional<std::pair<std::string, std::uint16_t>> parse_endpoint(const std::string& text);

/// Writes "HOST:PORT" into `file` atomically (a temporary, then a rename):
/// how a node on an OS-chosen port tells clients where it listens.
maybe_error write_endpoint(const std::filesystem::path& file, const std::string& host, std::uint16_t port);

}  // namespace postroll
