// A host in C++: starts postroll in-process, submits the session folder
// given on the command line, prints progress with ETA and the final record,
// and exits with the job's outcome (0 completed, 1 failed or cancelled,
// 2 bad input or start-up failure).
//
// usage: host_cpp SESSION_DIR [DATA_DIR]
#include <iostream>

#include <postroll/postroll.hpp>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: host_cpp SESSION_DIR [DATA_DIR]\n";
    return 2;
  }
  postroll::config cfg;
  cfg.data_dir = argc > 2 ? argv[2] : ".postroll";
  cfg.log_level = "warn";  // this program prints its own progress
  auto rt = postroll::runtime::start(cfg);
  if (!rt) {
    std::cerr << "host_cpp: cannot start postroll: " << rt.err().message << "\n";
    return 2;
  }
  // Runs on a runtime thread; events of one job arrive in order.
  auto sub = (*rt)->subscribe([](const postroll::event& e) {
    if (e.kind == postroll::events::stage_progress)
      std::cout << "progress " << e.stage << " " << int(e.progress * 100) << "%"
                << (e.eta_ms >= 0 ? " eta " + std::to_string((e.eta_ms + 999) / 1000) + "s" : "") << std::endl;
    else if (e.kind == postroll::events::stage_completed)
      std::cout << "done " << e.stage << std::endl;
  });
  auto job = (*rt)->submit(argv[1], postroll::submit_options{});
  if (!job) {
    std::cerr << "host_cpp: " << job.err().message << "\n";
    return job.err().code == postroll::errc::bad_input ? 2 : 1;
  }
  auto done = (*rt)->wait(job->id, std::chrono::hours(1));
  if (!done) {
    std::cerr << "host_cpp: " << done.err().message << "\n";
    return 1;
  }
  std::cout << "final " << postroll::to_json(*done) << std::endl;
  return done->state == postroll::job_state::completed ? 0 : 1;
}
