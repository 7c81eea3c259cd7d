// How the API answers: JSON errors `{error, message}` with the status that
// goes with postroll's error kinds, JSON bodies, files by type.
#pragma once

#include <filesystem>
#include <string>

#include "net/http/server.hpp"
#include "postroll/error.hpp"

namespace postroll::http {

/// The HTTP status for an error kind (bad_input 400, not_found 404, ...).
int status_of(errc code);

void send_error(response& res, int status, const std::string& kind, const std::string& message);
void send_error(response& res, const error& e);
void send_json(response& res, const std::string& body, int status = 200);

/// The Content-Type for a file, by its extension.
std::string content_type_of(const std::filesystem::path& p);

/// Answers with the open file `fd` (owned from here on), Range supported.
void send_fd(response& res, int fd, std::uint64_t size, const std::filesystem::path& name);

}  // namespace postroll::http
