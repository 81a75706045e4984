/* reload — the coordinator of a hot swap (see swap.h): re-read the INI
 * file, load the plugins from staged copies, check, then drive the stream
 * threads through prepare and commit (or abort). One reload at a time;
 * callable from any thread but the stream threads. */
#ifndef WEIR_RELOAD_RELOAD_H
#define WEIR_RELOAD_RELOAD_H

#include <stddef.h>

#include "reload/swap.h"
#include "topology/topology.h"

typedef struct weir_reloader weir_reloader_t;

/* `first` is the running topology (its path is re-read); overrides are the
 * --set assignments it was built with (copied). */
weir_reloader_t *weir_reloader_new(const weir_topology_t *first, char *const *overrides,
                                   int override_count, weir_swap_t *swap, int thread_count,
                                   char *errstr, size_t errstr_size);
void weir_reloader_free(weir_reloader_t *r);

/* Reload now (`trigger` names why, for the log). 0 when the new version
 * runs or nothing changed, -1 when it was refused or failed (every task
 * keeps the running version). `report` gets one line either way. */
int weir_reloader_run(weir_reloader_t *r, const char *trigger, char *report, size_t report_size);

/* The plugin files the running version was loaded from (for the watcher). */
size_t weir_reloader_sources(weir_reloader_t *r, const char **paths, size_t max);

#endif
