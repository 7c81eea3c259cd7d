#include "actors/stage_plan.hpp"

#include "pipelines/stages.hpp"

namespace postroll {

std::vector<stage_record> plan_stages(const manifest& m, bool compress) {
  std::vector<stage_record> out;
  auto stage = [](const char* name) {
    stage_record s;
    s.name = name;
    return s;
  };
  if (m.has_audio())
    out.push_back(stage(stage_timeline));
  out.push_back(stage(stage_merge));
  if (compress && m.has_video())  // audio-only outputs are already compact
    out.push_back(stage(stage_compress));
  return out;
}

}  // namespace postroll
