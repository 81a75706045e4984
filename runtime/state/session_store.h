/* session_store — one task's session store (Kafka Streams' SessionStore):
 * values per (key, session start, session end), on the time segments of
 * window_store.h (segmented by the session's end, laid out as key | end |
 * start, Kafka Streams' SessionKeySchema order). A session store is a
 * weir_window_store_t made with kind WEIR_STORE_SESSION: advance, flush and
 * restore are those of window_store.h.
 *
 * Not thread-safe: one store instance belongs to one task on one thread.
 */
#ifndef WEIR_STATE_SESSION_STORE_H
#define WEIR_STATE_SESSION_STORE_H

#include "state/window_store.h"

/* Set the session's value (value NULL removes it). 0, 1 (the cache is over
 * its budget: commit soon), 2 when the session already ended past retention
 * (nothing written), -1 out of memory or start > end. */
int weir_session_store_put(weir_window_store_t *ws, const void *key, size_t key_len, int64_t start,
                           int64_t end, const void *value, size_t value_len);

/* The key's sessions with end >= earliest_end and start <= latest_start, by
 * start (weir_window_iter_next gives start and end). NULL on out of memory
 * or a RocksDB error (errstr). */
weir_window_iter_t *weir_session_store_find(weir_window_store_t *ws, const void *key,
                                            size_t key_len, int64_t earliest_end,
                                            int64_t latest_start, char *errstr, size_t errstr_size);

/* Every key's sessions with end_from <= end <= end_to, by start, then key
 * (what an operator emitting closed sessions reads). As above on failure. */
weir_window_iter_t *weir_session_store_fetch_all(weir_window_store_t *ws, int64_t end_from,
                                                 int64_t end_to, char *errstr, size_t errstr_size);

#endif
