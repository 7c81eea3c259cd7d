// postroll error model: errors are values, never exceptions across the API.
#pragma once

#include "postroll/export.h"

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace postroll {

/// What kind of failure an error is. The kind decides what happens next:
/// `bad_input` is permanent (retrying cannot help), `media` and `io` may be
/// transient and are retried, `cancelled` ends a job on request.
enum class errc {
  bad_input = 1,  ///< manifest or input file is wrong; message names the file
  not_found,      ///< unknown job, session or file
  media,          ///< a GStreamer pipeline failed
  io,             ///< a filesystem or database operation failed
  cancelled,      ///< the work was cancelled on request
  unavailable,    ///< a node or service could not be reached
  internal,       ///< a bug; the message says where
};

/// Human-readable name of an error kind ("bad_input", ...).
POSTROLL_API const char* to_string(errc code) noexcept;

/// A failure: its kind and a one-line message meant for users.
struct error {
  errc code = errc::internal;
  std::string message;
};

/// Either a value or an error (a small `expected`, C++17 has none).
template <class T>
class result {
public:
  result(T value) : data_(std::move(value)) {}
  result(error err) : data_(std::move(err)) {}

  /// @returns true when a value is held.
  explicit operator bool() const noexcept { return data_.index() == 0; }
  T& value() { return std::get<0>(data_); }
  const T& value() const { return std::get<0>(data_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  /// @pre `!*this`
  const error& err() const { return std::get<1>(data_); }

private:
  std::variant<T, error> data_;
};

/// Success or an error, for operations without a value.
using maybe_error = std::optional<error>;

}  // namespace postroll
