#include "actors/stage_plan.hpp"

#include "enrichment/enrich_stages.hpp"
#include "pipelines/repair.hpp"
#include "session/retention.hpp"
#include "pipelines/stages.hpp"

namespace postroll {

std::vector<stage_record> plan_stages(const manifest& m, const plan_options& options) {
  std::vector<stage_record> out;
  auto add = [&](const std::string& name, std::vector<std::string> needs) {
    stage_record s;
    s.name = name;
    s.needs = std::move(needs);
    out.push_back(std::move(s));
  };
  std::vector<std::string> media;  // each media stage needs the one before
  auto add_media = [&](const char* name) {
    add(name, media.empty() ? std::vector<std::string>{} : std::vector<std::string>{media.back()});
    media.push_back(name);
  };
  if (options.repair)
    add_media(stage_repair);
  if (m.has_audio())
    add_media(stage_timeline);
  add_media(stage_merge);
  if (options.compress && m.has_video())  // audio-only outputs are already compact
    add_media(stage_compress);
  // Retention last: it needs every other stage, so a failed stage (which
  // fails the job) means the originals stay.
  auto add_retention = [&] {
    auto stage = retention_stage_for(options.retention);
    if (stage.empty())
      return;
    std::vector<std::string> all;
    for (const auto& s : out)
      all.push_back(s.name);
    add(stage, all);
  };
  if (!options.enrich) {
    add_retention();
    return out;
  }
  // The built-in enrichers read the segments and the playable file's
  // pictures, which compression does not move in time: they start once the
  // merge is done and run beside media.compress (two cores busy, not one).
  // External enrichers get the final media.
  std::vector<std::string> after_media{media.back()};
  std::vector<std::string> after_merge{stage_merge};
  add(stage_chapters, after_merge);
  bool pictures = m.has_video() || !m.screenshots.empty();
  // The transcript reads the segments (and the timeline's length): without
  // screen words to wait for it starts beside the merge, not after it (a
  // live job's transcript is then done seconds after the recording).
  std::vector<std::string> after_timeline{m.has_audio() ? stage_timeline : stage_merge};
  add(stage_audio_review, options.transcript_after_chapters && pictures ? std::vector<std::string>{stage_chapters}
                                                                        : after_timeline);
  add(stage_summary, {stage_audio_review, stage_chapters});
  add(stage_canvas, {stage_summary});
  for (const auto& x : options.extra) {
    auto needs = after_media;
    needs.insert(needs.end(), x.after.begin(), x.after.end());
    add(x.name, needs);
  }
  add_retention();
  return out;
}

std::string pool_of(const std::string& stage) { return stage.substr(0, stage.find('.')); }

}  // namespace postroll
