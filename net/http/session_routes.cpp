// The session routes: a session's job, manifest summary, outputs and
// enrichment; its outputs by name, its canvas, and the recording's own files
// by index. Every file is opened through the session folder's descriptor
// (session_folder): a client never names a path, and a symlink in a session
// folder never leads the server outside it.
#include <nlohmann/json.hpp>

#include "net/http/api_context.hpp"
#include "net/http/responses.hpp"
#include "session/manifest.hpp"

namespace postroll::http {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Enrichment results can be long (a transcript of hours): bounded all the same.
constexpr std::size_t max_result_bytes = 64u << 20;

// The newest job of a session: where its outputs are.
result<job_record> session_job(runtime& rt, const std::string& session_id) {
  list_filter f;
  f.session_id = session_id;
  f.limit = 1;
  auto page = rt.list(f);
  if (!page)
    return page.err();
  if (page->jobs.empty())
    return error{errc::not_found, "no job for session " + session_id};
  return page->jobs.front();
}

// The recording's files as the player needs them: where each sits on the
// timeline and the URL that serves it (by index: a client never names a
// path).
json manifest_json(const manifest& m, const std::string& session_id) {
  json out = json::object();
  auto list = [&](const char* kind, const std::vector<media_ref>& refs) {
    json a = json::array();
    for (std::size_t i = 0; i < refs.size(); ++i) {
      json f = {{"index", i}, {"path", refs[i].path}, {"offsetMs", refs[i].offset_ms}, {"missing", refs[i].missing}};
      if (!refs[i].missing) {
        f["bytes"] = refs[i].bytes;
        f["url"] = "/api/sessions/" + session_id + "/files/" + kind + "/" + std::to_string(i);
        f["contentType"] = content_type_of(refs[i].resolved);
      }
      a.push_back(f);
    }
    out[kind] = a;
  };
  list("video", m.video);
  list("audio", m.audio);
  list("screenshots", m.screenshots);
  return out;
}

manifest_options lenient() {
  manifest_options mo;
  mo.missing_audio_as_silence = true;  // the player shows what is there
  mo.recording = true;  // a live session: what has arrived so far
  return mo;
}

}  // namespace

void add_session_routes(api_server::impl& api) {
  auto& svr = *api.svr;
  auto& rt = api.rt;
  const auto out_rel = api.o.output_dir;

  svr.route("GET", R"(/api/sessions/([A-Za-z0-9._-]{1,128}))", [&rt, out_rel](const request& req, response& res) {
    auto job = session_job(rt, req.matches[1]);
    if (!job)
      return send_error(res, job.err());
    json out = {{"sessionId", job->session_id}, {"name", job->session_name}, {"job", json::parse(to_json(*job))}};
    auto m = load_manifest(job->session_dir, lenient());
    if (m)
      out["manifest"] = manifest_json(*m, job->session_id);
    else
      out["manifestError"] = m.err().message;  // the originals moved or are damaged; outputs may still play
    json outputs = json::array();
    json enrichment = json::object();
    if (auto folder = session_folder::open(job->session_dir)) {
      for (const auto& [name, bytes] : (*folder)->list_outputs(out_rel))
        if (name.find(".partial") == std::string::npos && name.find(".faststart") == std::string::npos)
          outputs.push_back({{"name", name}, {"bytes", bytes},
                             {"url", "/api/sessions/" + job->session_id + "/media/" + name}});
      for (const char* name : {"summary", "chapters", "transcript", "canvas"})
        if (auto file = (*folder)->open_output(out_rel + "/enrichment/" + name + ".json"))
          if (auto text = file->read_all(max_result_bytes))
            enrichment[name] = json::parse(*text, nullptr, false);
    }
    out["outputs"] = outputs;
    if (!enrichment.empty())
      out["enrichment"] = enrichment;
    send_json(res, out.dump(-1, ' ', false, json::error_handler_t::replace));
  });

  // Outputs by name: only plain file names, looked up in the session's
  // output folders (never a path from the client).
  svr.route("GET", R"(/api/sessions/([A-Za-z0-9._-]{1,128})/(media|canvas)(?:/([A-Za-z0-9._-]{1,64}))?)",
            [&rt, out_rel](const request& req, response& res) {
              auto job = session_job(rt, req.matches[1]);
              if (!job)
                return send_error(res, job.err());
              auto folder = session_folder::open(job->session_dir);
              const std::string name = req.matches[3];
              std::vector<std::string> candidates;
              if (req.matches[2] == "canvas")
                candidates = {out_rel + "/enrichment/canvas.jpg", out_rel + "/enrichment/canvas.png"};
              else if (!name.empty() && name.find("..") == std::string::npos && name.front() != '.')
                candidates = {out_rel + "/" + name, out_rel + "/enrichment/" + name,
                              out_rel + "/enrichment/thumbs/" + name};
              if (folder)
                for (const auto& rel : candidates)
                  if (auto file = (*folder)->open_output(rel)) {
                    auto size = std::uint64_t(file->size());
                    auto shown = file->name();
                    return send_fd(res, file->release(), size, shown);
                  }
              send_error(res, 404, "not_found", "session " + job->session_id + " has no such output");
            });

  // The recording's own files, by kind and index in its manifest (the
  // player of a session not merged yet plays them).
  svr.route("GET", R"(/api/sessions/([A-Za-z0-9._-]{1,128})/files/(video|audio|screenshots)/(\d{1,6}))",
            [&rt](const request& req, response& res) {
              auto job = session_job(rt, req.matches[1]);
              if (!job)
                return send_error(res, job.err());
              auto m = load_manifest(job->session_dir, lenient());
              if (!m)
                return send_error(res, 409, "bad_input", m.err().message);
              const auto& refs = req.matches[2] == "video" ? m->video : req.matches[2] == "audio" ? m->audio : m->screenshots;
              auto i = std::size_t(std::stoul(req.matches[3]));
              if (i >= refs.size() || refs[i].missing)
                return send_error(res, 404, "not_found",
                                  "session " + job->session_id + " has no " + req.matches[2] + " file " + req.matches[3]);
              auto file = refs[i].open();
              if (!file)
                return send_error(res, 404, "not_found", file.err().message);
              auto size = std::uint64_t(file->size());
              send_fd(res, file->release(), size, refs[i].resolved);
            });
}

}  // namespace postroll::http
