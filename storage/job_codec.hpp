// JSON encoding of job records and events (schema version 1).
#pragma once

#include <nlohmann/json.hpp>

#include "postroll/event.hpp"
#include "postroll/job.hpp"
#include "postroll/node.hpp"

namespace postroll {

nlohmann::json to_json_value(const job_record& job);
/// A stage's JSON result with the size of the session's output folder
/// added ("outputBytes": read back with postroll::output_bytes_of).
std::string with_output_bytes(const std::string& result_json, std::int64_t bytes);
nlohmann::json to_json_value(const event& e);
/// A node serving the queue, as `postroll nodes --json` and /api/nodes show it.
nlohmann::json to_json_value(const node_summary& n);

}  // namespace postroll
