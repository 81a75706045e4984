/* reload — the coordinator of a hot swap (see swap.h): re-read the INI
 * file, load the plugins from staged copies, check, then drive the stream
 * threads through prepare and commit (or abort). One reload at a time;
 * callable from any thread but the stream threads. */
#ifndef WEIR_RELOAD_RELOAD_H
#define WEIR_RELOAD_RELOAD_H

#include <limits.h>
#include <stddef.h>

#include "reload/swap.h"
#include "topology/topology.h"

typedef struct weir_reloader weir_reloader_t;

/* Run every operator of a new version once, with no Kafka (the app passes
 * weir_task_dry_run: reload knows nothing of tasks). 0, or -1 with errstr. */
typedef int (*weir_reload_dry_run_fn)(const weir_topology_t *t, char *errstr, size_t errstr_size);

/* `first` is the running topology (its path is re-read); overrides are the
 * --set assignments it was built with (copied). The stream threads join
 * `swap` themselves (reload/swap.h). */
weir_reloader_t *weir_reloader_new(const weir_topology_t *first, char *const *overrides,
                                   int override_count, weir_swap_t *swap,
                                   weir_reload_dry_run_fn dry_run, char *errstr,
                                   size_t errstr_size);
void weir_reloader_free(weir_reloader_t *r);

/* Reload now (`trigger` names why, for the log). 0 when the new version
 * runs or nothing changed, -1 when it was refused or failed (every task
 * keeps the running version). `report` gets one line either way. */
int weir_reloader_run(weir_reloader_t *r, const char *trigger, char *report, size_t report_size);
/* [any thread] Reloads that swapped a new version in, and that failed. */
void weir_reloader_counts(weir_reloader_t *r, unsigned long long *done, unsigned long long *failed);

/* The plugin files the running version was loaded from (for the watcher),
 * copied into paths[]; how many. */
size_t weir_reloader_sources(weir_reloader_t *r, char (*paths)[PATH_MAX], size_t max);

/* The private directory the staged copies go to ("" before the first
 * reload; removed by weir_reloader_free). */
const char *weir_reloader_stage_dir(weir_reloader_t *r);

#endif
