// What every node role builds from its config: the workers' options, the
// node's description (node_info) and the middleman transport (plain TCP on
// loopback, TLS through caf-openssl otherwise). Shared by runtime::start
// (standalone, coordinator) and the worker node.
#pragma once

#include <caf/all.hpp>

#include "actors/interfaces.hpp"
#include "actors/supervisor.hpp"
#include "postroll/config.hpp"

namespace postroll {

/// The supervisor's settings from a config (chooses the H.264 encoder
/// once, with the reasons in the log). @returns bad_input when no listed
/// encoder is usable.
result<supervisor_config> supervisor_config_for(const config& cfg);

/// This node as `postroll nodes` and placement see it.
node_info node_info_for(const config& cfg, const supervisor_config& sc);

/// The node id: node.id, else the host name.
std::string node_id_for(const config& cfg);

/// Whether the config sets up TLS ([tls] certificate, key, ca).
bool uses_tls(const config& cfg);

/// Loads the middleman (and caf-openssl with the config's certificate,
/// key and CA when TLS is set up) into an actor system config.
void configure_transport(caf::actor_system_config& caf_cfg, const config& cfg);

/// Publishes a node's supervisor on host:port over the configured transport
/// (typed: a client checks its interface).
result<std::uint16_t> publish_actor(caf::actor_system& sys, const supervisor_actor& whom, const std::string& host,
                                    std::uint16_t port, bool tls);

/// Reaches the supervisor a node published at host:port.
result<supervisor_actor> remote_supervisor(caf::actor_system& sys, const std::string& host, std::uint16_t port,
                                           bool tls);

}  // namespace postroll
