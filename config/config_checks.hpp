// Checks on single settings that more than the config file's validator
// applies (the queue checks what a submit or an embedder passes it).
#pragma once

#include <string>

#include "postroll/error.hpp"

namespace postroll {

/// media.output_dir: a relative folder inside the session (no "..", not absolute).
maybe_error check_output_dir(const std::string& output_dir);

/// A retention policy: "keep", "trash" or "delete".
maybe_error check_retention(const std::string& policy);

}  // namespace postroll
