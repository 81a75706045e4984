#include "reload/reload.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/env.h"
#include "plugin/loader.h"
#include "reload/stage.h"
#include "util/fs.h"
#include "util/log.h"

/* PREPARE creates instances while the old ones run: a thread that has not
 * answered in this long is stuck, and refusing the swap costs nothing. A
 * COMMIT or ABORT is never given up (see swap_in); it warns this often. */
enum { PREPARE_GIVE_UP_MS = 10000, WAIT_WARN_MS = 10000 };

struct weir_reloader {
  const weir_topology_t *first;
  char **overrides;
  int override_count;
  weir_swap_t *swap;
  weir_reload_dry_run_fn dry_run;
  char stage_dir[PATH_MAX]; /* "" until the first reload creates it */
  char exe_dir[4096];
  unsigned versions;
  pthread_mutex_t mu;
  atomic_ullong done, failed; /* reloads that ran a new version, or failed (/metrics) */
};

weir_reloader_t *weir_reloader_new(const weir_topology_t *first, char *const *overrides,
                                   int override_count, weir_swap_t *swap,
                                   weir_reload_dry_run_fn dry_run, char *errstr,
                                   size_t errstr_size) {
  weir_reloader_t *r = calloc(1, sizeof *r);
  if (!r || !(r->overrides = calloc((size_t)override_count + 1, sizeof *r->overrides))) {
    free(r);
    snprintf(errstr, errstr_size, "out of memory");
    return NULL;
  }
  for (int i = 0; i < override_count; i++)
    r->overrides[r->override_count++] = strdup(overrides[i]);
  r->first = first;
  r->swap = swap;
  r->dry_run = dry_run;
  if (weir_exe_dir(r->exe_dir, sizeof r->exe_dir) != 0)
    r->exe_dir[0] = '\0';
  pthread_mutex_init(&r->mu, NULL);
  return r;
}

void weir_reloader_free(weir_reloader_t *r) {
  if (!r)
    return;
  for (int i = 0; i < r->override_count; i++)
    free(r->overrides[i]);
  free(r->overrides);
  /* Called after the swap's versions were released: the staged copies are
   * gone; anything left in our private directory is ours too. */
  if (r->stage_dir[0])
    weir_rm_rf(r->stage_dir);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

const char *weir_reloader_stage_dir(weir_reloader_t *r) {
  return r->stage_dir;
}

size_t weir_reloader_sources(weir_reloader_t *r, char (*paths)[PATH_MAX], size_t max) {
  size_t n = 0;
  weir_published_t *now = weir_publisher_acquire(&r->swap->versions);
  for (size_t i = 0; i < now->node_count && n < max; i++) {
    const weir_node_t *impl = now->impl[i];
    if (impl->kind == WEIR_NODE_OPERATOR && impl->plugin->source)
      snprintf(paths[n++], PATH_MAX, "%s", impl->plugin->source);
  }
  weir_published_release(now);
  return n;
}

static void join_diag(const weir_diag_t *d, const char *what, char *out, size_t size) {
  snprintf(out, size, "%s: %s%s", what, d->count ? d->lines[0] : "unknown error",
           d->count > 1 ? " (and more: run `weir validate`)" : "");
}

/* The INI as it is now, with the plugins staged. NULL with the report set. */
static weir_topology_t *build_next(weir_reloader_t *r, char *report, size_t size) {
  weir_diag_t d = {0};
  weir_topology_t *t = NULL;
  char why[512];
  if (r->stage_dir[0] ? weir_stage_dir_check(r->stage_dir, why, sizeof why)
                      : weir_stage_dir_create(r->stage_dir, sizeof r->stage_dir, why, sizeof why)) {
    snprintf(report, size, "reload refused: %s", why);
    return NULL;
  }
  weir_cfg_t *cfg = weir_cfg_load(r->first->path, &d);
  if (cfg) /* the running process's environment, as at start */
    weir_cfg_apply_env(cfg, environ, &d);
  for (int i = 0; cfg && i < r->override_count; i++)
    weir_cfg_override(cfg, r->overrides[i], &d);
  if (cfg && !d.count)
    t = weir_topology_build_staged(cfg, r->exe_dir[0] ? r->exe_dir : NULL, r->stage_dir, &d);
  if (!t)
    join_diag(&d, "reload refused: the new version does not load", report, size);
  weir_diag_free(&d);
  weir_cfg_free(cfg);
  return t;
}

static int same_str(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_names(weir_node_t *const *a, size_t na, weir_node_t *const *b, size_t nb) {
  if (na != nb)
    return 0;
  for (size_t i = 0; i < na; i++)
    if (strcmp(a[i]->name, b[i]->name) != 0)
      return 0;
  return 1;
}

static int same_params(const weir_params_t *a, const weir_params_t *b) {
  if (a->count != b->count)
    return 0;
  for (size_t i = 0; i < a->count; i++)
    if (!same_str(a->values[i].text, b->values[i].text) ||
        strcmp(a->values[i].def->name, b->values[i].def->name) != 0)
      return 0;
  return 1;
}

static int same_node(const weir_node_t *a, const weir_node_t *b) {
  if (a->kind != b->kind || strcmp(a->name, b->name) != 0 || a->subtopology != b->subtopology ||
      !same_names(a->inputs, a->input_count, b->inputs, b->input_count) ||
      !same_str(a->topic, b->topic) || !same_str(a->group_by, b->group_by) ||
      a->topic_count != b->topic_count || a->store_count != b->store_count ||
      a->key_serde != b->key_serde || a->value_serde != b->value_serde)
    return 0;
  for (size_t i = 0; i < a->topic_count; i++)
    if (strcmp(a->topics[i], b->topics[i]) != 0)
      return 0;
  for (size_t i = 0; i < a->store_count; i++)
    if (strcmp(a->stores[i], b->stores[i]) != 0)
      return 0;
  if (a->kind == WEIR_NODE_OPERATOR && (strcmp(a->plugin->ref, b->plugin->ref) != 0 ||
                                        strcmp(a->op->def.type, b->op->def.type) != 0))
    return 0;
  /* A source's extractor is not swapped: changing `timestamp =`, or the
   * extractor's parameters, is a restart. */
  if (a->kind == WEIR_NODE_SOURCE &&
      (a->ts_mode != b->ts_mode || !same_str(a->ts_path, b->ts_path) ||
       (a->ts_mode == WEIR_TS_EXTRACTOR &&
        (strcmp(a->plugin->ref, b->plugin->ref) != 0 ||
         strcmp(a->op->def.type, b->op->def.type) != 0 || !same_params(&a->params, &b->params)))))
    return 0;
  return 1;
}

/* What a swap cannot apply between two records: nodes, edges, topics,
 * stores, and the settings the clients and threads were built with. */
static int structural_change(const weir_topology_t *a, const weir_topology_t *b, char *what,
                             size_t size) {
  const weir_settings_t *x = &a->settings, *y = &b->settings;
  if (a->node_count != b->node_count) {
    snprintf(what, size, "nodes were added or removed");
    return 1;
  }
  for (size_t i = 0; i < a->node_count; i++)
    if (!same_node(a->nodes[i], b->nodes[i])) {
      snprintf(what, size,
               "node '%s' changed its kind, edges, topics, stores, operator type or timestamp",
               a->nodes[i]->name);
      return 1;
    }
  if (a->store_count != b->store_count || !same_str(x->application_id, y->application_id) ||
      !same_str(x->bootstrap_servers, y->bootstrap_servers) || x->threads != y->threads ||
      !same_str(x->state_dir, y->state_dir) || x->guarantee != y->guarantee) {
    snprintf(what, size, "stores or [weir] settings changed");
    return 1;
  }
  if (x->max_task_idle_ms != y->max_task_idle_ms) { /* the threads' consumers are built for it */
    snprintf(what, size, "[weir] max.task.idle.ms changed (%lld to %lld)",
             (long long)x->max_task_idle_ms, (long long)y->max_task_idle_ms);
    return 1;
  }
  if (x->state_wal != y->state_wal) { /* the stores' RocksDB is written with it */
    snprintf(what, size, "[weir] state.wal changed (%s to %s)", x->state_wal ? "true" : "false",
             y->state_wal ? "true" : "false");
    return 1;
  }
  for (size_t i = 0; i < a->store_count; i++) { /* a global table's thread reads its topic */
    if (strcmp(a->stores[i].name, b->stores[i].name) != 0 ||
        !same_str(a->stores[i].global_topic, b->stores[i].global_topic)) {
      snprintf(what, size, "store or global table '%s' changed", a->stores[i].name);
      return 1;
    }
    if (a->stores[i].in_memory != b->stores[i].in_memory) { /* the open tasks hold its rows */
      snprintf(what, size, "[store:%s] backend changed (%s to %s)", a->stores[i].name,
               a->stores[i].in_memory ? "memory" : "rocksdb",
               b->stores[i].in_memory ? "memory" : "rocksdb");
      return 1;
    }
  }
  return 0;
}

static int same_file(const weir_plugin_t *a, const weir_plugin_t *b) {
  return a->source_dev == b->source_dev && a->source_ino == b->source_ino &&
         a->source_size == b->source_size && a->source_mtime_ns == b->source_mtime_ns;
}

/* Which operator nodes move: a new plugin file, or new parameters. */
static size_t mark_moving(weir_reloader_t *r, const weir_topology_t *next, char *names,
                          size_t size) {
  size_t n = 0, used = 0;
  names[0] = '\0';
  weir_published_t *now = weir_publisher_acquire(&r->swap->versions);
  for (size_t i = 0; i < next->node_count; i++) {
    const weir_node_t *cur = now->impl[i], *nx = next->nodes[i];
    r->swap->moving[i] =
        nx->kind == WEIR_NODE_OPERATOR &&
        (!same_file(cur->plugin, nx->plugin) || !same_params(&cur->params, &nx->params));
    if (!r->swap->moving[i])
      continue;
    n++;
    used += (size_t)snprintf(names + used, used < size ? size - used : 0, "%s%s", used ? ", " : "",
                             nx->name);
  }
  weir_published_release(now);
  return n;
}

/* Prepare everywhere; then publish the new snapshot (tasks that open from
 * now on start on the new version) and commit everywhere, or abort. The
 * commit and the abort wait as long as it takes, warning meanwhile: after
 * the publish some threads may have switched already, so giving up would
 * leave the tasks on two versions with no way back; and until every thread
 * answered, one may still be using the version an abort would unload. A
 * thread that stops leaves the swap, so a stop never hangs it. */
static int swap_in(weir_reloader_t *r, weir_version_t *v, const char *names, char *report,
                   size_t size) {
  weir_swap_t *s = r->swap;
  unsigned id = weir_swap_start(s, v);
  if (weir_swap_run_phase(s, id, WEIR_SWAP_PREPARE, 0, PREPARE_GIVE_UP_MS, WAIT_WARN_MS) == 0 &&
      !weir_swap_failed(s) && weir_publisher_publish(&s->versions, s->moving, v) != 0)
    weir_swap_fail(s, "out of memory while publishing version %u", v->number);
  if (weir_swap_failed(s)) {
    weir_swap_run_phase(s, id, WEIR_SWAP_ABORT, 1, 0, WAIT_WARN_MS);
    snprintf(report, size, "reload refused: %s; every task keeps version %u", s->why, r->versions);
    return -1;
  }
  weir_swap_run_phase(s, id, WEIR_SWAP_COMMIT, 1, 0, WAIT_WARN_MS);
  r->versions = v->number;
  if (weir_swap_failed(s)) { /* a retiring instance lost what it held back */
    snprintf(report, size, "reload failed: version %u runs [%s], but %s", v->number, names, s->why);
    return -1;
  }
  snprintf(report, size,
           "reloaded: version %u runs [%s] (%lld instances swapped, longest task pause %lld us)",
           v->number, names, (long long)atomic_load(&s->swapped),
           (long long)atomic_load(&s->max_pause_us));
  return 0;
}

void weir_reloader_counts(weir_reloader_t *r, unsigned long long *done,
                          unsigned long long *failed) {
  *done = r ? atomic_load(&r->done) : 0;
  *failed = r ? atomic_load(&r->failed) : 0;
}

int weir_reloader_run(weir_reloader_t *r, const char *trigger, char *report, size_t size) {
  char what[512], names[1024], why[1024];
  int rc = -1;
  pthread_mutex_lock(&r->mu);
  weir_topology_t *next = build_next(r, report, size);
  if (!next) {
  } else if (structural_change(r->first, next, what, sizeof what)) {
    snprintf(report, size, "reload refused: %s in %s; restart weir to apply it", what,
             r->first->path);
  } else if (!mark_moving(r, next, names, sizeof names)) {
    snprintf(report, size, "reload: nothing changed (same plugin files and parameters)");
    rc = 0;
  } else if (r->dry_run && r->dry_run(next, why, sizeof why)) {
    snprintf(report, size, "reload refused: %s; every task keeps version %u", why, r->versions);
  } else {
    weir_version_t *v = weir_version_new(next, r->versions + 1); /* one user: ours */
    if (!v) {
      snprintf(report, size, "reload failed: out of memory; every task keeps version %u",
               r->versions);
    } else {
      next = NULL;
      rc = swap_in(r, v, names, report, size);
      weir_version_release(v);
    }
  }
  weir_topology_free(next);
  pthread_mutex_unlock(&r->mu);
  if (rc == 0 && !strstr(report, "nothing changed"))
    atomic_fetch_add(&r->done, 1);
  else if (rc)
    atomic_fetch_add(&r->failed, 1);
  if (rc == 0)
    WEIR_INFO("%s (%s)", report, trigger);
  else
    WEIR_ERROR("%s (%s)", report, trigger);
  return rc;
}
