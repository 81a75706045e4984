/*
 * weir.h — the weir operator SDK, ABI 1.3 (1.1 added state stores and the
 * operator's flush callback; 1.2 timers (punctuate), timestamp extractors,
 * store enumeration, and window and session stores; 1.3 which input a
 * record came from, for operators with several inputs such as joins).
 *
 * This is the only header a weir plugin includes. A plugin links nothing from
 * the host: every host service arrives as a function table (weir_host_api_t)
 * inside the context handed to each callback, and the static inline wrappers
 * at the bottom of this file are the way to call it.
 *
 * Compatibility rules (binding on every later version of this file):
 *   - Within one ABI major, nothing is removed, renamed or reordered. New host
 *     services are appended to weir_host_api_t, new fields to the end of a
 *     struct, and WEIR_ABI_MINOR goes up.
 *   - Every struct that crosses the boundary starts with its size
 *     (struct_size). A reader copies at most what it knows and treats the
 *     rest as zero, so an old plugin works on a new host.
 *   - The host loads a plugin when the plugin's major equals its own and the
 *     plugin's minor is not higher than its own.
 *
 * Threads. Each callback below is tagged with the thread that calls it:
 *   [load-thread]  the thread that loads the plugin (main thread, or the
 *                  reload thread during a hot swap). Never concurrent with
 *                  itself for one plugin.
 *   [task-thread]  the stream thread that owns the task the operator
 *                  instance belongs to. All callbacks of one instance run on
 *                  that one thread, never concurrently, so per-instance
 *                  state (the `self` pointer) needs no locks. Different
 *                  instances of one operator type run on different threads
 *                  at once: global mutable state in a plugin needs locks.
 *   [any-thread]   may be called from any thread; must be thread-safe.
 * Plugins start no threads and register no atexit handlers or TLS
 * destructors: the host must be able to unload them at any time it holds no
 * instance (a hot swap).
 *
 * Errors are return codes: WEIR_OK (0) or a negative WEIR_E* value. Where a
 * message helps, the caller passes a buffer (errstr, errstr_size) that the
 * callee fills with one line, as librdkafka does.
 */
#ifndef WEIR_WEIR_H
#define WEIR_WEIR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEIR_ABI_MAJOR 1
#define WEIR_ABI_MINOR 3

/* The one symbol a plugin exports, made by WEIR_PLUGIN(). */
#define WEIR_PLUGIN_ENTRY_SYMBOL "weir_plugin_entry"

#if defined(__GNUC__)
#define WEIR_EXPORT __attribute__((visibility("default")))
#define WEIR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WEIR_EXPORT
#define WEIR_PRINTF(f, a)
#endif

/* ---------------------------------------------------------------- errors */

enum weir_status {
  WEIR_OK = 0,
  WEIR_EINVAL = -1,  /* a bad argument or configuration value */
  WEIR_ENOMEM = -2,  /* out of memory */
  WEIR_ENOENT = -3,  /* no such child, parameter, store or key */
  WEIR_ESTATE = -4,  /* called at the wrong time (e.g. forward outside process) */
  WEIR_ENOTSUP = -5, /* not supported by this host or configuration */
  WEIR_EFAIL = -6,   /* the operator failed; the host applies the error policy */
  WEIR_ERANGE = -7   /* a value out of range, or a buffer too small */
};

/* ---------------------------------------------------------------- records */

/*
 * A record header: a name and an opaque value. This triple is frozen for the
 * whole of ABI 1 (like struct iovec): it never grows, so arrays of it need no
 * size field.
 */
typedef struct weir_header {
  const char *name;  /* NUL-terminated */
  const void *value; /* may be NULL */
  size_t value_len;
} weir_header_t;

/*
 * A record. Passed to process() borrowed: every pointer in it is valid only
 * until process() returns. weir_forward() copies what it keeps, so a plugin
 * may forward a record built on its stack from its own buffers.
 *
 * value == NULL is a tombstone (a delete), distinct from an empty value
 * (value != NULL, value_len == 0). key == NULL means no key.
 *
 * Size rule: the 1.0 fields end with header_count, and later minors only
 * append. A host accepts from weir_forward() any record whose struct_size is
 * at least the 1.0 record's (through header_count: 64 bytes on 64-bit
 * platforms): it reads the fields it knows, and those the writer's record is
 * too small to have read as zero. A smaller struct_size is refused
 * (WEIR_EINVAL; the input fails by the topology's error policy), so always
 * start from WEIR_RECORD_INIT or a copy of a record the host gave. A plugin
 * reads a field appended after 1.0 only when rec->struct_size covers it.
 */
typedef struct weir_record {
  uint32_t struct_size; /* sizeof(weir_record_t) of the writer */
  uint32_t reserved0;   /* zero */
  const void *key;
  size_t key_len;
  const void *value;
  size_t value_len;
  int64_t timestamp; /* event time, ms since the epoch; 0 at a sink = the input's */
  const weir_header_t *headers;
  size_t header_count;
} weir_record_t;

/* Initialise a record on the stack: weir_record_t out = WEIR_RECORD_INIT; */
#define WEIR_RECORD_INIT                                                                           \
  { (uint32_t)sizeof(weir_record_t), 0, NULL, 0, NULL, 0, 0, NULL, 0 }

/*
 * The two sides of a join result, for an operator that builds the joined
 * value itself (Kafka Streams' ValueJoiner): a std join with `value = sides`
 * forwards, for each result, a record with an empty value whose headers
 * hold each present side's bytes as they came (binary-safe); an absent side
 * (an unmatched record of a left or outer join) has no header. A
 * table-table join's tombstone (a key's result gone) has neither. No host
 * call: any host. Returns 1 and sets *value and *len when `side` (0 left,
 * 1 right) is there, 0 when it is not.
 */
#define WEIR_JOIN_LEFT_HEADER "weir.join.left"
#define WEIR_JOIN_RIGHT_HEADER "weir.join.right"

static inline int weir_join_side(const weir_record_t *rec, int side, const void **value,
                                 size_t *len) {
  const char *want = side ? WEIR_JOIN_RIGHT_HEADER : WEIR_JOIN_LEFT_HEADER;
  for (size_t i = 0; rec->headers && i < rec->header_count; i++) {
    const char *a = rec->headers[i].name, *b = want;
    while (*a && *a == *b)
      a++, b++;
    if (*a == *b) {
      *value = rec->headers[i].value ? rec->headers[i].value : "";
      *len = rec->headers[i].value_len;
      return 1;
    }
  }
  return 0;
}

/* Where the record being processed came from. Borrowed, valid during process().
 * Read `input` (1.3) through weir_input_index(), which checks struct_size. */
typedef struct weir_origin {
  uint32_t struct_size;
  int32_t partition;
  const char *topic;
  int64_t offset;
  /* 1.3: which of this node's inputs handed the record over: its index in
   * the node's `input =` list (weir_input_name() names it); -1 when no
   * input did (outside a delivery). */
  int32_t input;
} weir_origin_t;

/* ---------------------------------------------------------------- parameters */

/*
 * An operator declares its INI parameters as static data. The host validates
 * every [operator:NAME] section against this table before anything runs, and
 * `weir describe --params` / `weir plugin info` print it.
 */
typedef enum weir_param_type {
  WEIR_PARAM_STRING = 1,
  WEIR_PARAM_INT = 2,    /* int64; min/max apply */
  WEIR_PARAM_DOUBLE = 3, /* min/max apply */
  WEIR_PARAM_BOOL = 4,   /* true/false, yes/no, on/off, 1/0 */
  WEIR_PARAM_ENUM = 5,   /* one of `choices`, a '|'-separated list */
  WEIR_PARAM_REGEX = 6   /* a POSIX extended regex, compiled by the host to check it */
} weir_param_type_t;

/* Flags for weir_param_def_t.flags. */
#define WEIR_PARAM_REQUIRED 0x1u /* no default: the section must set it */
#define WEIR_PARAM_MULTI 0x2u    /* may repeat; values are joined with '\n' */

typedef struct weir_param_def {
  uint32_t struct_size; /* sizeof(weir_param_def_t) of the plugin; also the array stride */
  uint32_t flags;       /* WEIR_PARAM_* */
  const char *name;     /* NULL ends the array */
  weir_param_type_t type;
  const char *default_value; /* as INI text; NULL = no default */
  double min, max;           /* INT/DOUBLE bounds; ignored when min > max */
  const char *choices;       /* ENUM: "a|b|c" */
  const char *doc;           /* one line, printed by `weir plugin info` */
} weir_param_def_t;

#define WEIR_PARAM_(n, t, f, d, lo, hi, ch, doc)                                                   \
  { (uint32_t)sizeof(weir_param_def_t), (f), (n), (t), (d), (lo), (hi), (ch), (doc) }
#define WEIR_PARAM_STR(n, def, doc) WEIR_PARAM_(n, WEIR_PARAM_STRING, 0, def, 1, 0, NULL, doc)
#define WEIR_PARAM_STR_REQ(n, doc)                                                                 \
  WEIR_PARAM_(n, WEIR_PARAM_STRING, WEIR_PARAM_REQUIRED, NULL, 1, 0, NULL, doc)
#define WEIR_PARAM_INT(n, def, lo, hi, doc)                                                        \
  WEIR_PARAM_(n, WEIR_PARAM_INT, 0, def, lo, hi, NULL, doc)
#define WEIR_PARAM_DOUBLE(n, def, lo, hi, doc)                                                     \
  WEIR_PARAM_(n, WEIR_PARAM_DOUBLE, 0, def, lo, hi, NULL, doc)
#define WEIR_PARAM_BOOL(n, def, doc) WEIR_PARAM_(n, WEIR_PARAM_BOOL, 0, def, 1, 0, NULL, doc)
#define WEIR_PARAM_ENUM(n, def, choices, doc)                                                      \
  WEIR_PARAM_(n, WEIR_PARAM_ENUM, 0, def, 1, 0, choices, doc)
#define WEIR_PARAM_REGEX(n, def, doc) WEIR_PARAM_(n, WEIR_PARAM_REGEX, 0, def, 1, 0, NULL, doc)
#define WEIR_PARAM_REGEX_REQ(n, doc)                                                               \
  WEIR_PARAM_(n, WEIR_PARAM_REGEX, WEIR_PARAM_REQUIRED, NULL, 1, 0, NULL, doc)
/* A string that may repeat (values joined with '\n'); add WEIR_PARAM_REQUIRED via WEIR_PARAM_() if
 * needed. */
#define WEIR_PARAM_STR_MULTI(n, doc)                                                               \
  WEIR_PARAM_(n, WEIR_PARAM_STRING, WEIR_PARAM_MULTI, NULL, 1, 0, NULL, doc)
#define WEIR_PARAM_END                                                                             \
  { (uint32_t)sizeof(weir_param_def_t), 0, NULL, (weir_param_type_t)0, NULL, 1, 0, NULL, NULL }

/* ---------------------------------------------------------------- contexts */

typedef struct weir_host_api weir_host_api_t;

/*
 * The context of one operator instance in one task. The host owns it; it is
 * valid from init() until close() returns. Only `api` is public; the host
 * keeps its own data behind it.
 */
typedef struct weir_ctx {
  uint32_t struct_size;
  uint32_t reserved0;
  const weir_host_api_t *api;
} weir_ctx_t;

/*
 * A state store of the task (1.1), from weir_store_get(), and an iterator
 * over one. Like weir_ctx_t, only the first fields are public: the host keeps
 * its own data behind them. Both belong to the host.
 */
typedef struct weir_store {
  uint32_t struct_size;
  uint32_t reserved0;
  const weir_host_api_t *api;
} weir_store_t;

typedef struct weir_iter {
  uint32_t struct_size;
  uint32_t reserved0;
  const weir_host_api_t *api;
} weir_iter_t;

/* Bytes owned by the host, for save()/load() across a hot swap. */
typedef struct weir_buf weir_buf_t;

/* Time domains for timers (weir_timer_schedule, 1.2). */
#define WEIR_STREAM_TIME 1
#define WEIR_WALL_CLOCK 2

/* Log levels (syslog numbering). */
enum weir_log_level {
  WEIR_LOG_ERROR = 3,
  WEIR_LOG_WARN = 4,
  WEIR_LOG_INFO = 6,
  WEIR_LOG_DEBUG = 7
};

/* ---------------------------------------------------------------- operators */

/* Flags for weir_operator_def_t.flags. */
#define WEIR_OP_ROUTES_BY_NAME 0x1u /* uses weir_forward_to(); children are named */
/* 1.2: the type is a timestamp extractor (extract_timestamp set), selected by
 * a source's `timestamp = extractor:PLUGIN.TYPE`; it is never a node. */
#define WEIR_OP_TIMESTAMP_EXTRACTOR 0x2u

/* Store kinds (weir_store_kind, 1.2). */
#define WEIR_STORE_KV 1
#define WEIR_STORE_WINDOW 2
#define WEIR_STORE_SESSION 3

typedef struct weir_operator_def {
  uint32_t struct_size;           /* sizeof(weir_operator_def_t) of the plugin */
  uint32_t flags;                 /* WEIR_OP_* */
  const char *type;               /* the `type =` that selects it, unique within the plugin */
  const char *doc;                /* one line */
  const weir_param_def_t *params; /* array ended by WEIR_PARAM_END; may be NULL */

  /*
   * [task-thread] Create one instance for one task. Parameters are readable
   * (weir_param_*) and already validated. Store the instance in *self (may
   * stay NULL). On failure return a negative WEIR_E* and write one line into
   * errstr; the host reports it with the node name and task, and calls no
   * other callback of this instance. Required.
   */
  int (*init)(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size);

  /*
   * [task-thread] Handle one record. `rec` and everything it points to are
   * borrowed for this call. Forward zero or more records with weir_forward()
   * or weir_forward_to(). Return WEIR_OK, or a negative WEIR_E* to have the
   * host apply the topology's error policy to this input record. Required.
   */
  int (*process)(weir_ctx_t *ctx, void *self, const weir_record_t *rec);

  /*
   * [task-thread] Release the instance. Called once for every successful
   * init(), when the task closes (rebalance, shutdown) or before a hot swap
   * replaces this version without save(). May forward nothing. Optional.
   */
  void (*close)(weir_ctx_t *ctx, void *self);

  /*
   * [task-thread] Hot swap (hosts >= 1.1). When the old version has save()
   * and the new one load(), a swap calls old save() — write the instance's
   * in-memory state with weir_buf_write() and release the instance — then
   * new load(), which is init() from that state. Without them, the old
   * instance is closed and the new one starts with init(). Optional.
   */
  int (*save)(weir_ctx_t *ctx, void *self, weir_buf_t *out);
  int (*load)(weir_ctx_t *ctx, void **self, const void *state, size_t state_len, char *errstr,
              size_t errstr_size);

  /*
   * 1.1. [task-thread] The task is about to commit (every commit.interval.ms,
   * and before its partitions are revoked or the process stops): forward what
   * was held back, e.g. the latest aggregate of each key updated since the
   * last flush. May forward and use stores; the outputs are acknowledged
   * before the input offsets are committed. Return WEIR_OK or a negative
   * WEIR_E* (the app stops: what is not committed is processed again).
   * Optional.
   */
  int (*flush)(weir_ctx_t *ctx, void *self);

  /*
   * 1.2. [task-thread] A timer this instance scheduled with
   * weir_timer_schedule() is due. `timer` is its id; `timestamp` the
   * punctuation time: for WEIR_STREAM_TIME the stream time that reached the
   * boundary, for WEIR_WALL_CLOCK the wall clock (ms since the epoch). Called
   * between records, never inside process(). May forward (a record forwarded
   * with timestamp 0 gets `timestamp`) and use stores; its outputs are
   * committed like a record's. Return WEIR_OK, or a negative WEIR_E* (the
   * topology's error policy applies as to a failed record). Optional.
   */
  int (*punctuate)(weir_ctx_t *ctx, void *self, int64_t timer, int64_t timestamp);

  /*
   * 1.2. [task-thread] Only for WEIR_OP_TIMESTAMP_EXTRACTOR types: set
   * *timestamp to the event time of `rec` (ms since the epoch), as Kafka
   * Streams' TimestampExtractor. `partition_time` is the largest timestamp
   * extracted so far on this partition (-1 before the first). Return WEIR_OK,
   * or a negative WEIR_E* (or a negative *timestamp): the record then follows
   * the source's deserialization.policy. init(), close() and params work as
   * for any operator (one instance per task and source); process() may be
   * NULL for these types.
   */
  int (*extract_timestamp)(weir_ctx_t *ctx, void *self, const weir_record_t *rec,
                           int64_t partition_time, int64_t *timestamp);
} weir_operator_def_t;

/* ---------------------------------------------------------------- plugins */

typedef struct weir_plugin_desc {
  uint16_t abi_major; /* WEIR_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor; /* WEIR_ABI_MINOR the plugin was built with */
  uint32_t struct_size;
  const char *name;                            /* e.g. "std" */
  const char *version;                         /* the plugin's own version, free text */
  const char *doc;                             /* one line */
  const weir_operator_def_t *const *operators; /* NULL-terminated */
  const void *const *serdes;                   /* reserved: NULL in ABI 1.0 */
} weir_plugin_desc_t;

/* [load-thread] The exported entry point. Returns static data; never NULL. */
typedef const weir_plugin_desc_t *(*weir_plugin_entry_fn)(void);

/*
 * Define the entry point:
 *   WEIR_PLUGIN("myplugin", "1.2.0", "What it does", &op_a, &op_b)
 */
#define WEIR_PLUGIN(name_, version_, doc_, ...)                                                    \
  WEIR_EXPORT const weir_plugin_desc_t *weir_plugin_entry(void);                                   \
  WEIR_EXPORT const weir_plugin_desc_t *weir_plugin_entry(void) {                                  \
    static const weir_operator_def_t *const weir_ops_[] = {__VA_ARGS__, NULL};                     \
    static const weir_plugin_desc_t weir_desc_ = {WEIR_ABI_MAJOR,                                  \
                                                  WEIR_ABI_MINOR,                                  \
                                                  (uint32_t)sizeof(weir_plugin_desc_t),            \
                                                  (name_),                                         \
                                                  (version_),                                      \
                                                  (doc_),                                          \
                                                  weir_ops_,                                       \
                                                  NULL};                                           \
    return &weir_desc_;                                                                            \
  }

/* ---------------------------------------------------------------- host API */

/*
 * The host's services. Appended to, never reordered, within ABI 1. Call them
 * through the weir_* wrappers below. Unless a function says otherwise it is
 * [task-thread]: callable only from a callback of the instance whose ctx it
 * takes, during that callback.
 */
struct weir_host_api {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;

  /* 1.0 */
  int (*forward)(weir_ctx_t *ctx, const weir_record_t *rec);
  int (*forward_to)(weir_ctx_t *ctx, const char *child, const weir_record_t *rec);
  const char *(*param_str)(weir_ctx_t *ctx, const char *name);
  int64_t (*param_int)(weir_ctx_t *ctx, const char *name);
  double (*param_double)(weir_ctx_t *ctx, const char *name);
  int (*param_bool)(weir_ctx_t *ctx, const char *name);
  int (*log_enabled)(weir_ctx_t *ctx, int level);
  void (*log)(weir_ctx_t *ctx, int level, const char *message);
  const weir_origin_t *(*origin)(weir_ctx_t *ctx);
  int64_t (*stream_time)(weir_ctx_t *ctx);
  void (*metric_add)(weir_ctx_t *ctx, const char *name, int64_t delta);
  const char *(*node_name)(weir_ctx_t *ctx);
  const char *(*task_id)(weir_ctx_t *ctx);
  size_t (*child_count)(weir_ctx_t *ctx);
  const char *(*child_name)(weir_ctx_t *ctx, size_t index);

  /* 1.1: state stores. [task-thread], as every function above. */
  weir_store_t *(*store_get)(weir_ctx_t *ctx, const char *name);
  int (*kv_get)(weir_store_t *store, const void *key, size_t key_len, const void **value,
                size_t *value_len);
  int (*kv_put)(weir_store_t *store, const void *key, size_t key_len, const void *value,
                size_t value_len);
  int (*kv_delete)(weir_store_t *store, const void *key, size_t key_len);
  weir_iter_t *(*kv_range)(weir_store_t *store, const void *from, size_t from_len, const void *to,
                           size_t to_len);
  weir_iter_t *(*kv_prefix)(weir_store_t *store, const void *prefix, size_t prefix_len);
  int (*iter_next)(weir_iter_t *it, const void **key, size_t *key_len, const void **value,
                   size_t *value_len);
  void (*iter_close)(weir_iter_t *it);
  /* 1.1: hot swap state. */
  int (*buf_write)(weir_buf_t *buf, const void *data, size_t len);
  /* 1.2: timers. [task-thread], from init() on (not from close()). */
  int64_t (*timer_schedule)(weir_ctx_t *ctx, int domain, int64_t interval_ms);
  int (*timer_cancel)(weir_ctx_t *ctx, int64_t timer);
  /* 1.2: the stores this node lists in `store =`, and a store's kind. */
  size_t (*store_count)(weir_ctx_t *ctx);
  const char *(*store_name)(weir_ctx_t *ctx, size_t index);
  int (*store_kind)(weir_store_t *store);
  /* 1.2: window stores (type = window). */
  int (*window_put)(weir_store_t *store, const void *key, size_t key_len, int64_t window_start,
                    const void *value, size_t value_len);
  weir_iter_t *(*window_fetch)(weir_store_t *store, const void *key, size_t key_len,
                               int64_t time_from, int64_t time_to);
  weir_iter_t *(*window_fetch_all)(weir_store_t *store, int64_t time_from, int64_t time_to);
  /* 1.2: session stores (type = session). */
  weir_iter_t *(*session_find)(weir_store_t *store, const void *key, size_t key_len,
                               int64_t earliest_end, int64_t latest_start);
  int (*session_put)(weir_store_t *store, const void *key, size_t key_len, int64_t start,
                     int64_t end, const void *value, size_t value_len);
  int (*session_remove)(weir_store_t *store, const void *key, size_t key_len, int64_t start,
                        int64_t end);
  /* 1.2: the window of the item weir_iter_next() last returned. */
  int (*iter_window)(weir_iter_t *it, int64_t *start, int64_t *end);
  /* 1.3: the nodes this node reads (`input =`). */
  size_t (*input_count)(weir_ctx_t *ctx);
  const char *(*input_name)(weir_ctx_t *ctx, size_t index);
  /* Later minors append here. */
};

/* Whether the host's table has `field` (a host older than the plugin lacks it). */
#define WEIR_API_HAS(api, field)                                                                   \
  ((api)->struct_size >= offsetof(weir_host_api_t, field) + sizeof((api)->field))
/* ...and it is set (a host may leave a service it does not offer NULL). */
#define WEIR_API_HAS_FN(api, field) (WEIR_API_HAS(api, field) && (api)->field)

/*
 * Forward a record to every child of this node. The host copies what it
 * keeps (sinks hand the bytes to the Kafka producer, which copies them), so
 * `rec` may point at the caller's stack. Returns WEIR_OK or the first
 * child's error. Only during process(), flush() or punctuate().
 */
static inline int weir_forward(weir_ctx_t *ctx, const weir_record_t *rec) {
  return ctx->api->forward(ctx, rec);
}

/*
 * Forward a record to the one child named `child` (the child node's section
 * name, e.g. "errors" for [sink:errors]). WEIR_ENOENT if this node has no
 * such child. Only during process(), flush() or punctuate().
 */
static inline int weir_forward_to(weir_ctx_t *ctx, const char *child, const weir_record_t *rec) {
  return ctx->api->forward_to(ctx, child, rec);
}

/*
 * Typed parameter getters: the validated value, or the declared default.
 * A string is owned by the host and valid until close(); NULL when the
 * parameter is unset and has no default (or is not declared). Numbers are 0
 * and booleans 0 in that case.
 */
static inline const char *weir_param_str(weir_ctx_t *ctx, const char *name) {
  return ctx->api->param_str(ctx, name);
}
static inline int64_t weir_param_int(weir_ctx_t *ctx, const char *name) {
  return ctx->api->param_int(ctx, name);
}
static inline double weir_param_double(weir_ctx_t *ctx, const char *name) {
  return ctx->api->param_double(ctx, name);
}
static inline int weir_param_bool(weir_ctx_t *ctx, const char *name) {
  return ctx->api->param_bool(ctx, name);
}

/* Whether a line at `level` would be logged: skip costly formatting when not. */
static inline int weir_log_enabled(weir_ctx_t *ctx, int level) {
  return ctx->api->log_enabled(ctx, level);
}

/*
 * Log one line through the host's logger, prefixed with the node and task.
 * Formatting happens only when the level is enabled. Lines longer than 1 KiB
 * are cut. Any callback of the instance.
 */
static inline WEIR_PRINTF(3, 4) void weir_log(weir_ctx_t *ctx, int level, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  if (!ctx->api->log_enabled(ctx, level))
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  ctx->api->log(ctx, level, line);
}

/* The topic, partition and offset of the input record being processed.
 * Borrowed, valid during process(); topic NULL outside process(). */
static inline const weir_origin_t *weir_origin(weir_ctx_t *ctx) {
  return ctx->api->origin(ctx);
}

/* The task's stream time: the largest event time it has seen (ms), as its
 * sources' `timestamp =` reads it (-1 before the first record). */
static inline int64_t weir_stream_time(weir_ctx_t *ctx) {
  return ctx->api->stream_time(ctx);
}

/* Add delta to a counter named `name` for this node (created on first use;
 * exposed with the node's name). Cheap: per thread, summed when read.
 * `name` is borrowed for the call only: the host copies it the first time it
 * sees it and keeps the copy as long as the instance (across hot swaps), so
 * it may live in memory the plugin reuses or frees, or in a plugin that is
 * later unloaded. Names are compared by content; a NULL name is ignored.
 * The HTTP server's /metrics shows every counter as
 * weir_operator_metric_total{operator,name}; one name has a meaning: an
 * operator that drops a record for arriving too late counts it as
 * "dropped.late", and weir_records_late_dropped_total sums those. */
static inline void weir_metric_add(weir_ctx_t *ctx, const char *name, int64_t delta) {
  ctx->api->metric_add(ctx, name, delta);
}

/* This node's section name ("words" for [operator:words]). Valid until close(). */
static inline const char *weir_node_name(weir_ctx_t *ctx) {
  return ctx->api->node_name(ctx);
}

/* This instance's task id, "<subtopology>_<partition>". Valid until close(). */
static inline const char *weir_task_id(weir_ctx_t *ctx) {
  return ctx->api->task_id(ctx);
}

/* The children of this node, in the order the topology lists them. Names are
 * valid until close(); index >= weir_child_count() gives NULL. */
static inline size_t weir_child_count(weir_ctx_t *ctx) {
  return ctx->api->child_count(ctx);
}
static inline const char *weir_child_name(weir_ctx_t *ctx, size_t index) {
  return ctx->api->child_name(ctx, index);
}

/*
 * 1.3: the inputs of this node, in the order its `input =` lists them
 * (weir_input_count() is 2 for `input = a, b`), and which of them handed
 * over the record being processed: an operator reading two inputs (a join)
 * tells its sides apart by weir_input_index(), 0 for `a`, 1 for `b`, in
 * process() and in every record forwarded to it from a flush() or
 * punctuate() upstream. A `group.by` on the node replaces its inputs with
 * the one repartition topic that merges them ("NAME.repartition-source").
 * Names are valid until close(); index >= weir_input_count() gives NULL.
 * On a host before 1.3: count 0, name NULL, index -1.
 */
static inline size_t weir_input_count(weir_ctx_t *ctx) {
  if (!WEIR_API_HAS_FN(ctx->api, input_count))
    return 0;
  return ctx->api->input_count(ctx);
}
static inline const char *weir_input_name(weir_ctx_t *ctx, size_t index) {
  if (!WEIR_API_HAS_FN(ctx->api, input_name))
    return NULL;
  return ctx->api->input_name(ctx, index);
}
static inline int weir_input_index(weir_ctx_t *ctx) {
  const weir_origin_t *o = ctx->api->origin(ctx);
  if (!o || o->struct_size < offsetof(weir_origin_t, input) + sizeof o->input)
    return -1;
  return o->input;
}

/* Append bytes to the state a save() hands over (copied). WEIR_OK, or
 * WEIR_ENOMEM. Only in save(). */
static inline int weir_buf_write(weir_ctx_t *ctx, weir_buf_t *buf, const void *data, size_t len) {
  if (!WEIR_API_HAS(ctx->api, buf_write))
    return WEIR_ENOTSUP;
  return ctx->api->buf_write(buf, data, len);
}

/* ---------------------------------------------------------------- stores (1.1) */

/*
 * Key-value stores. A store is declared in the INI file ([store:NAME],
 * type = kv) and attached to an operator (store = NAME); each task has its
 * own instance holding the keys of its partition. Writes are cached per task
 * and reach RocksDB and the store's changelog topic at each commit; a
 * restarted or moved task gets its store back from the changelog.
 *
 * Lifetimes: the store handle is valid from init() until close() returns. A
 * value or key returned by weir_kv_get() or weir_iter_next() is owned by the
 * host and valid until the next store call of the same task (any store, any
 * function): copy what you keep. Keys and values passed in are copied.
 * Keys compare as bytes (memcmp, shorter first on a tie).
 */

/*
 * Global tables ([global:NAME], topic = T): a read-only key-value store that
 * every instance fills from ALL partitions of topic T (outside the consumer
 * group), so a lookup needs no co-partitioning. The host reads T whole, up to
 * its end offsets at start, before any task processes a record, then applies
 * new records of T on a thread of its own: a value sets its key, a tombstone
 * deletes it (T is the table's changelog: no other is made).
 *
 * Any operator of any sub-topology reads a global table by its name, listed
 * in `store =` or not (a global table belongs to the process, not to a
 * task): weir_store_get(ctx, NAME) then weir_kv_get(). Operators that take
 * the name as a parameter (std join: global = NAME) check it in init(),
 * which `weir validate` and start run before anything else, so a wrong name
 * is refused with the operator's file:line. weir_store_kind() says
 * WEIR_STORE_KV. weir_kv_get(), weir_kv_range() and weir_kv_prefix() read
 * it; weir_kv_put() and weir_kv_delete() return WEIR_ENOTSUP (the host's
 * error policy then applies).
 *
 * What a read sees: RocksDB as the host has written it at that moment (no
 * write cache), any thread. The first record any task processes sees every
 * record of T written before the instance started; later records of T are
 * seen once the host's global thread has applied them, a poll's worth at a
 * time (typically milliseconds after they reach the broker, with no order
 * against the stream's records: a stream record may see a table record of
 * a later timestamp, or not yet see one of an earlier). Two reads in one
 * process() call may see different versions; an iterator reads the table as
 * it was when the iterator was made. The value is valid until the next store
 * call of the task, as for other stores.
 */

/* The store named `name`: its [store:NAME] section if this operator lists
 * it in `store =`, or its [global:NAME] section whether listed or not; NULL
 * otherwise, or on a host older than 1.1. Call from init(). */
static inline weir_store_t *weir_store_get(weir_ctx_t *ctx, const char *name) {
  if (!WEIR_API_HAS(ctx->api, store_get))
    return NULL;
  return ctx->api->store_get(ctx, name);
}

/* WEIR_OK and the value, or WEIR_ENOENT when the key has none. */
static inline int weir_kv_get(weir_store_t *store, const void *key, size_t key_len,
                              const void **value, size_t *value_len) {
  return store->api->kv_get(store, key, key_len, value, value_len);
}

/* Set the key's value (copied; value_len may be 0, value may then be NULL). */
static inline int weir_kv_put(weir_store_t *store, const void *key, size_t key_len,
                              const void *value, size_t value_len) {
  return store->api->kv_put(store, key, key_len, value, value_len);
}

/* Remove the key (a tombstone in the changelog). WEIR_OK even when absent. */
static inline int weir_kv_delete(weir_store_t *store, const void *key, size_t key_len) {
  return store->api->kv_delete(store, key, key_len);
}

/* The keys k with from <= k < to in key order; from == NULL: from the first
 * key, to == NULL: to the last. NULL on error. Close it with weir_iter_close()
 * before the callback returns. */
static inline weir_iter_t *weir_kv_range(weir_store_t *store, const void *from, size_t from_len,
                                         const void *to, size_t to_len) {
  return store->api->kv_range(store, from, from_len, to, to_len);
}

/* The keys starting with `prefix`, in key order. As weir_kv_range(). */
static inline weir_iter_t *weir_kv_prefix(weir_store_t *store, const void *prefix,
                                          size_t prefix_len) {
  return store->api->kv_prefix(store, prefix, prefix_len);
}

/* The next key and value: WEIR_OK, or WEIR_ENOENT past the last. */
static inline int weir_iter_next(weir_iter_t *it, const void **key, size_t *key_len,
                                 const void **value, size_t *value_len) {
  return it->api->iter_next(it, key, key_len, value, value_len);
}

static inline void weir_iter_close(weir_iter_t *it) {
  if (it)
    it->api->iter_close(it);
}

/* ---------------------------------------------------------------- timers (1.2) */

/*
 * Punctuators, as Kafka Streams' ProcessorContext.schedule(). A
 * WEIR_STREAM_TIME timer fires when the task's stream time reaches its next
 * boundary, checked after each record, once per advance: a jump over several
 * intervals fires it once, and the next boundary is the first one after the
 * new stream time. Boundaries are the multiples of interval_ms (aligned to
 * 0, as Kafka Streams): the first is the first multiple at or after the
 * stream time at scheduling, so a timer scheduled in init() fires at the
 * task's first record. A WEIR_WALL_CLOCK
 * timer fires from the thread's loop every interval_ms of wall clock, even
 * while no record arrives (at most once per loop turn). Both call the
 * operator's punctuate() on the task's thread.
 *
 * Returns the timer's id (> 0), or WEIR_EINVAL (bad domain, interval_ms < 1),
 * WEIR_ENOTSUP (host older than 1.2, or no punctuate callback), WEIR_ESTATE
 * (from close()). Timers belong to the instance: they end with its task
 * (rebalance, stop) and are not persisted, so init() schedules them again. A
 * hot swap keeps them: the new version's punctuate() receives the ids the
 * old version scheduled (a version without punctuate() has them cancelled),
 * and a timer its init() or load() schedules with the domain and interval of
 * one of them returns that one's id instead of adding a second; the old
 * version's timers fire with the old version until the swap commits.
 */
static inline int64_t weir_timer_schedule(weir_ctx_t *ctx, int domain, int64_t interval_ms) {
  if (!WEIR_API_HAS_FN(ctx->api, timer_schedule))
    return WEIR_ENOTSUP;
  return ctx->api->timer_schedule(ctx, domain, interval_ms);
}

/* Cancel a timer of this instance: WEIR_OK, or WEIR_ENOENT. May be called
 * from punctuate(), also for the timer that is firing. */
static inline int weir_timer_cancel(weir_ctx_t *ctx, int64_t timer) {
  if (!WEIR_API_HAS_FN(ctx->api, timer_cancel))
    return WEIR_ENOTSUP;
  return ctx->api->timer_cancel(ctx, timer);
}

/* ---------------------------------------------------------------- stores (1.2) */

/* How many stores this node lists in `store =`, and their names in that
 * order (valid until close(); NULL past the end). 0 on hosts before 1.2. */
static inline size_t weir_store_count(weir_ctx_t *ctx) {
  if (!WEIR_API_HAS_FN(ctx->api, store_count))
    return 0;
  return ctx->api->store_count(ctx);
}
static inline const char *weir_store_name(weir_ctx_t *ctx, size_t index) {
  if (!WEIR_API_HAS_FN(ctx->api, store_name))
    return NULL;
  return ctx->api->store_name(ctx, index);
}

/* WEIR_STORE_KV, WEIR_STORE_WINDOW or WEIR_STORE_SESSION (a 1.1 host has
 * only key-value stores). */
static inline int weir_store_kind(weir_store_t *store) {
  if (!WEIR_API_HAS_FN(store->api, store_kind))
    return WEIR_STORE_KV;
  return store->api->store_kind(store);
}

/*
 * Window stores ([store:NAME] type = window, window.size.ms, retention.ms), as
 * Kafka Streams' WindowStore: one value per (key, window start). A window's
 * end is its start plus the store's window.size.ms. Windows whose end is
 * older than stream time minus retention.ms are gone; expiry drops whole time
 * segments. Writes, lifetimes and commits are those of key-value stores
 * (above); these calls fail with WEIR_EINVAL on a store of another kind.
 */

/* Set the value of (key, window_start); value == NULL removes it. A window
 * already past retention is ignored (WEIR_OK, nothing written). */
static inline int weir_window_put(weir_store_t *store, const void *key, size_t key_len,
                                  int64_t window_start, const void *value, size_t value_len) {
  if (!WEIR_API_HAS_FN(store->api, window_put))
    return WEIR_ENOTSUP;
  return store->api->window_put(store, key, key_len, window_start, value, value_len);
}

/* One key's windows whose start is in [time_from, time_to], in start order.
 * weir_iter_next() gives the key and value, weir_iter_window() the window. */
static inline weir_iter_t *weir_window_fetch(weir_store_t *store, const void *key, size_t key_len,
                                             int64_t time_from, int64_t time_to) {
  if (!WEIR_API_HAS_FN(store->api, window_fetch))
    return NULL;
  return store->api->window_fetch(store, key, key_len, time_from, time_to);
}

/* Every key's windows whose start is in [time_from, time_to], by start, then
 * by key. On a session store (the one exception to "another kind fails"):
 * every key's sessions whose END is in [time_from, time_to], by start, then
 * by key — the sessions an operator emits once they close. */
static inline weir_iter_t *weir_window_fetch_all(weir_store_t *store, int64_t time_from,
                                                 int64_t time_to) {
  if (!WEIR_API_HAS_FN(store->api, window_fetch_all))
    return NULL;
  return store->api->window_fetch_all(store, time_from, time_to);
}

/*
 * Session stores ([store:NAME] type = session, retention.ms), as Kafka
 * Streams' SessionStore: values per (key, session start, session end).
 */

/* The key's sessions with end >= earliest_end and start <= latest_start
 * (those overlapping [earliest_end, latest_start]), by start. */
static inline weir_iter_t *weir_session_find(weir_store_t *store, const void *key, size_t key_len,
                                             int64_t earliest_end, int64_t latest_start) {
  if (!WEIR_API_HAS_FN(store->api, session_find))
    return NULL;
  return store->api->session_find(store, key, key_len, earliest_end, latest_start);
}

/* Set the value of the session (key, start, end); start <= end. */
static inline int weir_session_put(weir_store_t *store, const void *key, size_t key_len,
                                   int64_t start, int64_t end, const void *value,
                                   size_t value_len) {
  if (!WEIR_API_HAS_FN(store->api, session_put))
    return WEIR_ENOTSUP;
  return store->api->session_put(store, key, key_len, start, end, value, value_len);
}

/* Remove the session (key, start, end): WEIR_OK even when absent. */
static inline int weir_session_remove(weir_store_t *store, const void *key, size_t key_len,
                                      int64_t start, int64_t end) {
  if (!WEIR_API_HAS_FN(store->api, session_remove))
    return WEIR_ENOTSUP;
  return store->api->session_remove(store, key, key_len, start, end);
}

/* The window (or session) of the item weir_iter_next() last returned:
 * WEIR_OK, or WEIR_EINVAL for a key-value iterator. */
static inline int weir_iter_window(weir_iter_t *it, int64_t *start, int64_t *end) {
  if (!WEIR_API_HAS_FN(it->api, iter_window))
    return WEIR_ENOTSUP;
  return it->api->iter_window(it, start, end);
}

#ifdef __cplusplus
}
#endif
#endif /* WEIR_WEIR_H */
