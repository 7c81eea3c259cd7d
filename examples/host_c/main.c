/* A host in C: starts postroll in-process, submits the session folder given
 * on the command line, prints progress with ETA and the final record, and
 * exits with the job's outcome (0 completed, 1 failed or cancelled, 2 bad
 * input or start-up failure).
 *
 * usage: host_c SESSION_DIR [DATA_DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <postroll/postroll.h>

/* The string value of "key" in a flat JSON object, or "" (a host would
 * use its JSON library; this keeps the example dependency-free). */
static void field(const char* json, const char* key, char* out, size_t size) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char* at = strstr(json, pattern);
  out[0] = 0;
  if (!at)
    return;
  at += strlen(pattern);
  if (*at == '"')
    ++at;
  size_t n = 0;
  while (at[n] && at[n] != '"' && at[n] != ',' && at[n] != '}' && n + 1 < size)
    ++n;
  memcpy(out, at, n);
  out[n] = 0;
}

/* Runs on a postroll thread: prints progress with ETA and job endings. */
static void on_event(const char* event_json, void* user_data) {
  (void)user_data;
  char kind[32], stage[64], progress[32], eta[32];
  field(event_json, "kind", kind, sizeof kind);
  field(event_json, "stage", stage, sizeof stage);
  field(event_json, "progress", progress, sizeof progress);
  field(event_json, "etaMs", eta, sizeof eta);
  if (strcmp(kind, "stage-progress") == 0) {
    printf("progress %s %.0f%%", stage, atof(progress) * 100);
    if (eta[0])
      printf(" eta %lds", (atol(eta) + 999) / 1000);
    printf("\n");
  }
  else if (strncmp(kind, "stage-", 6) == 0 || strncmp(kind, "job-", 4) == 0)
    printf("%s %s\n", kind, stage);
  fflush(stdout);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: host_c SESSION_DIR [DATA_DIR]\n");
    return 2;
  }
  postroll_runtime* rt = NULL;
  if (postroll_start(NULL, argc > 2 ? argv[2] : ".postroll", &rt) != POSTROLL_OK) {
    fprintf(stderr, "host_c: cannot start postroll: %s\n", postroll_last_error());
    return 2;
  }
  postroll_subscription* sub = NULL;
  postroll_subscribe(rt, on_event, NULL, &sub);

  char* job = NULL;
  int rc = postroll_submit(rt, argv[1], NULL, &job);
  if (rc != POSTROLL_OK) {
    fprintf(stderr, "host_c: %s\n", postroll_last_error());
    postroll_unsubscribe(sub);
    postroll_free(rt);
    return rc == POSTROLL_EBAD_INPUT ? 2 : 1;
  }
  char id[64];
  field(job, "id", id, sizeof id);
  postroll_string_free(job);

  char* final_record = NULL;
  rc = postroll_wait(rt, id, 3600 * 1000, &final_record);
  postroll_unsubscribe(sub);
  if (rc != POSTROLL_OK) {
    fprintf(stderr, "host_c: %s\n", postroll_last_error());
    postroll_free(rt);
    return 1;
  }
  printf("final %s\n", final_record);
  int ok = strstr(final_record, "\"state\":\"completed\"") != NULL;
  postroll_string_free(final_record);
  postroll_free(rt);
  return ok ? 0 : 1;
}
