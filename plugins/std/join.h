/* join — the std join operator's instance, shared by join.c (parameters,
 * stream-table and table-table) and join_window.c (stream-stream). Internal
 * to std.so. */
#ifndef WEIR_STD_JOIN_H
#define WEIR_STD_JOIN_H

#include <regex.h>
#include <stdint.h>
#include <weir/weir.h>

#include "join_value.h"
#include "std_util.h"

enum join_kind {
  JOIN_STREAM_TABLE,
  JOIN_STREAM_STREAM,
  JOIN_TABLE_TABLE,
  JOIN_STREAM_GLOBAL,
  JOIN_FOREIGN_KEY
};
/* stream-global: where the lookup key comes from (`key.from`). */
enum join_key_from { JOIN_KEY_FROM_KEY, JOIN_KEY_FROM_JSON, JOIN_KEY_FROM_REGEX };
enum join_type { JOIN_INNER, JOIN_LEFT, JOIN_OUTER };

#define JOIN_LEFT_SIDE 0
#define JOIN_RIGHT_SIDE 1
#define JOIN_NO_TIME INT64_MIN

typedef struct join_op {
  enum join_kind kind;
  enum join_type type;
  weir_store_t *store[2]; /* per side; stream-table: only the table's (right) */
  std_join_value_t value;
  /* stream-stream */
  int64_t before, after, grace;
  int late_error;
  int64_t observed;      /* stream time: the largest timestamp this join took */
  int64_t swept[2];      /* per side: buckets starting by this were emitted */
  int marks_loaded;      /* observed and swept read back from the left store */
  int64_t saved[3];      /* observed, swept[0], swept[1] as last written there */
  int64_t last_late_log; /* monotonic seconds of the last late warning */
  std_buf_t bucket;      /* a bucket being rebuilt */
  std_buf_t found;       /* buckets copied out of an iterator */
  std_buf_t scratch;     /* a table value with its timestamp; an other side's copy */
  /* stream-global */
  weir_store_t *global;
  enum join_key_from key_from;
  char *key_path; /* json: the member path (a copy) */
  regex_t key_re; /* regex: compiled when key_re_set */
  int key_re_set;
  std_buf_t subject; /* regex: the value, NUL-terminated */
  /* foreign-key (join_fk.c) */
  char *fk_child;   /* the left half's subscription sink: "<node>.subscription" */
  std_buf_t fk_old; /* the right key a left row referred to before its update */
  std_buf_t fk_msg; /* a subscription or response being encoded */
} join_op_t;

/* Whether unmatched records of `side` are emitted with a null other side. */
static inline int join_keeps_unmatched(const join_op_t *j, int side) {
  return j->type == JOIN_OUTER || (j->type == JOIN_LEFT && side == JOIN_LEFT_SIDE);
}

/* Render left/right (either may be absent) and forward (key, value, ts). */
int join_emit(weir_ctx_t *ctx, join_op_t *j, const void *key, size_t key_len, std_side_t left,
              std_side_t right, int64_t ts);

/* Forward a tombstone for `key` at ts. */
int join_emit_tombstone(weir_ctx_t *ctx, const void *key, size_t key_len, int64_t ts);

/* A kv side's value of rec's key (the store holds an 8-byte timestamp, then
 * the value), copied into j->scratch (a store value is valid only until the
 * next store call): *found 0 when it has none. */
int join_table_read(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec,
                    std_side_t *value, int64_t *ts, int *found);
/* rec becomes its key's value on `side` (a tombstone deletes it). */
int join_table_write(join_op_t *j, int side, const weir_record_t *rec);

/* join_global.c: key.from = key | json:PATH | regex:PATTERN (init); the key
 * it takes from `rec`: 1 and (*key, *len), 0 when it has none, < 0 on an
 * error (regex: *key points into j->subject, valid until the next call). */
int join_read_key_from(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size);
int join_key_of(join_op_t *j, const weir_record_t *rec, const void **key, size_t *len);

/* join_fk.c: kind = foreign-key's left half (the operator the section names;
 * the host adds the right half, std_join_fk_right_op, and the topics). */
int join_fk_configure(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size);
int join_fk_process(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec);

/* join_global.c: stream-global's key.from and global (init), and one
 * stream record. */
int join_global_configure(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size);
int join_global_process(weir_ctx_t *ctx, join_op_t *j, const weir_record_t *rec);
void join_global_free(join_op_t *j);

/* join_window.c: one record of either side of a stream-stream join. */
int join_window_process(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec);
/* Before a commit: the join's stream time and how far it swept, committed
 * with its buffers. */
int join_window_flush(join_op_t *j);

#endif
