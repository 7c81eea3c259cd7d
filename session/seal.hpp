// Seals on postroll's own records in a session folder (the retention
// journal, the repair record, enrichment cache keys): an HMAC-SHA256 with a
// key only the node's queue knows, bound to the session folder. A record
// someone else wrote (a recorder, another local user) has no valid seal and
// is never taken as postroll's (docs/security.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace postroll {

/// The key for one session folder: HMAC(node secret, folder path), hex.
/// Stage orders carry it; workers never see the node secret.
std::string session_seal_key(const std::string& node_secret, const std::string& session_dir);

/// HMAC-SHA256 of `text` under `key`, hex.
std::string keyed_hash(const std::string& key, const std::string& text);

/// `doc` (an object) with a "seal" member over the rest of it.
nlohmann::json sealed(nlohmann::json doc, const std::string& key);

/// Whether `doc` is an object carrying a valid seal under `key` (compared in
/// constant time).
bool seal_valid(const nlohmann::json& doc, const std::string& key);

}  // namespace postroll
