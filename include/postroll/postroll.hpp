// postroll's C++ API in one include: start a runtime in the host's process
// (or connect to a node), submit sessions, follow their jobs by events.
// docs/embedding.md: lifetime, threading, the error model, ABI policy.
//
//   #include <postroll/postroll.hpp>
//   auto rt = postroll::runtime::start("postroll.toml");   // result<unique_ptr<runtime>>
//   if (!rt) { std::cerr << rt.err().message; return 1; }
//   auto sub = (*rt)->subscribe([](const postroll::event& e) { ... });  // on a runtime thread
//   auto job = (*rt)->submit("/recordings/s-1", postroll::submit_options{});
//   auto done = (*rt)->wait(job->id, std::chrono::minutes(10));
//
// No CAF, GStreamer or RocksDB header is reachable from here.
#pragma once

#include "postroll/config.hpp"
#include "postroll/error.hpp"
#include "postroll/event.hpp"
#include "postroll/export.h"
#include "postroll/job.hpp"
#include "postroll/runtime.hpp"
