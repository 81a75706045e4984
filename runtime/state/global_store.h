/* global_store — the rows of a global table ([global:NAME]) in the
 * process's RocksDB (state_db.h).
 *
 * A global table holds every partition of its topic in one key range:
 * store NAME, partition WEIR_GLOBAL_PARTITION (-1, so it sorts after every
 * real partition and is never a task's). Its checkpoints are one per topic
 * partition p (store NAME, partition p): the next offset to read. A row and
 * the checkpoint of the record that wrote it go to RocksDB in one batch, so
 * a restart reads the topic from exactly where the rows end.
 *
 * Thread-safety: any thread reads (RocksDB is); one writer, the global
 * thread (or the test driver).
 */
#ifndef WEIR_STATE_GLOBAL_STORE_H
#define WEIR_STATE_GLOBAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "state/state_db.h"

#define WEIR_GLOBAL_PARTITION (-1)

/* Add one record of the topic to `batch`: a value sets the key, a NULL
 * value (a tombstone) deletes it; a record without a key is nothing (it
 * cannot be looked up). The caller adds the checkpoint of its partition to
 * the same batch, once per batch (a row per record cost half the memtable
 * inserts of a restore). */
void weir_global_store_add(weir_state_batch_t *batch, const char *name, const void *key,
                           size_t key_len, const void *value, size_t value_len);
/* Partition `partition` of the topic is in the table up to `next` (the
 * next offset to read). */
void weir_global_store_checkpoint(weir_state_batch_t *batch, const char *name, int32_t partition,
                                  int64_t next);

/* The key's value as RocksDB holds it now: 1 and a malloc'd copy in *value
 * (caller frees), 0 absent, -1 error (errstr). */
int weir_global_store_get(weir_state_db_t *db, const char *name, const void *key, size_t key_len,
                          void **value, size_t *value_len, char *errstr, size_t errstr_size);

/* Every row and the checkpoints of partitions [0, partitions) dropped (the
 * topic no longer matches them: a full read follows). 0, or -1 + errstr. */
int weir_global_store_drop(weir_state_db_t *db, const char *name, int32_t partitions, char *errstr,
                           size_t errstr_size);

#endif
