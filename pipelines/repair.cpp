#include "pipelines/repair.hpp"
#include "pipelines/gst_support.hpp"

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pipelines/matroska_repair.hpp"
#include "pipelines/media_probe.hpp"
#include "pipelines/mp4_repair.hpp"
#include "session/output_file.hpp"
#include "pipelines/wav_repair.hpp"
#include "session/seal.hpp"

namespace postroll {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Size and modification time (as the manifest's open saw them): a repaired
// copy stands for its original only while the original is what was repaired.
json fingerprint(const media_ref& r) { return {{"bytes", r.bytes}, {"mtime", r.mtime_ns}}; }

const std::vector<media_ref>& refs_of(const manifest& m, const std::string& kind) {
  return kind == "video" ? m.video : m.audio;
}

// Seconds of media the file really holds: the end of its last packet, read
// by demuxing (no decoding). Headers of a cut file may claim anything
// (a fragmented MP4's index says the first fragment's length).
double demuxed_seconds(const fs::path& p) {
  auto pipe = gst::parse("filesrc name=src ! parsebin ! fakesink name=s sync=false signal-handoffs=true",
                         "measuring " + p.filename().string(), {{"src", "location", p.string()}});
  if (!pipe)
    return 0;
  GstClockTime end = 0;
  auto sink = gst::by_name(pipe->get(), "s");
  g_signal_connect(sink.get(), "handoff", G_CALLBACK(+[](GstElement*, GstBuffer* b, GstPad*, gpointer data) {
                     auto* e = static_cast<GstClockTime*>(data);
                     auto t = GST_BUFFER_PTS_IS_VALID(b) ? GST_BUFFER_PTS(b) : GST_BUFFER_DTS(b);
                     if (GST_CLOCK_TIME_IS_VALID(t))
                       *e = std::max(*e, t + (GST_BUFFER_DURATION_IS_VALID(b) ? GST_BUFFER_DURATION(b) : 0));
                   }),
                   &end);
  cancel_token never;
  if (gst::run(pipe->get(), never))
    return 0;
  return double(end) / double(GST_SECOND);
}

}  // namespace

std::vector<damaged_file> find_damage(const manifest& m) {
  std::vector<damaged_file> out;
  for (const char* kind : {"video", "audio"}) {
    const auto& refs = refs_of(m, kind);
    for (std::size_t i = 0; i < refs.size(); ++i) {
      if (refs[i].missing)
        continue;
      damaged_file d{kind, i, refs[i].path, "", ""};
      auto file = refs[i].open();  // scanned through the session folder's descriptor
      if (!file)
        continue;  // the stages name what is wrong with it
      auto bytes = file->size();
      auto wav = scan_wav(file->path());
      auto mp4 = scan_mp4(file->path());
      if (d.kind == "audio" && (bytes == 0 || (wav.data_offset > 0 && wav.data_bytes == 0))) {
        // A segment the recorder opened and never wrote to: nothing in it
        // to recover; it becomes silence, said so.
        d.damage = "empty-leftover";
        d.reason = bytes == 0 ? "an empty file" : "a WAV header with no samples";
      } else if (mp4.damage == mp4_damage::no_moov && d.kind == "video") {
        d.damage = "mp4-no-moov";
        d.reason = mp4.reason;
      } else if (mp4.damage == mp4_damage::fragment_cut) {
        d.damage = "mp4-fragment-cut";
        d.reason = mp4.reason;
      } else if (auto mkv = scan_matroska(file->path()); mkv.damaged) {
        d.damage = "matroska-cut";
        d.reason = mkv.reason;
      } else if (wav.damaged) {
        d.damage = "wav-header";
        d.reason = wav.reason;
      }
      if (!d.damage.empty())
        out.push_back(std::move(d));
    }
  }
  return out;
}

result<std::string> repair_stage(const manifest& m, const fs::path& out_dir, const repair_options& options,
                                 const cancel_token& cancel, const progress_fn& progress) {
  auto damaged = find_damage(m);
  auto made = m.folder->output_dir((fs::relative(out_dir, m.dir) / "repair").string());
  if (!made)
    return made.err();
  auto dir = *made;
  std::error_code ec;
  json repairs = json::array();
  for (std::size_t n = 0; n < damaged.size(); ++n) {
    const auto& d = damaged[n];
    const auto& ref = refs_of(m, d.kind)[d.index];
    // Read through the descriptor; messages name the file as people know it.
    auto opened = ref.open();
    if (!opened)
      return opened.err();
    const fs::path original = opened->path();
    auto repaired = dir / (d.kind + "-" + std::to_string(d.index) + "-" + ref.resolved.filename().string());
    auto original_bytes = opened->size();
    json r = {{"kind", d.kind}, {"index", d.index}, {"file", d.path}, {"damage", d.damage}, {"reason", d.reason},
              {"original", fingerprint(ref)}};
    auto part = [&](double x) {
      if (progress)
        progress((double(n) + x) / double(damaged.size()));
    };
    std::int64_t kept = 0;
    if (d.damage == "empty-leftover") {
      // Silence on the timeline where it was meant to play: until the next
      // segment starts (unknown for the last one).
      const auto& audio = m.audio;
      double lost = d.index + 1 < audio.size() ? double(audio[d.index + 1].offset_ms - audio[d.index].offset_ms) / 1000.0 : 0.0;
      r["bytesRecovered"] = 0;
      r["bytesLost"] = original_bytes;
      r["secondsRecovered"] = 0.0;
      r["secondsLostEstimate"] = std::max(0.0, lost);
      r["silence"] = true;
      repairs.push_back(r);
      part(1.0);
      continue;
    }
    if (d.damage == "mp4-no-moov") {
      rebuild_options ro;
      ro.reference = options.reference;
      ro.default_fps = options.default_fps;
      auto rebuilt = rebuild_mp4(original, repaired, ro, cancel, part);
      if (!rebuilt)
        return rebuilt.err().code == errc::cancelled
                   ? rebuilt.err()
                   : error{rebuilt.err().code, ref.resolved.string() + ": cannot be repaired: " +
                                                   name_opened_files(rebuilt.err().message)};
      r["frames"] = rebuilt->frames;
      r["fps"] = rebuilt->fps;
      r["fpsFrom"] = rebuilt->fps_from;
      r["configFrom"] = rebuilt->config_from;
      r["bytesRecovered"] = rebuilt->bytes_recovered;
      r["bytesLost"] = rebuilt->bytes_lost;
      if (!rebuilt->stopped_because.empty())
        r["note"] = "stopped at " + rebuilt->stopped_because;
    } else if (d.damage == "mp4-fragment-cut" || d.damage == "matroska-cut") {
      maybe_error err;
      if (d.damage == "mp4-fragment-cut") {
        kept = scan_mp4(original).keep_bytes;
        auto copied = write_atomically(repaired, [&](const fs::path& partial) -> result<bool> {
          std::ifstream in(original, std::ios::binary);
          std::ofstream o(partial, std::ios::binary | std::ios::trunc);
          auto copied = copy_prefix(in, o, kept);
          o.flush();
          if (!o || copied < kept)
            return error{errc::io, repaired.string() + ": cannot be written"};
          return true;
        });
        if (!copied)
          err = copied.err();
      } else {
        kept = scan_matroska(original).keep_bytes;
        err = trim_matroska(original, repaired, kept);
      }
      if (err)
        return error{err->code, name_opened_files(err->message)};
      r["bytesRecovered"] = kept;
      r["bytesLost"] = original_bytes - kept;
    } else if (d.damage == "wav-header") {
      auto scan = scan_wav(original);
      if (auto err = fix_wav(original, repaired, scan))
        return error{err->code, name_opened_files(err->message)};
      r["bytesRecovered"] = scan.data_bytes;
      r["bytesLost"] = original_bytes - scan.data_offset - scan.data_bytes;
    }
    // What plays now, measured on the repaired file; the seconds lost are
    // estimated from the bytes cut off at the recovered bytes-per-second.
    auto seconds = demuxed_seconds(repaired);
    if (seconds <= 0)
      return error{errc::bad_input, ref.resolved.string() + ": repaired copy does not play (" + repaired.string() + ")"};
    r["repaired"] = fs::relative(repaired, m.dir, ec).string();
    r["secondsRecovered"] = std::round(seconds * 1000) / 1000;
    auto recovered = r.value("bytesRecovered", std::int64_t{0}), lost = r.value("bytesLost", std::int64_t{0});
    r["secondsLostEstimate"] = recovered > 0 ? std::round(double(lost) * seconds / double(recovered) * 1000) / 1000 : 0.0;
    repairs.push_back(r);
    part(1.0);
  }
  json result = {{"repairs", repairs}};
  if (auto err = write_file_atomically(dir / "repairs.json", sealed(result, options.seal_key).dump(2)))
    return *err;
  return result.dump();
}

void apply_repairs(manifest& m, const fs::path& out_dir, const std::string& seal_key) {
  std::ifstream in(out_dir / "repair" / "repairs.json");
  if (!in)
    return;
  auto doc = json::parse(in, nullptr, false);
  if (!seal_valid(doc, seal_key)) {
    // A record this node did not write (planted, or from another data dir):
    // the originals count; a repair stage writes a new one when needed.
    spdlog::warn("repair: {} was not written by this node; ignored", (out_dir / "repair" / "repairs.json").string());
    return;
  }
  auto repair_rel = fs::relative(out_dir / "repair", m.dir).string() + "/";
  for (const auto& r : doc.value("repairs", json::array())) {
    auto kind = r.value("kind", "");
    auto index = r.value("index", std::size_t(0));
    auto& refs = kind == "video" ? m.video : m.audio;
    if ((kind != "video" && kind != "audio") || index >= refs.size() || refs[index].path != r.value("file", ""))
      continue;
    if (fingerprint(refs[index]) != r["original"])
      continue;  // the original changed since: it is what counts now
    if (r.value("silence", false)) {
      refs[index].missing = true;  // the timeline leaves silence there
      continue;
    }
    auto repaired = r.value("repaired", "");
    // Only a copy in the repair folder, opened through the session folder.
    if (repaired.rfind(repair_rel, 0) != 0 || repaired.find("..") != std::string::npos)
      continue;
    auto probe = refs[index];
    probe.open_rel = repaired;
    if (probe.open()) {
      refs[index].open_rel = repaired;
      refs[index].resolved = m.dir / repaired;
    }
  }
}

}  // namespace postroll
