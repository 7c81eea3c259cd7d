// The node agent: what runs on a worker node (node.role = worker). It holds
// no job state. It connects to the coordinator's supervisor through the
// middleman (reconnecting with capped backoff, forever), joins its queue
// with this node's capabilities and stage workers, forwards their progress
// and results, and keeps every result until the coordinator acknowledged
// it, so a stage that ends while the coordinator restarts is not lost: the
// rejoin reports it, and the coordinator re-adopts what still runs.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "postroll/config.hpp"
#include "postroll/error.hpp"

namespace postroll {

/// A running worker node; stops (its stages cancelled, their leases left
/// to lapse) when destroyed.
class worker_node {
public:
  /// Starts the stage workers and begins connecting to cfg.coordinator.
  /// `refused` is called (once, from a CAF thread) when the coordinator
  /// refuses this node at registration, with its reason.
  /// @returns bad_input for an unusable config (no encoder, bad mapping syntax).
  static result<std::unique_ptr<worker_node>> start(const config& cfg, std::function<void(const std::string&)> refused);

  ~worker_node();
  worker_node(const worker_node&) = delete;
  worker_node& operator=(const worker_node&) = delete;

  struct impl;

private:
  explicit worker_node(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace postroll
