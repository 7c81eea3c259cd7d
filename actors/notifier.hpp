// The notifier actor: the one event stream. It logs every event and fans it
// out, in order, to every subscriber (in-process hosts, the CLI, other
// nodes), and hands job endings to the desktop/webhook sender.
#pragma once

#include "actors/interfaces.hpp"
#include "net/notification_sender.hpp"

namespace postroll {

notifier_actor spawn_notifier(caf::actor_system& sys, notifier_config cfg = {});

}  // namespace postroll
