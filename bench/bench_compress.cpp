// Runs the compression pipeline on one file, as the media.compress stage
// does (encode, then the playability check), and prints one JSON line:
// wall seconds for each part, frames in/out, sizes. bench/bench-compress.sh
// compares it with ffmpeg.
//
// usage: bench_compress INPUT.mp4 OUTPUT.mp4 [low|medium|high] [ENCODER] [keep-all]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "pipelines/compress.hpp"
#include "pipelines/media_probe.hpp"

using namespace postroll;
using clk = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_compress INPUT.mp4 OUTPUT.mp4 [low|medium|high] [ENCODER]\n");
    return 2;
  }
  compress_options o;
  if (argc > 3 && !parse(argv[3], o.preset)) {
    std::fprintf(stderr, "unknown preset %s\n", argv[3]);
    return 2;
  }
  if (argc > 4)
    o.encoder = argv[4];
  if (argc > 5 && std::string{argv[5]} == "keep-all")
    o.drop_duplicates = false;  // to measure what dropping costs and saves
  cancel_token cancel;
  auto t0 = clk::now();
  auto stats = compress_video(argv[1], argv[2], o, cancel, {});
  double encode_s = std::chrono::duration<double>(clk::now() - t0).count();
  if (!stats) {
    std::fprintf(stderr, "%s\n", stats.err().message.c_str());
    return 1;
  }
  auto facts = playable_facts_of(argv[1]);
  auto t1 = clk::now();
  auto check = facts ? check_playable(argv[2], *facts, cancel) : maybe_error{facts.err()};
  double check_s = std::chrono::duration<double>(clk::now() - t1).count();
  nlohmann::json j = {{"encoder", o.encoder},
                      {"preset", to_string(o.preset)},
                      {"encodeSeconds", encode_s},
                      {"checkSeconds", check_s},
                      {"framesIn", stats->frames_in},
                      {"framesOut", stats->frames_out},
                      {"bytesIn", std::filesystem::file_size(argv[1])},
                      {"bytesOut", stats->bytes_out},
                      {"playable", !check},
                      {"why", check ? check->message : ""}};
  std::printf("%s\n", j.dump().c_str());
  return check ? 1 : 0;
}
