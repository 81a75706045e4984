/* fake_host — a weir host API for unit-testing operators without a topology,
 * a task or Kafka.
 *
 * Usage:
 *   fake_host_t h;
 *   fake_host_init(&h);
 *   fake_host_use_defs(&h, op->params);         // defaults come from the table
 *   fake_host_set_param(&h, "prefix", "x:");
 *   fake_host_add_child(&h, "errors");          // names for weir_forward_to
 *   void *self = NULL;
 *   char err[256];
 *   op->init(fake_host_ctx(&h), &self, err, sizeof err);
 *   fake_host_set_origin(&h, "in", 0, 42);
 *   fake_host_process(&h, op, self, &rec);      // or op->process(fake_host_ctx(&h), ...)
 *   h.records[0].value ...                      // what was forwarded, copied
 *   op->close(fake_host_ctx(&h), self);
 *   fake_host_free(&h);
 *
 * Every forwarded record is copied (key, value, headers), so a plugin may
 * forward records built on its stack. Not thread-safe: one test, one thread.
 *
 * Stores (ABI 1.1): fake_host_add_store(&h, "counts") before init() gives
 * the operator an in-memory key-value store (a sorted array; keys compare as
 * memcmp, shorter first). weir_store_get(ctx, NULL) returns the first store
 * added, as the host does for the first name in `store =`. The fake enforces
 * weir.h's lifetimes so ASan catches an operator that breaks them: every key
 * or value it returns is a fresh heap copy freed at the next store call of
 * the host (any store, any function; a forward counts as one, because the
 * children it runs may make one before they read the record). Iterators
 * survive writes: next() goes on from the last key returned, so deleting
 * while iterating is safe and a key put ahead of the cursor is seen.
 * fake_host_process/fake_host_flush count the iterators an operator left
 * open in `leaked_iters`.
 */
#ifndef WEIR_TESTS_FAKE_HOST_H
#define WEIR_TESTS_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <weir/weir.h>

typedef struct fake_header {
  char *name;
  void *value; /* NULL when the header's value was NULL */
  size_t value_len;
} fake_header_t;

/* One forwarded record. key/value are NUL-terminated copies (the NUL is not
 * counted in the length), NULL when the record had none (value NULL = a
 * tombstone). */
typedef struct fake_record {
  char *child; /* NULL for weir_forward(), the child's name for weir_forward_to() */
  char *key;
  size_t key_len;
  char *value;
  size_t value_len;
  int64_t timestamp;
  fake_header_t *headers;
  size_t header_count;
} fake_record_t;

typedef struct fake_log {
  int level;
  char *message;
} fake_log_t;

typedef struct fake_metric {
  char *name;
  int64_t value; /* the sum of the deltas */
} fake_metric_t;

typedef struct fake_store fake_store_t;
typedef struct fake_iter fake_iter_t;

typedef struct fake_host {
  weir_ctx_t ctx; /* handed to the operator; the API finds the host from it */
  weir_host_api_t api;

  /* Parameters, name -> text. A name not set falls back to the default in
   * `defs` (fake_host_use_defs), else unset (NULL / 0). */
  char **param_names, **param_values;
  size_t param_count;
  const weir_param_def_t *defs; /* WEIR_PARAM_END-terminated; may be NULL */

  char **children; /* for weir_forward_to / weir_child_name */
  size_t child_count;

  fake_record_t *records; /* everything forwarded, in order */
  size_t record_count, record_cap;
  int forward_rc; /* what forward/forward_to return (after capturing); WEIR_OK */

  fake_log_t *logs; /* every weir_log line at or above log_level */
  size_t log_count, log_cap;
  int log_level; /* default WEIR_LOG_DEBUG: everything is captured */

  fake_metric_t *metrics;
  size_t metric_count;

  weir_origin_t origin; /* origin.topic points at origin_topic, or NULL */
  char *origin_topic;
  int64_t stream_time;
  char *node_name; /* default "node" */
  char *task_id;   /* default "0_0" */

  fake_store_t **stores; /* in the order added; stores[0] answers store_get(NULL) */
  size_t store_count;
  fake_iter_t *iters; /* open iterators, a list */
  size_t open_iters;
  size_t leaked_iters;         /* left open when process/flush returned */
  void *lent_key, *lent_value; /* what the last store call returned; freed by the next */
  size_t store_calls;          /* store functions called (and forwards), for tests */
} fake_host_t;

/* Zero the host and install the API table. Never fails. */
void fake_host_init(fake_host_t *h);
/* Free every copy the host holds. The host can be reused after fake_host_init. */
void fake_host_free(fake_host_t *h);

weir_ctx_t *fake_host_ctx(fake_host_t *h);

/* Set (replace) a parameter's text. 0, or -1 when out of memory. */
int fake_host_set_param(fake_host_t *h, const char *name, const char *value);
/* Append a value to a MULTI parameter: joined with '\n' as the real host does. */
int fake_host_add_param(fake_host_t *h, const char *name, const char *value);
/* The operator's parameter table, for defaults. Borrowed. */
void fake_host_use_defs(fake_host_t *h, const weir_param_def_t *defs);

int fake_host_add_child(fake_host_t *h, const char *name);
/* topic NULL: no origin (as outside process()). */
int fake_host_set_origin(fake_host_t *h, const char *topic, int32_t partition, int64_t offset);
int fake_host_set_node(fake_host_t *h, const char *node_name, const char *task_id);

/* Call def->process with this host's ctx, first moving h->stream_time up to
 * the record's timestamp as the host does. Returns what process returned. */
int fake_host_process(fake_host_t *h, const weir_operator_def_t *def, void *self,
                      const weir_record_t *rec);
/* Build a record from two C strings (either may be NULL) and process it. */
int fake_host_process_kv(fake_host_t *h, const weir_operator_def_t *def, void *self,
                         const char *key, const char *value, int64_t timestamp);

/* Call def->flush (when the operator has one) as the host does before a
 * commit. Returns what flush returned, WEIR_OK without one. */
int fake_host_flush(fake_host_t *h, const weir_operator_def_t *def, void *self);

/* Add an empty store named `name` (copied). Its handle, for checks with
 * weir_kv_get and friends, or NULL when out of memory. */
weir_store_t *fake_host_add_store(fake_host_t *h, const char *name);
/* The store added as `name` (NULL: the first), or NULL. */
weir_store_t *fake_host_store(fake_host_t *h, const char *name);
/* How many keys a store holds. */
size_t fake_store_size(const weir_store_t *store);

/* Drop the captured records and logs (not the parameters or children). */
void fake_host_clear(fake_host_t *h);
/* The sum of a metric's deltas; 0 if never added. */
int64_t fake_host_metric(const fake_host_t *h, const char *name);
/* The first captured log line containing `needle`, or NULL. */
const fake_log_t *fake_host_find_log(const fake_host_t *h, const char *needle);

#endif
