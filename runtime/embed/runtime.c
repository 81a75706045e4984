/* runtime — libweir's public face (weir/runtime.h): builds a topology as
 * the weir command does and runs it with weir_app, inside the caller's
 * process. */
#include <weir/runtime.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "config/config.h"
#include "config/env.h"
#include "plugin/loader.h"
#include "topology/topology.h"
#include "util/log.h"

#define PUBLIC __attribute__((visibility("default")))

struct weir_runtime {
  int from_file;
  weir_topology_t *topo;
  weir_app_t *app;
  pthread_mutex_t mu; /* serialises the join */
  int joined, exit_code;
};

PUBLIC const char *weir_runtime_version(void) {
  return WEIR_VERSION;
}

PUBLIC int weir_runtime_register_plugin(weir_plugin_entry_fn entry, char *errstr,
                                        size_t errstr_size) {
  return weir_static_plugin_register(entry, errstr, errstr_size);
}

/* Copies at most what the caller's struct holds, zero-filling the rest:
 * an older caller's smaller options read as defaults. */
static void read_options(const weir_runtime_options_t *in, weir_runtime_options_t *out) {
  memset(out, 0, sizeof *out);
  if (!in)
    return;
  size_t n = in->struct_size < sizeof *out ? in->struct_size : sizeof *out;
  memcpy(out, in, n);
}

static void join_lines(weir_diag_t *d, char *errstr, size_t size) {
  size_t used = 0;
  if (size)
    errstr[0] = '\0';
  for (size_t i = 0; i < d->count && used < size; i++)
    used += (size_t)snprintf(errstr + used, size - used, "%s%s", i ? "\n" : "", d->lines[i]);
}

static weir_topology_t *build(weir_cfg_t *cfg, const weir_runtime_options_t *o, weir_diag_t *d) {
  char exe_dir[4096];
  if (!cfg)
    return NULL;
  if (o->use_environment)
    weir_cfg_apply_env(cfg, environ, d);
  for (int i = 0; i < o->override_count; i++)
    weir_cfg_override(cfg, o->overrides[i], d);
  if (d->count)
    return NULL;
  return weir_topology_build(cfg, weir_exe_dir(exe_dir, sizeof exe_dir) == 0 ? exe_dir : NULL, d);
}

static weir_runtime_t *start(weir_cfg_t *cfg, weir_diag_t *d, const weir_runtime_options_t *in,
                             int from_file, char *errstr, size_t errstr_size) {
  weir_runtime_options_t o;
  read_options(in, &o);
  weir_topology_t *t = build(cfg, &o, d);
  weir_cfg_free(cfg);
  if (!t) {
    join_lines(d, errstr, errstr_size);
    weir_diag_free(d);
    return NULL;
  }
  weir_diag_free(d);
  weir_runtime_t *rt = calloc(1, sizeof *rt);
  if (!rt) {
    snprintf(errstr, errstr_size, "out of memory starting %s", t->path);
    weir_topology_free(t);
    return NULL;
  }
  weir_log_set_level(t->settings.log_level);
  weir_log_set_format(t->settings.log_format);
  weir_log_set_sink(o.log, o.log_user);
  /* The control socket and plugin watcher re-read a file: text has none. */
  weir_app_options_t ao = {.shutdown_timeout_ms =
                               o.shutdown_timeout_ms ? o.shutdown_timeout_ms : 10000,
                           .overrides = (char *const *)o.overrides,
                           .override_count = o.override_count,
                           .no_control = !from_file};
  rt->from_file = from_file;
  rt->topo = t;
  rt->exit_code = -1;
  pthread_mutex_init(&rt->mu, NULL);
  rt->app = weir_app_start(t, &ao, errstr, errstr_size);
  if (!rt->app) {
    pthread_mutex_destroy(&rt->mu);
    weir_topology_free(t);
    free(rt);
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

PUBLIC int weir_runtime_reload(weir_runtime_t *rt, char *report, size_t report_size) {
  if (!rt)
    return -1;
  if (!rt->from_file) {
    snprintf(report, report_size,
             "reload refused: %s was started from INI text; stop it and start the new text, "
             "or start from a file to reload",
             rt->topo->path);
    return -1;
  }
  return weir_app_reload(rt->app, "weir_runtime_reload", report, report_size);
}

PUBLIC void weir_runtime_stop(weir_runtime_t *rt) {
  if (rt)
    weir_app_stop(rt->app);
}

static void join_once(weir_runtime_t *rt) {
  pthread_mutex_lock(&rt->mu);
  if (!rt->joined) {
    rt->exit_code = weir_app_join(rt->app);
    rt->joined = 1;
  }
  pthread_mutex_unlock(&rt->mu);
}

PUBLIC int weir_runtime_wait(weir_runtime_t *rt, int timeout_ms) {
  if (!rt)
    return 1;
  if (timeout_ms < 0)
    while (!weir_app_wait_stop(rt->app, 1000))
      ;
  else if (!weir_app_wait_stop(rt->app, timeout_ms))
    return 0;
  join_once(rt);
  return 1;
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
  size_t n = out->struct_size < sizeof s ? out->struct_size : sizeof s;
  memcpy(out, &s, n);
  return 0;
}

PUBLIC int weir_runtime_free(weir_runtime_t *rt) {
  if (!rt)
    return 0;
  weir_app_stop(rt->app);
  join_once(rt);
  int code = rt->exit_code;
  weir_app_free(rt->app);
  weir_topology_free(rt->topo);
  pthread_mutex_destroy(&rt->mu);
  free(rt);
  weir_log_set_sink(NULL, NULL);
  return code;
}
