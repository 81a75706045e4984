/* state_db — the one RocksDB database of a weir process.
 *
 * Every store of every task lives in one RocksDB under
 * `<state.dir>/<application.id>/rocksdb`, so the block cache and the
 * memtables are shared and bounded by `state.memory.mb` whatever the number
 * of tasks, and a task's data and its changelog checkpoints are written in
 * one atomic batch. A lock file (`<state.dir>/<application.id>/.lock`, flock)
 * keeps a second process out.
 *
 * Key layout (internal): data rows are 0x00 | u16 BE store-name length |
 * store name | u32 BE partition | user key; checkpoint rows are 0x01 | u16 BE
 * length | store name | u32 BE partition -> i64 BE changelog offset. So one
 * store-partition is one contiguous key range, and user keys sort by memcmp.
 *
 * Thread-safety: the handle is shared by every stream thread (RocksDB is
 * thread-safe); each store-partition is used by the one thread owning it.
 */
#ifndef WEIR_STATE_STATE_DB_H
#define WEIR_STATE_STATE_DB_H

#include <stddef.h>
#include <stdint.h>

typedef struct weir_state_db weir_state_db_t;
typedef struct weir_state_batch weir_state_batch_t;
typedef struct weir_state_iter weir_state_iter_t;

/* Open (creating) `<state_dir>/<app_id>`. memory_mb bounds the block cache
 * plus the write buffers of the whole process. A directory RocksDB reports
 * corrupt is wiped and recreated, with a WEIR_WARN line that says so and
 * `*wiped` = 1. A directory locked by another process is an error naming the
 * directory and the other pid. NULL + errstr on failure. */
weir_state_db_t *weir_state_db_open(const char *state_dir, const char *app_id, int memory_mb,
                                    int *wiped, char *errstr, size_t errstr_size);
void weir_state_db_close(weir_state_db_t *db);
/* Whether weir_state_batch_write logs to RocksDB's write-ahead log (on at
 * open). Off, a batch lives only in a memtable until RocksDB flushes it: a
 * killed process comes back to the last flush, rows and checkpoints alike
 * (one batch holds both, so they stay consistent), and the restore reads
 * the changelog from there; a close flushes first, so a stop loses nothing. */
void weir_state_db_set_wal(weir_state_db_t *db, int on);
/* `<state_dir>/<app_id>/rocksdb`. */
const char *weir_state_db_path(const weir_state_db_t *db);

/* Point read. Returns 1 and a malloc'd copy in *value (caller frees), 0 when
 * absent, -1 on error (errstr). */
int weir_state_db_get(weir_state_db_t *db, const char *store, int32_t partition, const void *key,
                      size_t key_len, void **value, size_t *value_len, char *errstr,
                      size_t errstr_size);

/* The changelog offset to restore from (the next one to read), or -1 when
 * there is no checkpoint. -2 on error (errstr). */
int64_t weir_state_db_checkpoint(weir_state_db_t *db, const char *store, int32_t partition,
                                 char *errstr, size_t errstr_size);

/* Drop every row and the checkpoint of one store-partition (a full restore
 * follows). 0, or -1 + errstr. */
int weir_state_db_drop(weir_state_db_t *db, const char *store, int32_t partition, char *errstr,
                       size_t errstr_size);

/* A write batch: puts, deletes and checkpoints, applied atomically (WAL on,
 * not synced: survives a killed process). */
weir_state_batch_t *weir_state_batch_new(void);
void weir_state_batch_put(weir_state_batch_t *b, const char *store, int32_t partition,
                          const void *key, size_t key_len, const void *value, size_t value_len);
void weir_state_batch_delete(weir_state_batch_t *b, const char *store, int32_t partition,
                             const void *key, size_t key_len);
void weir_state_batch_checkpoint(weir_state_batch_t *b, const char *store, int32_t partition,
                                 int64_t next_offset);
size_t weir_state_batch_count(const weir_state_batch_t *b);
void weir_state_batch_clear(weir_state_batch_t *b);
int weir_state_batch_write(weir_state_db_t *db, weir_state_batch_t *b, char *errstr,
                           size_t errstr_size);
/* The same without the WAL (a restore: data and checkpoints are lost
 * together with a crash, and the restore starts again from the older
 * checkpoint). */
int weir_state_batch_write_unlogged(weir_state_db_t *db, weir_state_batch_t *b, char *errstr,
                                    size_t errstr_size);
void weir_state_batch_free(weir_state_batch_t *b);
/* Delete the user keys from <= key < to of one store-partition (from NULL:
 * from its first key) with one RocksDB range tombstone: what window and
 * session stores use to drop a whole expired time segment. */
void weir_state_batch_delete_range(weir_state_batch_t *b, const char *store, int32_t partition,
                                   const void *from, size_t from_len, const void *to,
                                   size_t to_len);
/* Write the memtables to disk (after unlogged writes, before logged ones
 * that a crash would replay on top of them). */
int weir_state_db_flush(weir_state_db_t *db, char *errstr, size_t errstr_size);

/* RocksDB's own estimate for the whole database (property `name`, e.g.
 * "rocksdb.estimate-num-keys"), or -1 when it has none. Read-only, any
 * thread (the HTTP server's /metrics). */
long long weir_state_db_estimate(weir_state_db_t *db, const char *name);
/* RocksDB's estimate of the bytes one store takes in its files, over every
 * partition (what is still only in the memtable is not counted); -1 when
 * it cannot say. */
long long weir_state_db_store_bytes(weir_state_db_t *db, const char *store);

/* What RocksDB holds in memory now, inside state.memory.mb: the block cache
 * (data blocks, and every table's filter and index), the part of it pinned
 * (L0's and the top levels', and blocks in use by a read), and the
 * memtables. Any thread. */
typedef struct weir_state_memory {
  size_t block_cache;
  size_t block_cache_pinned;
  size_t block_cache_capacity;
  size_t memtables;
} weir_state_memory_t;
void weir_state_db_memory(weir_state_db_t *db, weir_state_memory_t *out);

/* Iterate the user keys of one store-partition with from <= key < to (NULL =
 * unbounded), in memcmp order; or those starting with a prefix. Key and value
 * pointers from next() are valid until the next next() or close(). NULL on
 * out of memory or a store name longer than 65535 bytes. */
weir_state_iter_t *weir_state_iter_range(weir_state_db_t *db, const char *store, int32_t partition,
                                         const void *from, size_t from_len, const void *to,
                                         size_t to_len);
weir_state_iter_t *weir_state_iter_prefix(weir_state_db_t *db, const char *store, int32_t partition,
                                          const void *prefix, size_t prefix_len);
/* Position on the last row in the iterator's bounds instead of the first
 * (a following next() goes on past it, so ends). 1 and the row, 0 when
 * empty, -1 on error. */
int weir_state_iter_last(weir_state_iter_t *it, const void **key, size_t *key_len,
                         const void **value, size_t *value_len);
/* 1 and the row, 0 past the end, -1 on error. */
int weir_state_iter_next(weir_state_iter_t *it, const void **key, size_t *key_len,
                         const void **value, size_t *value_len);
/* RocksDB's message after next() returned -1, else "". */
const char *weir_state_iter_error(const weir_state_iter_t *it);
void weir_state_iter_close(weir_state_iter_t *it);

#endif
