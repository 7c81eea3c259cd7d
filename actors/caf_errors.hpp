// CAF's errors in words a user can act on. CAF renders its own errors as
// "system_error(cannot_connect_to_node, (\"ip_connect failed\", ...))":
// library text that must not reach a person (the CLI, the C API, HTTP).
#pragma once

#include <string>

#include <caf/error.hpp>

namespace postroll {

/// What went wrong talking to an actor or a node, e.g. "nothing answers
/// there" or "no answer within 30 s". Codes without a plain reading say
/// "an internal error" with the code.
std::string plain_words(const caf::error& e);

}  // namespace postroll
