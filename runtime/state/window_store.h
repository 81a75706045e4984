/* window_store — one task's window store (Kafka Streams' WindowStore) and the
 * time segments it shares with session stores (session_store.h), on a
 * kv_store write cache: same cache, commit order, changelog and restore as
 * a key-value store, because a window is just a key of that cache.
 *
 * Key layout (the cache's key, RocksDB's user key and the changelog's key):
 *   window:  seg | u32 BE key length | key | start
 *   session: seg | u32 BE key length | key | end | start
 * each time an 8-byte big-endian int64 with its sign bit flipped (so bytes
 * sort as numbers). seg = floor(t / segment interval), t the window start or
 * the session end. So one segment is one contiguous key range: when stream
 * time leaves a segment behind (all its windows ended more than retention.ms
 * ago), the segment goes in one piece — out of the cache by
 * weir_kv_store_forget_range, out of RocksDB by one range delete in the next
 * commit's batch — and retention costs nothing per record. One key's windows
 * in a segment are one prefix, in time order.
 *
 * A window is live while end >= stream time - retention (end = start +
 * window.size.ms; a session's own end): "older than" is strict, so a store
 * whose retention equals an operator's grace still holds a window at the
 * stream time that closes it. Puts of expired windows are ignored and reads
 * skip them (a segment holds some until it goes whole).
 *
 * Stream time: the caller passes the task's with weir_window_store_advance
 * before each write (the host API does not before a read, so an operator
 * reads what the record in hand is about to expire); during a restore,
 * weir_window_store_restore_keep advances it from the restored keys themselves (as Kafka Streams'
 * segmented stores do) and tells which records are already past retention.
 *
 * Not thread-safe: one store instance belongs to one task on one thread.
 */
#ifndef WEIR_STATE_WINDOW_STORE_H
#define WEIR_STATE_WINDOW_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "state/kv_store.h"

typedef struct weir_window_store weir_window_store_t;
typedef struct weir_window_iter weir_window_iter_t;

/* Kafka Streams' default: segment interval = max(retention / 2, 60 s). */
int64_t weir_window_segment_interval(int64_t retention_ms);

/* kind: WEIR_STORE_WINDOW (window_size_ms > 0) or WEIR_STORE_SESSION
 * (window_size_ms ignored). `kv` stays the caller's (freed after this). */
weir_window_store_t *weir_window_store_new(weir_kv_store_t *kv, int kind, int64_t window_size_ms,
                                           int64_t retention_ms);
void weir_window_store_free(weir_window_store_t *ws);

/* Stream time moved to `stream_time` (older values are ignored): segments
 * now wholly expired leave the cache, and the next weir_window_store_flush
 * deletes them from RocksDB. */
void weir_window_store_advance(weir_window_store_t *ws, int64_t stream_time);
/* Add the range delete of the segments dropped since the last call to
 * `batch` (after the cache's flush, so it also covers rows batched before
 * they expired). */
void weir_window_store_flush(weir_window_store_t *ws, weir_state_batch_t *batch);
/* The stream time the store has seen (INT64_MIN: none). */
int64_t weir_window_store_time(const weir_window_store_t *ws);

/* Whether a changelog record (key as laid out above) is still live; the
 * restore skips it when not. Advances the store's time from the key. */
int weir_window_store_restore_keep(weir_window_store_t *ws, const void *key, size_t key_len);

/* Set (key, start)'s value; value NULL removes it. 0 (or 1: the cache is
 * over its budget, commit soon), 2 when the window is already past
 * retention (nothing written), -1 out of memory. */
int weir_window_store_put(weir_window_store_t *ws, const void *key, size_t key_len, int64_t start,
                          const void *value, size_t value_len);

/* One key's windows with time_from <= start <= time_to, by start; every
 * key's, by start then key. NULL on out of memory or a RocksDB error
 * (errstr). */
weir_window_iter_t *weir_window_store_fetch(weir_window_store_t *ws, const void *key,
                                            size_t key_len, int64_t time_from, int64_t time_to,
                                            char *errstr, size_t errstr_size);
weir_window_iter_t *weir_window_store_fetch_all(weir_window_store_t *ws, int64_t time_from,
                                                int64_t time_to, char *errstr, size_t errstr_size);

/* 1 and the next item (pointers valid until the next call or close), 0 past
 * the last. */
int weir_window_iter_next(weir_window_iter_t *it, const void **key, size_t *key_len,
                          const void **value, size_t *value_len, int64_t *start, int64_t *end);
void weir_window_iter_close(weir_window_iter_t *it);

/* ------------------------------------------------------------ shared with session_store.c */

enum { WEIR_WKEY_TIME = 8, WEIR_WKEY_HEAD = 8 + 4 };

/* Inline: several a fetch or a put. */
static inline void weir_wkey_put_time(unsigned char *p, int64_t t) {
  uint64_t u = (uint64_t)t ^ 0x8000000000000000ULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  u = __builtin_bswap64(u); /* big-endian: RocksDB's byte order is time order */
#endif
  memcpy(p, &u, 8);
}
static inline int64_t weir_wkey_time(const unsigned char *p) {
  uint64_t u;
  memcpy(&u, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  u = __builtin_bswap64(u);
#endif
  return (int64_t)(u ^ 0x8000000000000000ULL);
}
int64_t weir_window_store_segment(const weir_window_store_t *ws, int64_t t);
/* Whether a window or session ending at `end` is live at the store's time. */
int weir_window_store_live(const weir_window_store_t *ws, int64_t end);
weir_kv_store_t *weir_window_store_kv(const weir_window_store_t *ws);
int weir_window_store_kind(const weir_window_store_t *ws);
/* The store saw a put in segment `seg` (bounds the segments a read visits). */
void weir_window_store_saw(weir_window_store_t *ws, int64_t seg);

/* An iterator over copies, filled by the stores and sorted once. */
weir_window_iter_t *weir_window_iter_new(void);
int weir_window_iter_add(weir_window_iter_t *it, const void *key, size_t key_len, const void *value,
                         size_t value_len, int64_t start, int64_t end);
/* Sort by start, then key, then end. */
void weir_window_iter_sort(weir_window_iter_t *it);

/* Visit every live row of `key` (NULL: every key) in segments
 * [seg_lo, seg_hi] (clamped to those that may hold data): fn gets the user
 * key part, the time suffix (8 or 16 bytes) and the value. 0, or -1 with
 * errstr (RocksDB or out of memory). */
typedef int (*weir_wrow_fn)(void *opaque, const void *key, size_t key_len,
                            const unsigned char *times, const void *value, size_t value_len);
int weir_window_store_scan(weir_window_store_t *ws, const void *key, size_t key_len, int64_t seg_lo,
                           int64_t seg_hi, weir_wrow_fn fn, void *opaque, char *errstr,
                           size_t errstr_size);

#endif
