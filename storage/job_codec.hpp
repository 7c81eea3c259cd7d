// JSON encoding of job records and events (schema version 1).
#pragma once

#include <nlohmann/json.hpp>

#include "postroll/event.hpp"
#include "postroll/job.hpp"

namespace postroll {

nlohmann::json to_json_value(const job_record& job);
nlohmann::json to_json_value(const event& e);

}  // namespace postroll
