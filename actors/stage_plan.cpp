#include "actors/stage_plan.hpp"

#include "pipelines/stages.hpp"

namespace postroll {

std::vector<stage_record> plan_stages(const manifest& m) {
  std::vector<stage_record> out;
  auto stage = [](const char* name) {
    stage_record s;
    s.name = name;
    return s;
  };
  if (m.has_audio())
    out.push_back(stage(stage_timeline));
  out.push_back(stage(stage_merge));
  return out;
}

}  // namespace postroll
