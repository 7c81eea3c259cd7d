// The notifier actor: the one event stream. It logs every event and fans it
// out, in order, to every subscriber (in-process hosts, the CLI, other nodes).
#pragma once

#include "actors/interfaces.hpp"

namespace postroll {

notifier_actor spawn_notifier(caf::actor_system& sys);

}  // namespace postroll
