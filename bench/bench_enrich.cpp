// Runs one enrichment stage on a session whose media stages have run, the
// way the enrichment worker does, and prints its wall time and result.
// Run it under /usr/bin/time for peak memory (bench/bench-enrich.sh).
//
// usage: bench_enrich SESSION_DIR STAGE
#include <chrono>
#include <cstdio>

#include "enrichment/enrich_stages.hpp"

using namespace postroll;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_enrich SESSION_DIR STAGE\n");
    return 2;
  }
  enrich_options o;
  cancel_token never;
  auto started = std::chrono::steady_clock::now();
  auto r = run_enrich_stage(argv[2], argv[1], o, never, {});
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", argv[2], r.err().message.c_str());
    return 1;
  }
  std::printf("{\"stage\":\"%s\",\"seconds\":%.2f,\"result\":%s}\n", argv[2], secs, r->c_str());
  return 0;
}
