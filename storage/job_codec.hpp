// JSON encoding of job records and events (schema version 1).
#pragma once

#include <nlohmann/json.hpp>

#include "postroll/event.hpp"
#include "postroll/job.hpp"
#include "postroll/node.hpp"

namespace postroll {

nlohmann::json to_json_value(const job_record& job);
nlohmann::json to_json_value(const event& e);
/// A node serving the queue, as `postroll nodes --json` and /api/nodes show it.
nlohmann::json to_json_value(const node_summary& n);

}  // namespace postroll
