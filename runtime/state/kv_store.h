/* kv_store — one task's instance of a key-value store: a write cache over
 * the process's state_db.
 *
 * Reads look in the cache first, then RocksDB. Writes go to the cache only,
 * which keeps the latest value (or tombstone) per key; weir_kv_store_flush()
 * hands each dirty entry to a callback (the task produces it to the
 * changelog) and adds it to a batch that the caller writes to RocksDB,
 * together with the changelog checkpoint, once the commit is done — the
 * shape exactly-once needs (apply only after the transaction commits).
 *
 * The cache's bytes are counted process-wide (weir_cache_budget_t, shared by
 * every thread, atomically): when a put takes the total over the budget, the
 * put returns 1 and the caller asks for a commit soon (which flushes,
 * writes and evicts); nothing is written to RocksDB outside a commit.
 *
 * Not thread-safe: one store instance belongs to one task on one thread.
 */
#ifndef WEIR_STATE_KV_STORE_H
#define WEIR_STATE_KV_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "state/state_db.h"

typedef struct weir_cache_budget {
  atomic_llong used; /* bytes held by every cache of the process */
  long long max;     /* cache.max.bytes; 0 = no caching (every put is flushed) */
} weir_cache_budget_t;

typedef struct weir_kv_store weir_kv_store_t;

/* What one cached entry costs the budget beyond its key and value bytes:
 * its header (32), its share of the hash table (16-byte slots, 35-70% full:
 * 23-46) and the allocator's chunk header (8). An entry of a store that is
 * range-read also has a node in its ordered index while unwritten
 * (WEIR_KEY_INDEX_NODE_BYTES, counted apart). */
#define WEIR_KV_ENTRY_OVERHEAD 72

/* Called by flush for each dirty entry; value NULL = a delete. Non-zero
 * stops the flush (the entries not yet handed over stay dirty). */
typedef int (*weir_kv_flush_fn)(void *opaque, const void *key, size_t key_len, const void *value,
                                size_t value_len);

/* budget NULL = unbounded (never returns 1, never evicts). NULL on out of
 * memory or a store name longer than 65535 bytes. */
weir_kv_store_t *weir_kv_store_new(weir_state_db_t *db, const char *store, int32_t partition,
                                   weir_cache_budget_t *budget);
void weir_kv_store_free(weir_kv_store_t *s); /* dirty entries are dropped */

/* `backend = memory` (Kafka Streams' in-memory stores), called before the
 * store's first use: every row lives in this cache and none in RocksDB. It
 * leaves the budget (never returns 1, never evicts: the rows are all there
 * is), a miss is "absent" without a RocksDB read, a flush hands the dirty
 * entries to its callback (the changelog, its only copy) and adds nothing
 * to the batch, and a written delete drops its entry. Range reads see every
 * entry (weir_kv_store_unwritten_from hands them all over). */
void weir_kv_store_keep_in_memory(weir_kv_store_t *s);
int weir_kv_store_in_memory(const weir_kv_store_t *s);
/* An in-memory store's row read back from its changelog while its task
 * restores (nothing unwritten then): kept clean, as written; value NULL
 * drops the key. 0, or -1 out of memory. */
int weir_kv_store_restore(weir_kv_store_t *s, const void *key, size_t key_len, const void *value,
                          size_t value_len);

/* 1 + value (valid until the next call on this store or a store of the same
 * owner; 8-byte aligned when cached), 0 absent, -1 error (errstr). A miss
 * reads RocksDB and caches the answer, "absent" included, while the budget
 * has room. */
int weir_kv_store_get(weir_kv_store_t *s, const void *key, size_t key_len, const void **value,
                      size_t *value_len, char *errstr, size_t errstr_size);
/* As weir_kv_store_get, from the cache alone: 0 when the key is not cached
 * (for a caller that knows RocksDB cannot hold it). */
int weir_kv_store_get_cached(weir_kv_store_t *s, const void *key, size_t key_len,
                             const void **value, size_t *value_len);
/* 0, 1 when the process-wide budget is exceeded (flush soon), -1 out of memory.
 * value NULL = delete. */
int weir_kv_store_put(weir_kv_store_t *s, const void *key, size_t key_len, const void *value,
                      size_t value_len);

/* Hand every dirty entry to `fn` (NULL: a store without changelog) and add
 * it to `batch`, in key order (RocksDB inserts sorted keys cheaply); the entries stay
 * readable from the cache until weir_kv_store_batch_written(). 0, or -1
 * (out of memory, nothing handed over), or the first non-zero from fn:
 * then the entries this call handed over are dirty again (`batch` may hold
 * some of them: writing it is harmless, they are batched again), so none
 * is cleaned by a batch that does not hold it. */
int weir_kv_store_flush(weir_kv_store_t *s, weir_state_batch_t *batch, weir_kv_flush_fn fn,
                        void *opaque);
/* The batch holding every successful flush since the previous call is in
 * RocksDB (a commit skipped in between leaves that batch to grow; it is
 * written whole later): those entries may now be evicted (until then a
 * read must find them in the cache; one written again since stays dirty).
 * When the budget is exceeded, this store then drops its clean entries not
 * used since its previous eviction, and all its clean entries if that is
 * not enough. */
void weir_kv_store_batch_written(weir_kv_store_t *s);
/* Drop every cached entry whose key k has from <= k < to (memcmp order;
 * from NULL: from the first), dirty and flushed ones included: they are
 * neither produced nor batched any more. For window and session stores,
 * whose expired segments are deleted from RocksDB by a range delete instead
 * of key by key. O(entries cached); meant for rare calls. */
void weir_kv_store_forget_range(weir_kv_store_t *s, const void *from, size_t from_len,
                                const void *to, size_t to_len);
size_t weir_kv_store_dirty_count(const weir_kv_store_t *s);
size_t weir_kv_store_cached_bytes(const weir_kv_store_t *s);

/* Hand `fn`, in key order (memcmp, a key before the longer keys it
 * prefixes: RocksDB's), the entries RocksDB does not hold yet (dirty, or
 * flushed into a batch not yet written) whose key is >= from (from NULL:
 * all), value NULL for a delete, until fn returns non-zero; the merged
 * iterator (kv_iter.h) lays them over RocksDB's rows. fn must not change
 * the store. The first call builds the store's ordered index of those
 * entries (O(n log n), and WEIR_KEY_INDEX_NODE_BYTES of the budget each);
 * the store keeps it from then on, so a call costs O(log n + entries
 * handed over). 0, or -1 out of memory (nothing handed over). */
typedef int (*weir_kv_visit_fn)(void *opaque, const void *key, size_t key_len, const void *value,
                                size_t value_len);
int weir_kv_store_unwritten_from(weir_kv_store_t *s, const void *from, size_t from_len,
                                 weir_kv_visit_fn fn, void *opaque);
weir_state_db_t *weir_kv_store_db(const weir_kv_store_t *s);

const char *weir_kv_store_name(const weir_kv_store_t *s);
int32_t weir_kv_store_partition(const weir_kv_store_t *s);

#endif
