// The C API (include/postroll/postroll.h) over the C++ runtime. Every entry
// point catches: no exception crosses into C.
#include "postroll/postroll.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "postroll/runtime.hpp"

using json = nlohmann::json;
using postroll::errc;

struct postroll_runtime {
  std::unique_ptr<postroll::runtime> rt;
};

struct postroll_subscription {
  postroll::subscription sub;
};

namespace {

thread_local std::string last_error;

int fail(errc code, std::string message) {
  last_error = std::move(message);
  return int(code);
}

int fail(const postroll::error& e) { return fail(e.code, e.message); }

char* copy(const std::string& s) {
  auto* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out)
    std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

// Runs `fn` (which returns an int status), turning any exception into
// POSTROLL_EINTERNAL with its message.
template <class Fn>
int guarded(Fn&& fn) noexcept {
  try {
    last_error.clear();
    return fn();
  } catch (const std::exception& e) {
    return fail(errc::internal, std::string{"unexpected error: "} + e.what());
  } catch (...) {
    return fail(errc::internal, "unexpected error");
  }
}

bool live(postroll_runtime* rt) { return rt && rt->rt; }

int give_job(const postroll::result<postroll::job_record>& r, char** out) {
  if (!r)
    return fail(r.err());
  if (out)
    *out = copy(postroll::to_json(*r));
  return POSTROLL_OK;
}

int need(bool ok, const char* what) { return ok ? POSTROLL_OK : fail(errc::bad_input, std::string{what} + " is NULL"); }

// Every entry point's preamble: no exception crosses into C, a stopped
// runtime is an error, and (with_job) a NULL job id too.
template <class Fn>
int on_runtime(postroll_runtime* rt, Fn&& fn) noexcept {
  return guarded([&] {
    if (!live(rt))
      return fail(errc::unavailable, "runtime is stopped");
    return fn();
  });
}

template <class Fn>
int on_job(postroll_runtime* rt, const char* job_id, Fn&& fn) noexcept {
  return on_runtime(rt, [&] {
    if (int rc = need(job_id != nullptr, "job_id"))
      return rc;
    return fn();
  });
}

}  // namespace

extern "C" {

const char* postroll_version(void) { return "0.1.0"; }

const char* postroll_last_error(void) { return last_error.c_str(); }

void postroll_string_free(char* s) { std::free(s); }

int postroll_start(const char* config_path, const char* data_dir, postroll_runtime** out) {
  return guarded([&] {
    if (int rc = need(out != nullptr, "out"))
      return rc;
    *out = nullptr;
    postroll::config cfg;
    if (config_path) {
      auto loaded = postroll::load_config(config_path);
      if (!loaded)
        return fail(loaded.err());
      cfg = *loaded;
    }
    if (data_dir)
      cfg.data_dir = data_dir;
    auto rt = postroll::runtime::start(cfg);
    if (!rt)
      return fail(rt.err());
    *out = new postroll_runtime{std::move(*rt)};
    return POSTROLL_OK;
  });
}

int postroll_stop(postroll_runtime* rt, int grace_ms) {
  return on_runtime(rt, [&] {
    rt->rt->stop(std::chrono::milliseconds(std::max(0, grace_ms)));
    return POSTROLL_OK;
  });
}

void postroll_free(postroll_runtime* rt) {
  guarded([&] {
    delete rt;  // the runtime's destructor stops it
    return POSTROLL_OK;
  });
}

int postroll_submit(postroll_runtime* rt, const char* session_dir, const char* options_json, char** job_json) {
  return on_runtime(rt, [&] {
    if (int rc = need(session_dir != nullptr, "session_dir"))
      return rc;
    postroll::submit_options o;
    if (options_json && *options_json) {
      auto j = json::parse(options_json, nullptr, false);
      if (!j.is_object())
        return fail(errc::bad_input, "options are not a JSON object: " + std::string{options_json});
      if (j.contains("priority") && (!j["priority"].is_string() || !postroll::parse(j["priority"].get<std::string>(), o.prio)))
        return fail(errc::bad_input, "options.priority must be \"high\", \"normal\" or \"low\"");
      for (auto [key, slot] : {std::pair<const char*, std::optional<bool>*>{"compress", &o.compress}, {"enrich", &o.enrich}})
        if (j.contains(key)) {
          if (!j[key].is_boolean())
            return fail(errc::bad_input, std::string{"options."} + key + " must be true or false");
          *slot = j[key].get<bool>();
        }
      if (j.contains("retention")) {
        if (!j["retention"].is_string())
          return fail(errc::bad_input, "options.retention must be \"keep\", \"trash\" or \"delete\"");
        o.retention = j["retention"].get<std::string>();
      }
      if (j.contains("live")) {
        if (!j["live"].is_boolean())
          return fail(errc::bad_input, "options.live must be true or false");
        o.live = j["live"].get<bool>();
      }
    }
    return give_job(rt->rt->submit(session_dir, o), job_json);
  });
}

int postroll_append_file(postroll_runtime* rt, const char* job_id, const char* kind, const char* path,
                         long long offset_ms, char** job_json) {
  return on_job(rt, job_id, [&] {
    if (int rc = need(kind != nullptr && path != nullptr, "kind and path"))
      return rc;
    return give_job(rt->rt->append_file(job_id, postroll::live_file{kind, path, std::int64_t(offset_ms)}), job_json);
  });
}

int postroll_end_recording(postroll_runtime* rt, const char* job_id, char** job_json) {
  return on_job(rt, job_id, [&] { return give_job(rt->rt->end_recording(job_id), job_json); });
}

int postroll_status(postroll_runtime* rt, const char* job_id, char** job_json) {
  return on_job(rt, job_id, [&] {
    return give_job(rt->rt->status(job_id), job_json);
  });
}

int postroll_list(postroll_runtime* rt, const char* filter_json, char** page_json) {
  return on_runtime(rt, [&] {
    postroll::list_filter f;
    if (filter_json && *filter_json) {
      auto j = json::parse(filter_json, nullptr, false);
      if (!j.is_object())
        return fail(errc::bad_input, "filter is not a JSON object: " + std::string{filter_json});
      if (j.contains("state")) {
        postroll::job_state s;
        if (!j["state"].is_string() || !postroll::parse(j["state"].get<std::string>(), s))
          return fail(errc::bad_input, "filter.state must be a job state (pending, processing, ...)");
        f.state = s;
      }
      f.session_id = j.value("session", "");
      f.cursor = j.value("cursor", "");
      f.limit = j.value("limit", 50u);
    }
    auto page = rt->rt->list(f);
    if (!page)
      return fail(page.err());
    if (page_json) {
      json jobs = json::array();
      for (const auto& job : page->jobs)
        jobs.push_back(json::parse(postroll::to_json(job)));
      *page_json = copy(json{{"jobs", jobs}, {"next", page->next}}.dump());
    }
    return POSTROLL_OK;
  });
}

int postroll_cancel(postroll_runtime* rt, const char* job_id, char** job_json) {
  return on_job(rt, job_id, [&] {
    return give_job(rt->rt->cancel(job_id), job_json);
  });
}

int postroll_retry(postroll_runtime* rt, const char* job_id, char** job_json) {
  return on_job(rt, job_id, [&] {
    return give_job(rt->rt->retry(job_id), job_json);
  });
}

int postroll_remove(postroll_runtime* rt, const char* job_id, int with_outputs, char** job_json) {
  return on_job(rt, job_id, [&] {
    if (with_outputs == 2)
      return give_job(rt->rt->remove(job_id, postroll::removal::everything), job_json);
    return give_job(rt->rt->remove(job_id, with_outputs != 0), job_json);
  });
}

int postroll_wait(postroll_runtime* rt, const char* job_id, int timeout_ms, char** job_json) {
  return on_job(rt, job_id, [&] {
    return give_job(rt->rt->wait(job_id, std::chrono::milliseconds(std::max(0, timeout_ms))), job_json);
  });
}

int postroll_subscribe(postroll_runtime* rt, postroll_event_fn fn, void* user_data, postroll_subscription** out) {
  return on_runtime(rt, [&] {
    if (int rc = need(fn != nullptr && out != nullptr, "fn or out"))
      return rc;
    *out = nullptr;
    auto sub = rt->rt->subscribe([fn, user_data](const postroll::event& e) {
      auto text = postroll::to_json(e);
      try {
        fn(text.c_str(), user_data);
      } catch (...) {
        // A C callback cannot throw; a C++ one that does must not take the
        // runtime's thread down.
      }
    });
    if (!sub)
      return fail(sub.err());
    *out = new postroll_subscription{std::move(*sub)};
    return POSTROLL_OK;
  });
}

void postroll_unsubscribe(postroll_subscription* sub) {
  guarded([&] {
    delete sub;
    return POSTROLL_OK;
  });
}

}  // extern "C"
