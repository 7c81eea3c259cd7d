// What `postroll status` reads jobs through: a runtime (a node's, or one
// started here) or this machine's job database opened read-only while
// another process holds it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "postroll/runtime.hpp"

namespace postroll {
class job_store;
}

namespace postroll::cli {

class job_reader {
public:
  virtual ~job_reader() = default;
  /// Up to `limit` jobs, newest first.
  virtual result<std::vector<job_record>> list(std::uint32_t limit) = 0;
  virtual result<job_counts> counts() = 0;
  virtual result<job_record> status(const std::string& id) = 0;
  virtual result<std::vector<journal_entry>> history(const std::string& id) = 0;
};

/// Reads through a runtime (it stays owned by the caller).
std::unique_ptr<job_reader> read_through(runtime& r);
/// Reads a job database directly (owns the store).
std::unique_ptr<job_reader> read_through(std::unique_ptr<job_store> store);

}  // namespace postroll::cli
