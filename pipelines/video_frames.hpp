// Decoded pictures for analysis: video frames at a steady interval, still
// images (screenshots), their luma plane, and JPEG thumbnails of them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "pipelines/frame_dedup.hpp"
#include "pipelines/frame_source.hpp"
#include "pipelines/gst_support.hpp"

namespace postroll {

/// Calls `on_frame` with the first decoded frame at or after every
/// multiple of `interval_ms` on the session timeline (its luma plane and
/// the frame itself, I420), until the end, `on_frame` returning false,
/// cancellation or an error. `duration_ms` (0 = unknown) scales progress.
maybe_error read_video_frames(const frame_source& source, std::int64_t interval_ms, std::int64_t duration_ms,
                              const cancel_token& cancel, const progress_fn& progress,
                              const std::function<bool(GstSample* frame, const luma_view& luma,
                                                       std::int64_t pts_ms)>& on_frame);

/// Decodes a still image (PNG, JPEG, ...) to an I420 frame.
result<gst::sample_ptr> read_image(const std::filesystem::path& file);

/// Calls `fn` with the luma plane of an I420 (or any YUV) frame.
/// @returns false when the frame cannot be mapped.
bool with_luma(GstSample* frame, const std::function<void(const luma_view&)>& fn);

/// Writes `frame` scaled to `width` (height keeps the aspect) as a JPEG.
maybe_error write_jpeg(GstSample* frame, int width, const std::filesystem::path& file);

}  // namespace postroll
