#include "pipelines/growing_file.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include <gst/app/gstappsrc.h>
#include <spdlog/spdlog.h>

#include "session/session_folder.hpp"  // unique_fd

namespace postroll {

namespace fs = std::filesystem;

namespace {

std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

}  // namespace

growing_form growing_form_of(const fs::path& file) {
  unique_fd f{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.get() < 0)
    return growing_form::not_readable;
  unsigned char head[8];
  auto n = ::pread(f.get(), head, 4, 0);
  if (n < 4)
    return growing_form::too_early;
  if (head[0] == 0x1A && head[1] == 0x45 && head[2] == 0xDF && head[3] == 0xA3)
    return growing_form::readable;  // EBML: Matroska / WebM
  // MP4: top-level boxes until the movie header; media data first means
  // the index comes at the end (not readable before it is written).
  std::int64_t at = 0;
  for (int boxes = 0; boxes < 16; ++boxes) {
    if (::pread(f.get(), head, 8, at) < 8)
      return growing_form::too_early;
    std::uint64_t size = be32(head);
    std::string type(reinterpret_cast<char*>(head + 4), 4);
    if (size < 8)  // 64-bit sizes and "to the end" are media data here
      return growing_form::not_readable;
    if (type == "moov") {
      if (size > (64u << 20))
        return growing_form::not_readable;
      std::string moov(size - 8, '\0');
      if (::pread(f.get(), moov.data(), moov.size(), at + 8) < std::int64_t(moov.size()))
        return growing_form::too_early;
      return moov.find("mvex") != std::string::npos ? growing_form::readable : growing_form::not_readable;
    }
    if (type == "mdat" || type == "moof")
      return growing_form::not_readable;
    at += std::int64_t(size);
  }
  return growing_form::not_readable;
}

growing_file_feed::growing_file_feed(GstElement* appsrc, fs::path file, std::function<bool()> writer_done)
  : src_(appsrc), file_(std::move(file)), writer_done_(std::move(writer_done)) {
  // Bounded and blocking: the feed never runs more than 4 MB ahead of the decoder.
  g_object_set(src_, "stream-type", GST_APP_STREAM_TYPE_STREAM, "format", GST_FORMAT_BYTES, "max-bytes",
               guint64(4u << 20), "block", TRUE, nullptr);
  thread_ = std::thread([this] { run(); });
}

growing_file_feed::~growing_file_feed() {
  stop_ = true;
  // A push blocked on a full queue returns once the pipeline flushes; the
  // caller stops the pipeline, and end-of-stream unblocks one that never ran.
  gst_app_src_end_of_stream(GST_APP_SRC(src_));
  thread_.join();
}

void growing_file_feed::run() {
  unique_fd f{::open(file_.c_str(), O_RDONLY | O_CLOEXEC)};
  unique_fd watch{::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)};
  if (f.get() < 0) {
    spdlog::warn("{}: cannot open: {}", file_.string(), std::strerror(errno));
    gst_app_src_end_of_stream(GST_APP_SRC(src_));
    return;
  }
  if (watch.get() >= 0)
    ::inotify_add_watch(watch.get(), file_.c_str(), IN_MODIFY | IN_CLOSE_WRITE);
  bool last_pass = false;  // the writer is done: what is there now is all
  constexpr std::size_t chunk = 1 << 20;
  while (!stop_) {
    auto* buffer = gst_buffer_new_allocate(nullptr, chunk, nullptr);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_WRITE);
    auto n = ::read(f.get(), map.data, chunk);
    gst_buffer_unmap(buffer, &map);
    if (n > 0) {
      gst_buffer_set_size(buffer, n);
      if (gst_app_src_push_buffer(GST_APP_SRC(src_), buffer) != GST_FLOW_OK)
        return;  // flushing: the pipeline stopped
      continue;
    }
    gst_buffer_unref(buffer);
    if (n < 0 && errno != EINTR) {
      spdlog::warn("{}: cannot read: {}", file_.string(), std::strerror(errno));
      break;
    }
    if (last_pass)
      break;
    if (writer_done_()) {
      last_pass = true;  // read once more: bytes written just before
      continue;
    }
    // Wait for the writer; the timeout bounds how late "done" is noticed.
    pollfd p{watch.get(), POLLIN, 0};
    if (watch.get() >= 0 && ::poll(&p, 1, 200) > 0) {
      std::array<char, 4096> drain;
      while (::read(watch.get(), drain.data(), drain.size()) > 0) {
      }
    } else if (watch.get() < 0) {
      ::poll(nullptr, 0, 200);
    }
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src_));
}

}  // namespace postroll
