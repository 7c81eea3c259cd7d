#include "actors/caf_errors.hpp"

#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

namespace postroll {

std::string plain_words(const caf::error& e) {
  if (!e)
    return "no error";
  if (e.category() == caf::atom("exit")) {
    switch (static_cast<caf::exit_reason>(e.code())) {
      case caf::exit_reason::unhandled_exception:
        return "it crashed (an exception)";
      case caf::exit_reason::user_shutdown:
        return "it was shut down";
      case caf::exit_reason::kill:
        return "it was killed";
      case caf::exit_reason::remote_link_unreachable:
      case caf::exit_reason::unreachable:
        return "the connection to it was lost";
      default:
        return "it stopped";
    }
  }
  if (e.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(e.code())) {
      case caf::sec::request_timeout:
        return "no answer in time";
      case caf::sec::request_receiver_down:
        return "it stopped before answering";
      case caf::sec::cannot_connect_to_node:
        return "nothing answers there";
      case caf::sec::no_actor_published_at_port:
        return "it is not a postroll node";
      case caf::sec::unexpected_actor_messaging_interface:
        return "it runs an incompatible postroll version";
      case caf::sec::cannot_open_port:
        return "the port cannot be opened (in use by another program, or not permitted)";
      case caf::sec::invalid_argument:
        return "the address is not valid";
      default:
        break;
    }
  }
  return "an internal error (" + caf::to_string(e.category()) + " " + std::to_string(int(e.code())) + ")";
}

}  // namespace postroll
