/* window_pending — for emit = final on tumbling and hopping windows, the
 * windows an operator instance created and has not emitted yet, so a close
 * emits the ones due by looking each up instead of scanning the store's
 * time segment (which holds every key's windows over half the retention:
 * the scan made each close cost the whole segment).
 *
 * The list is only known to be complete once a close has scanned the store
 * (an instance may start with windows stored before it: a restart, a
 * rebalance, a hot swap), and never after an allocation failed: then the
 * operator scans, as without the list. One instance, one thread. */
#ifndef WEIR_STD_WINDOW_PENDING_H
#define WEIR_STD_WINDOW_PENDING_H

#include <stddef.h>
#include <stdint.h>

typedef struct win_pending_item {
  int64_t start;
  size_t key_len;
  char *key;
} win_pending_item_t;

typedef struct win_pending {
  win_pending_item_t *v;
  size_t n, cap;
  int complete; /* a close scanned the store since the instance began */
  int broken;   /* an allocation failed: never usable again */
} win_pending_t;

/* A window the operator created (its first record). */
void win_pending_add(win_pending_t *p, const void *key, size_t key_len, int64_t start);
/* 1 when the list holds every window not emitted yet. */
int win_pending_usable(const win_pending_t *p);
/* After a close emitted the windows starting up to `to`, by a scan
 * (scanned = 1) or from the list: forget them. */
void win_pending_closed(win_pending_t *p, int64_t to, int scanned);
/* The windows starting in [from, to], by start then key, moved to *out
 * (*count of them; free with win_pending_items_free). -1 out of memory. */
int win_pending_due(win_pending_t *p, int64_t from, int64_t to, win_pending_item_t **out,
                    size_t *count);
void win_pending_items_free(win_pending_item_t *items, size_t count);
void win_pending_free(win_pending_t *p);

#endif
