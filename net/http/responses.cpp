#include "net/http/responses.hpp"

#include <nlohmann/json.hpp>

namespace postroll::http {

int status_of(errc code) {
  switch (code) {
    case errc::bad_input: return 400;
    case errc::not_found: return 404;
    case errc::unavailable: return 503;
    default: return 500;
  }
}

void send_error(response& res, int status, const std::string& kind, const std::string& message) {
  // Replacement, not an exception: a message may quote bytes from outside.
  res.json(nlohmann::json{{"error", kind}, {"message", message}}.dump(-1, ' ', false,
                                                                       nlohmann::json::error_handler_t::replace),
           status);
}

void send_error(response& res, const error& e) { send_error(res, status_of(e.code), to_string(e.code), e.message); }

void send_json(response& res, const std::string& body, int status) { res.json(body, status); }

std::string content_type_of(const std::filesystem::path& p) {
  auto ext = p.extension().string();
  if (ext == ".mp4")
    return "video/mp4";
  if (ext == ".m4a" || ext == ".aac")
    return "audio/mp4";
  if (ext == ".webm")
    return "video/webm";
  if (ext == ".mov")
    return "video/quicktime";
  if (ext == ".mkv")
    return "video/x-matroska";
  if (ext == ".wav")
    return "audio/wav";
  if (ext == ".mp3")
    return "audio/mpeg";
  if (ext == ".opus" || ext == ".ogg" || ext == ".oga")
    return "audio/ogg";
  if (ext == ".flac")
    return "audio/flac";
  if (ext == ".jpg" || ext == ".jpeg")
    return "image/jpeg";
  if (ext == ".png")
    return "image/png";
  if (ext == ".json")
    return "application/json";
  if (ext == ".html")
    return "text/html; charset=utf-8";
  if (ext == ".js")
    return "text/javascript; charset=utf-8";
  if (ext == ".css")
    return "text/css; charset=utf-8";
  if (ext == ".svg")
    return "image/svg+xml";
  return "application/octet-stream";
}

void send_fd(response& res, int fd, std::uint64_t size, const std::filesystem::path& name) {
  res.status = 200;
  res.content_type = content_type_of(name);
  res.body.clear();
  res.file = std::make_shared<file_body>();
  res.file->fd = fd;
  res.file->size = size;
}

}  // namespace postroll::http
