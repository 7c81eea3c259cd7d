/* postroll's C API: for hosts in C, and for Rust, Swift, Python (ctypes)
 * and any other language with a C FFI. docs/embedding.md has the full
 * contract; the essentials:
 *
 *  - Handles are opaque. Every function returns an int status: 0
 *    (POSTROLL_OK) or one of the POSTROLL_E* codes; postroll_last_error()
 *    gives the message of the calling thread's last failure.
 *  - Records and events are JSON strings (schemas in docs/embedding.md).
 *    Strings handed out through a `char**` are the caller's: free them with
 *    postroll_string_free(). Strings passed to a callback are valid only
 *    during the call.
 *  - Every function is safe to call from any thread. No C++ exception
 *    leaves the library.
 *  - Event callbacks run on a thread owned by the runtime (never the
 *    caller's, never one that blocks the runtime): a callback may call back
 *    into the API, e.g. submit the next session. Events of one job arrive
 *    in order.
 */
#ifndef POSTROLL_POSTROLL_H
#define POSTROLL_POSTROLL_H

#include "postroll/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (the same numbers as postroll::errc). */
#define POSTROLL_OK 0
#define POSTROLL_EBAD_INPUT 1   /* the session or an argument is wrong; the message names the file */
#define POSTROLL_ENOT_FOUND 2   /* no such job */
#define POSTROLL_EMEDIA 3       /* a media pipeline failed */
#define POSTROLL_EIO 4          /* a file or database operation failed */
#define POSTROLL_ECANCELLED 5   /* cancelled on request */
#define POSTROLL_EUNAVAILABLE 6 /* stopped, not answering, or a wait timed out */
#define POSTROLL_EINTERNAL 7    /* a bug; the message says where */

typedef struct postroll_runtime postroll_runtime;
typedef struct postroll_subscription postroll_subscription;

/* Called with one event as JSON; `user_data` is what was given to
 * postroll_subscribe. */
typedef void (*postroll_event_fn)(const char* event_json, void* user_data);

/* The library's version, e.g. "0.1.0". */
POSTROLL_API const char* postroll_version(void);

/* The message of the calling thread's last failed call ("" if none). */
POSTROLL_API const char* postroll_last_error(void);

/* Frees a string returned through a `char**` (NULL is fine). */
POSTROLL_API void postroll_string_free(char* s);

/* Starts a runtime in this process. `config_path`: a TOML config file (the
 * node's keys, docs/configuration.md) or NULL for the defaults;
 * `data_dir`: overrides the job database folder when not NULL. */
POSTROLL_API int postroll_start(const char* config_path, const char* data_dir, postroll_runtime** out);

/* Stops accepting work, lets running stages finish for up to `grace_ms`,
 * then stops; unfinished jobs stay durable for the next start. The handle
 * stays valid (calls then fail with POSTROLL_EUNAVAILABLE) until freed. */
POSTROLL_API int postroll_stop(postroll_runtime* rt, int grace_ms);

/* Stops (grace 0) if needed and frees the handle. NULL is fine. */
POSTROLL_API void postroll_free(postroll_runtime* rt);

/* Accepts a job for a session folder. `options_json` may be NULL or e.g.
 * {"priority": "high", "compress": false, "enrich": true}. With
 * {"live": true} the job is opened while the recording is made (see
 * postroll_append_file, postroll_end_recording). On success `*job_json`
 * (if not NULL) receives the job record. */
POSTROLL_API int postroll_submit(postroll_runtime* rt, const char* session_dir, const char* options_json,
                                 char** job_json);

/* A live job: lists a file the recorder finished in the session's
 * session.json (on disk before this returns). `kind` is "audio", "video" or
 * "screenshot"; `path` is relative to the session folder; `offset_ms` places
 * it on the session timeline. Appending the same file again changes nothing. */
POSTROLL_API int postroll_append_file(postroll_runtime* rt, const char* job_id, const char* kind, const char* path,
                                      long long offset_ms, char** job_json);

/* A live job: the recording is over (session.json gets "endedAt"). */
POSTROLL_API int postroll_end_recording(postroll_runtime* rt, const char* job_id, char** job_json);

/* One job's record. */
POSTROLL_API int postroll_status(postroll_runtime* rt, const char* job_id, char** job_json);

/* Jobs, newest first. `filter_json` may be NULL or e.g.
 * {"state": "failed", "session": "s-1", "limit": 20, "cursor": "..."}.
 * `*page_json` receives {"jobs": [...], "next": "cursor or empty"}. */
POSTROLL_API int postroll_list(postroll_runtime* rt, const char* filter_json, char** page_json);

/* Cancel, retry, delete (`with_outputs`: 1 also <session>/postroll/; 2 also
 * the recording's files and session.json, cancelling a live job first and
 * crash-safe: finished at the next start if the process dies). Each gives
 * the job's record as it is afterwards (if `job_json` is not NULL). */
POSTROLL_API int postroll_cancel(postroll_runtime* rt, const char* job_id, char** job_json);
POSTROLL_API int postroll_retry(postroll_runtime* rt, const char* job_id, char** job_json);
POSTROLL_API int postroll_remove(postroll_runtime* rt, const char* job_id, int with_outputs, char** job_json);

/* Blocks until the job is completed, failed or cancelled (or `timeout_ms`
 * passes: POSTROLL_EUNAVAILABLE). */
POSTROLL_API int postroll_wait(postroll_runtime* rt, const char* job_id, int timeout_ms, char** job_json);

/* Calls `fn` for every event from now on until postroll_unsubscribe. */
POSTROLL_API int postroll_subscribe(postroll_runtime* rt, postroll_event_fn fn, void* user_data,
                                    postroll_subscription** out);

/* Stops the callbacks: none runs after this returns (unless called from
 * inside one, which is allowed). Frees the handle. NULL is fine. */
POSTROLL_API void postroll_unsubscribe(postroll_subscription* sub);

#ifdef __cplusplus
}
#endif

#endif /* POSTROLL_POSTROLL_H */
