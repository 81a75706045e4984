/* task_state — a task's state stores: their handles for the operators, the
 * write path to the changelog, the commit-time flush and apply, and the
 * bookkeeping of a restore.
 *
 * The commit of a task that holds records back (weir_task_holds_back:
 * stores, or an operator with flush(), decided at each commit since a hot
 * swap may add one), driven by the thread, see commit.c:
 *   1. weir_task_flush_operators: each operator's flush() may forward;
 *   2. weir_task_flush_stores: every dirty cache entry is produced to the
 *      changelog (partition = the task's) and added to the task's batch;
 *   3. the thread waits for every produce to be acknowledged, and stops here
 *      if any delivery failed since the last commit; else it commits the
 *      input offsets synchronously;
 *   4. only if that commit succeeded, weir_task_apply_stores: the batch and
 *      each store's checkpoint (the changelog offset after the last
 *      acknowledged record) go to RocksDB in one atomic write.
 * Nothing else writes RocksDB while the task runs: reads and iterators see
 * the cache laid over RocksDB (kv_iter.h), and a cache over its budget asks
 * for an early commit (task env's commit_wanted) instead of writing. When a
 * step fails the batch is kept: the entries stay readable from the cache and
 * the next commit that succeeds applies them. Exactly-once will put a
 * transaction commit at step 3.
 */
#ifndef WEIR_TASK_TASK_STATE_H
#define WEIR_TASK_TASK_STATE_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <weir/weir.h>

#include "state/kv_store.h"
#include "topology/topology.h"

typedef struct weir_task weir_task_t;
struct weir_node_inst;

typedef struct weir_task_store {
  weir_store_t pub; /* first: the plugin's handle is this struct */
  weir_task_t *task;
  const weir_store_decl_t *decl;
  weir_kv_store_t *kv;           /* NULL while the task is closed (and in a dry run) */
  struct weir_window_store *win; /* window and session stores: segments over kv */
  rd_kafka_topic_t *changelog;   /* NULL: no changelog */
  int64_t acked_next;            /* changelog offset after the last acknowledged record; -1 none */
  int delivery_failed;
  /* Restore: [restore_from, restore_to) of the changelog, while restoring. */
  int restoring;
  int64_t restore_from, restore_to, restored, restore_start_ms;
  int64_t restore_next;    /* checkpoint to write with this poll's batch; 0 none */
  const void *restore_rkt; /* the restore consumer's handle of the changelog (a cache) */
  int64_t begin_deadline;  /* waiting to read the changelog's offsets until then; 0 not */
  void *global_value;      /* a global table's: the last value read (the host owns it) */
  void *iter_spare;        /* host_api_windows.c: a closed iterator wrapper, reused */
} weir_task_store_t;

/* Allocate the handles of the stores the task's sub-topology uses. */
int weir_task_stores_new(weir_task_t *task);
void weir_task_stores_free(weir_task_t *task);
/* Open (kv caches, changelog handles) before the operators' init. */
int weir_task_stores_open(weir_task_t *task, char *errstr, size_t errstr_size);
/* Drop the caches (dirty entries are lost: the caller committed first, or
 * the task was lost and the changelog has what counts). */
void weir_task_stores_close(weir_task_t *task);

/* The store `name` of the operator instance's node (NULL = its first), or
 * the global table `name`, listed in `store =` or not. */
weir_store_t *weir_task_store_get(weir_task_t *task, const weir_node_t *node, const char *name);

/* Whether the task's commits must flush and wait (steps 1-4): it has
 * stores, or an operator instance whose current implementation has flush(),
 * or outputs of a flush() not yet waited for (a swap retired the instance
 * that made them). Asked at each commit: a hot swap may add or remove
 * flush(). */
int weir_task_holds_back(const weir_task_t *task);

/* Steps 1 and 2 above. 0, or -1 with task->error set. */
int weir_task_flush_operators(weir_task_t *task);
/* One instance's flush() (before a hot swap closes it). */
int weir_task_flush_one(weir_task_t *task, struct weir_node_inst *inst);
int weir_task_flush_stores(weir_task_t *task);
/* Step 4: 1 when RocksDB was written, 0 when there was nothing to write, -1
 * with task->error set. */
int weir_task_apply_stores(weir_task_t *task);

/* The delivery report of a changelog record; `failed` when it did not
 * arrive (an error, or no offset to prove it did). */
void weir_task_store_acked(weir_task_store_t *ts, const rd_kafka_message_t *msg, int failed);

/* The host API's store functions (host_api.c puts them in the table). */
int weir_api_kv_get(weir_store_t *store, const void *key, size_t key_len, const void **value,
                    size_t *value_len);
int weir_api_kv_put(weir_store_t *store, const void *key, size_t key_len, const void *value,
                    size_t value_len);
int weir_api_kv_delete(weir_store_t *store, const void *key, size_t key_len);
weir_iter_t *weir_api_kv_range(weir_store_t *store, const void *from, size_t from_len,
                               const void *to, size_t to_len);
weir_iter_t *weir_api_kv_prefix(weir_store_t *store, const void *prefix, size_t prefix_len);
int weir_api_iter_next(weir_iter_t *it, const void **key, size_t *key_len, const void **value,
                       size_t *value_len);
void weir_api_iter_close(weir_iter_t *it);

#endif
