// Small helpers shared by every pipeline: reference-owning pointers, one bus
// loop that handles ERROR, EOS and cancellation in one place, and a cancel token.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gst/gst.h>

#include "pipelines/gst_init.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll::gst {


struct object_unref {
  void operator()(gpointer p) const {
    if (p)
      gst_object_unref(p);
  }
};
template <class T>
using ptr = std::unique_ptr<T, object_unref>;
using element_ptr = ptr<GstElement>;

struct caps_unref {
  void operator()(GstCaps* c) const {
    if (c)
      gst_caps_unref(c);
  }
};
using caps_ptr = std::unique_ptr<GstCaps, caps_unref>;

struct sample_unref {
  void operator()(GstSample* s) const {
    if (s)
      gst_sample_unref(s);
  }
};
using sample_ptr = std::unique_ptr<GstSample, sample_unref>;

struct buffer_unref {
  void operator()(GstBuffer* b) const {
    if (b)
      gst_buffer_unref(b);
  }
};
using buffer_ptr = std::unique_ptr<GstBuffer, buffer_unref>;

// The GStreamer-free originals (session/cancel_token.hpp), by their
// pipeline names.
using postroll::cancel_token;
using postroll::progress_fn;

/// A string property of a named element, set after the description is
/// parsed: file names and texts from outside never become pipeline syntax.
struct property {
  std::string element;  ///< the element's name= in the description
  std::string name;     ///< e.g. "location", "text"
  std::string value;
};

/// Builds a pipeline from a gst-launch description written by postroll (its
/// own element names, numbers and caps only: never a value from a manifest,
/// a request or a file name), then sets `properties` on the named elements.
/// @returns the pipeline or an `errc::media` error naming `what`.
result<element_ptr> parse(const std::string& description, const std::string& what,
                          const std::vector<property>& properties = {});

/// Looks up a named element inside a bin (owned reference).
element_ptr by_name(GstElement* bin, const char* name);

/// Plays `pipeline` until EOS, an error, or cancellation, polling the bus every
/// 100 ms and calling `tick` after each poll (for progress reporting). Always
/// leaves the pipeline in NULL state.
/// @returns nothing on EOS, `errc::media` on a pipeline error (with the element
///          and GStreamer's message), `errc::cancelled` when cancelled.
maybe_error run(GstElement* pipeline, const cancel_token& cancel,
                const std::function<void()>& tick = {});

/// Pops an ERROR message from a pipeline's bus, waiting up to `wait` for one.
maybe_error pending_error(GstElement* pipeline, GstClockTime wait = 0);

/// The error message of a GStreamer ERROR bus message, prefixed with the element name.
std::string describe(GstMessage* error_message);

}  // namespace postroll::gst
