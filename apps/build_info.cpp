#include "apps/build_info.hpp"

#include <caf/config.hpp>
#include <rocksdb/version.h>

#include "enrichment/screen_text.hpp"
#include "pipelines/encoder_choice.hpp"
#include "pipelines/media_requirements.hpp"
#include "postroll_git_commit.h"

namespace postroll::cli {

build_info this_build() {
  build_info b;
  b.version = POSTROLL_VERSION;
  b.commit = POSTROLL_GIT_COMMIT;
  // CAF and RocksDB are linked as built against (their headers' versions);
  // GStreamer and Tesseract say which library was loaded.
  b.libraries = {
    {"CAF", std::to_string(CAF_MAJOR_VERSION) + "." + std::to_string(CAF_MINOR_VERSION) + "." +
              std::to_string(CAF_PATCH_VERSION)},
    {"GStreamer", gstreamer_version()},
    {"RocksDB", std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
                  std::to_string(ROCKSDB_PATCH)},
    {"Tesseract", screen_reader::engine_version()},
    {"pocketsphinx", POSTROLL_POCKETSPHINX_VERSION},
  };
  return b;
}

encoders_found find_encoders(const std::vector<std::string>& ranked) {
  const auto& ranking = ranked.empty() ? default_encoder_ranking() : ranked;
  encoders_found f;
  for (const auto& name : ranking)
    if (element_present(name))
      f.h264.push_back(name);
  f.chosen = choose_encoder(ranking).name;
  for (const char* name : {"voaacenc", "avenc_aac", "fdkaacenc"})
    if (element_present(name))
      f.aac.push_back(name);
  return f;
}

}  // namespace postroll::cli
