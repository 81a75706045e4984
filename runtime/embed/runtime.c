/* runtime — libweir's public face (weir/runtime.h): builds a topology as
 * the weir command does and runs it with weir_app, inside the caller's
 * process. A monitor thread per runtime sees the stop begin (asked or after
 * a failure), tells systemd, joins the stream threads and records the exit
 * code, so weir_runtime_wait can bound a stop that hangs. */
#include <weir/runtime.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "embed/build.h"
#include "plugin/loader.h"
#include "util/log.h"
#include "util/sdnotify.h"

#define PUBLIC __attribute__((visibility("default")))

struct weir_runtime {
  int from_file, systemd_notify;
  weir_topology_t *topo;
  weir_app_t *app;
  pthread_t monitor;
  pthread_mutex_t mu;
  pthread_cond_t done_cv; /* signalled once `joined` */
  int joined, exit_code;
};

PUBLIC const char *weir_runtime_version(void) {
  return WEIR_VERSION;
}

PUBLIC int weir_runtime_register_plugin(weir_plugin_entry_fn entry, char *errstr,
                                        size_t errstr_size) {
  return weir_static_plugin_register(entry, errstr, errstr_size);
}

static void *monitor(void *arg) {
  weir_runtime_t *rt = arg;
  weir_log_set_thread_name("weir-monitor");
  while (!weir_app_wait_stop(rt->app, 60000))
    ;
  if (rt->systemd_notify)
    weir_sd_watch_stop(); /* STOPPING=1 as the stop begins, not once it ends */
  int code = weir_app_join(rt->app);
  WEIR_INFO("stopped: %llu records processed, exit code %d", weir_app_processed(rt->app), code);
  pthread_mutex_lock(&rt->mu);
  rt->exit_code = code;
  rt->joined = 1;
  pthread_cond_broadcast(&rt->done_cv);
  pthread_mutex_unlock(&rt->mu);
  return NULL;
}

static weir_runtime_t *runtime_new(weir_topology_t *t, const weir_runtime_options_t *o,
                                   int from_file) {
  weir_runtime_t *rt = calloc(1, sizeof *rt);
  if (!rt)
    return NULL;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&rt->done_cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&rt->mu, NULL);
  rt->from_file = from_file;
  rt->systemd_notify = o->systemd_notify;
  rt->topo = t;
  rt->exit_code = -1;
  return rt;
}

static void runtime_release(weir_runtime_t *rt) {
  pthread_cond_destroy(&rt->done_cv);
  pthread_mutex_destroy(&rt->mu);
  weir_topology_free(rt->topo);
  free(rt);
}

/* The running app with its monitor; on failure everything is released. */
static int launch(weir_runtime_t *rt, const weir_runtime_options_t *o, char *errstr,
                  size_t errstr_size) {
  const weir_topology_t *t = rt->topo;
  /* The control socket and plugin watcher re-read a file: text has none. */
  weir_app_options_t ao = {.shutdown_timeout_ms =
                               o->shutdown_timeout_ms ? o->shutdown_timeout_ms : 10000,
                           .overrides = (char *const *)o->overrides,
                           .override_count = o->override_count,
                           .no_control = !rt->from_file};
  rt->app = weir_app_start(t, &ao, errstr, errstr_size);
  if (!rt->app)
    return -1;
  WEIR_INFO("running %s as application '%s' on %s with %d thread(s)", t->path,
            t->settings.application_id, weir_app_bootstrap(rt->app), t->settings.threads);
  if (rt->systemd_notify)
    weir_sd_watch_start(t->settings.threads);
  int rc = pthread_create(&rt->monitor, NULL, monitor, rt);
  if (rc) {
    snprintf(errstr, errstr_size, "cannot start weir's monitor thread: %s", strerror(rc));
    if (rt->systemd_notify)
      weir_sd_watch_stop();
    weir_app_stop(rt->app);
    weir_app_join(rt->app);
    weir_app_free(rt->app);
    return -1;
  }
  return 0;
}

static weir_runtime_t *start(weir_cfg_t *cfg, weir_diag_t *d, const weir_runtime_options_t *in,
                             int from_file, char *errstr, size_t errstr_size) {
  weir_runtime_options_t o;
  weir_embed_read_options(in, &o);
  weir_topology_t *t = weir_embed_build(cfg, &o, d);
  if (!t) {
    weir_embed_join_lines(d, errstr, errstr_size);
    weir_diag_free(d);
    return NULL;
  }
  weir_diag_free(d);
  weir_runtime_t *rt = runtime_new(t, &o, from_file);
  if (!rt) {
    snprintf(errstr, errstr_size, "out of memory starting %s", t->path);
    weir_topology_free(t);
    return NULL;
  }
  weir_log_set_level(t->settings.log_level);
  weir_log_set_format(t->settings.log_format);
  weir_log_set_sink(o.log, o.log_user);
  if (launch(rt, &o, errstr, errstr_size)) {
    runtime_release(rt);
    return NULL;
  }
  return rt;
}

PUBLIC weir_runtime_t *weir_runtime_start_file(const char *path, const weir_runtime_options_t *opts,
                                               char *errstr, size_t errstr_size) {
  weir_diag_t d = {0};
  if (!path) {
    snprintf(errstr, errstr_size, "weir_runtime_start_file: no path given");
    return NULL;
  }
  return start(weir_cfg_load(path, &d), &d, opts, 1, errstr, errstr_size);
}

PUBLIC weir_runtime_t *weir_runtime_start_text(const char *name, const char *ini_text,
                                               const weir_runtime_options_t *opts, char *errstr,
                                               size_t errstr_size) {
  weir_diag_t d = {0};
  if (!ini_text) {
    snprintf(errstr, errstr_size, "weir_runtime_start_text: no INI text given");
    return NULL;
  }
  return start(weir_cfg_load_string(name ? name : "(text)", ini_text, &d), &d, opts, 0, errstr,
               errstr_size);
}

PUBLIC int weir_runtime_reload_from(weir_runtime_t *rt, const char *trigger, char *report,
                                    size_t report_size) {
  if (!rt)
    return -1;
  if (!rt->from_file) {
    snprintf(report, report_size,
             "reload refused: %s was started from INI text; stop it and start the new text, "
             "or start from a file to reload",
             rt->topo->path);
    return -1;
  }
  return weir_app_reload(rt->app, trigger ? trigger : "weir_runtime_reload", report, report_size);
}

PUBLIC int weir_runtime_reload(weir_runtime_t *rt, char *report, size_t report_size) {
  return weir_runtime_reload_from(rt, NULL, report, report_size);
}

PUBLIC void weir_runtime_stop(weir_runtime_t *rt) {
  if (rt)
    weir_app_stop(rt->app);
}

PUBLIC int weir_runtime_wait(weir_runtime_t *rt, int timeout_ms) {
  struct timespec until;
  if (!rt)
    return 1;
  clock_gettime(CLOCK_MONOTONIC, &until);
  if (timeout_ms > 0) {
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
  }
  pthread_mutex_lock(&rt->mu);
  while (!rt->joined && timeout_ms != 0) {
    int rc = timeout_ms < 0 ? pthread_cond_wait(&rt->done_cv, &rt->mu)
                            : pthread_cond_timedwait(&rt->done_cv, &rt->mu, &until);
    if (rc == ETIMEDOUT)
      break;
  }
  int joined = rt->joined;
  pthread_mutex_unlock(&rt->mu);
  return joined;
}

PUBLIC int weir_runtime_state(weir_runtime_t *rt, weir_runtime_state_t *out) {
  if (!rt || !out || out->struct_size < sizeof(uint32_t))
    return -1;
  weir_runtime_state_t s = {.struct_size = out->struct_size};
  pthread_mutex_lock(&rt->mu);
  s.status = rt->joined ? WEIR_RUNTIME_STOPPED : WEIR_RUNTIME_RUNNING;
  s.exit_code = rt->joined ? rt->exit_code : -1;
  pthread_mutex_unlock(&rt->mu);
  s.records_processed = weir_app_processed(rt->app);
  s.stopping = weir_app_wait_stop(rt->app, 0);
  size_t n = out->struct_size < sizeof s ? out->struct_size : sizeof s;
  memcpy(out, &s, n);
  return 0;
}

PUBLIC int weir_runtime_free(weir_runtime_t *rt) {
  if (!rt)
    return 0;
  weir_app_stop(rt->app);
  pthread_join(rt->monitor, NULL);
  int code = rt->exit_code;
  weir_app_free(rt->app);
  runtime_release(rt);
  weir_log_set_sink(NULL, NULL);
  return code;
}
