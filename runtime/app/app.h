/* app — one running topology: the embedded broker when asked for, the topic
 * checks, and the stream threads; and its orderly, bounded stop. */
#ifndef WEIR_APP_APP_H
#define WEIR_APP_APP_H

#include "topology/topology.h"

typedef struct weir_app weir_app_t;

typedef struct weir_app_options {
  int shutdown_timeout_ms; /* bound on each flush/commit/close step; default 10000 */
  /* The --set assignments the topology was built with: a reload re-reads
   * the INI file and applies them again. */
  char *const *overrides;
  int override_count;
  int no_control; /* no reload service (socket, plugin watcher): tests, the driver */
} weir_app_options_t;

/* Start `t` (borrowed: it must outlive the app). NULL with errstr (one or
 * more lines) when it cannot start. */
weir_app_t *weir_app_start(const weir_topology_t *t, const weir_app_options_t *opts, char *errstr,
                           size_t errstr_size);
/* [any thread but a stream thread] Reload now: re-read the INI file and swap
 * in what changed (operator code, parameters) while records flow. 0 when the
 * new version runs or nothing changed; `report` gets one line either way. */
int weir_app_reload(weir_app_t *app, const char *trigger, char *report, size_t report_size);

/* The bootstrap address the clients use (the embedded broker's when embedded). */
const char *weir_app_bootstrap(const weir_app_t *app);
/* [any thread] Ask every thread to stop (idempotent). */
void weir_app_stop(weir_app_t *app);
/* [any thread] Stop with exit code 1 and `message` logged once. */
void weir_app_fail(weir_app_t *app, const char *message);
/* Wait up to timeout_ms for a stop request; 1 when one was made. */
int weir_app_wait_stop(weir_app_t *app, int timeout_ms);
/* Join the threads (after weir_app_stop); returns the exit code (0 or 1). */
int weir_app_join(weir_app_t *app);
/* The HTTP server's port (-1: http.listen not set). */
int weir_app_http_port(const weir_app_t *app);
/* Records processed by all threads so far. */
unsigned long long weir_app_processed(const weir_app_t *app);
void weir_app_free(weir_app_t *app);

#endif
