/* topology — the validated graph of sources, operators and sinks.
 *
 * Built from a weir_cfg_t: every section is checked (kinds, keys, values,
 * inputs, cycles, reachability, plugins, operator types and parameters) and
 * every problem is reported with file:line before anything runs.
 */
#ifndef WEIR_TOPOLOGY_TOPOLOGY_H
#define WEIR_TOPOLOGY_TOPOLOGY_H

#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "kafka/kafka_settings.h"
#include "plugin/loader.h"
#include "plugin/params.h"
#include "serde/serde.h"
#include "util/diag.h"

typedef enum weir_node_kind {
  WEIR_NODE_SOURCE = 1,
  WEIR_NODE_OPERATOR = 2,
  WEIR_NODE_SINK = 3
} weir_node_kind_t;

typedef enum weir_guarantee { WEIR_AT_LEAST_ONCE = 0, WEIR_EXACTLY_ONCE = 1 } weir_guarantee_t;

/* What happens to a record whose key or value fails its serde. */
typedef enum weir_deser_policy {
  WEIR_DESER_SKIP = 0,       /* log with topic/partition/offset, count, go on */
  WEIR_DESER_FAIL = 1,       /* stop cleanly, non-zero exit, commit nothing past it */
  WEIR_DESER_DEAD_LETTER = 2 /* write it unchanged to dead.letter.topic */
} weir_deser_policy_t;

/* What happens when an operator's process() returns an error. */
typedef enum weir_error_policy {
  WEIR_ONERR_FAIL = 0,
  WEIR_ONERR_SKIP = 1,
  WEIR_ONERR_DEAD_LETTER = 2
} weir_error_policy_t;

typedef struct weir_node weir_node_t;

/* Where a source's event time comes from (`timestamp =`, task/timestamp.h). */
typedef enum weir_ts_mode {
  WEIR_TS_RECORD = 0,   /* the Kafka record's timestamp */
  WEIR_TS_JSON = 1,     /* json:PATH, a member of the JSON value */
  WEIR_TS_EXTRACTOR = 2 /* extractor:PLUGIN.TYPE: plugin, op and params below */
} weir_ts_mode_t;

/* How a repartition re-keys a record (`group.by` of the operator after it). */
typedef enum weir_regroup {
  WEIR_REGROUP_NONE = 0,  /* a plain sink */
  WEIR_REGROUP_VALUE = 1, /* the new key is the whole value */
  WEIR_REGROUP_JSON = 2   /* the new key is a member of the JSON value (regroup_path) */
} weir_regroup_t;

struct weir_node {
  weir_node_kind_t kind;
  char *name;      /* the section name: "lines" for [source:lines] */
  int line;        /* the section header's line */
  int index;       /* position in weir_topology_t.nodes (topological order) */
  int subtopology; /* the connected part of the graph it belongs to (0, 1, ...) */

  weir_node_t **inputs; /* operator, sink: the nodes named by `input =` */
  size_t input_count;
  weir_node_t **children; /* nodes that name this one as input, in file order */
  size_t child_count;

  /* source */
  char **topics;
  size_t topic_count;
  weir_ts_mode_t ts_mode;
  char *ts_path; /* WEIR_TS_JSON: the dotted member path */
  /* source (what it reads), sink (what it writes) */
  weir_serde_t key_serde;
  weir_serde_t value_serde;

  /* operator (and a source's timestamp extractor) */
  weir_plugin_t *plugin; /* shared by all nodes naming the same plugin */
  const weir_op_info_t *op;
  weir_params_t params;
  char **stores; /* `store = a, b`: names of [store:*] sections */
  size_t store_count;
  char *group_by; /* `group.by` as written; NULL = grouped by the input key */

  /* sink */
  char *topic;

  /* Nodes the host adds for a `group.by`: a sink that re-keys and writes the
   * repartition topic, and a source that reads it back as the operator's
   * input (a new sub-topology, so each key's records meet in one task). */
  int internal;
  weir_regroup_t regroup; /* sink */
  char *regroup_path;     /* WEIR_REGROUP_JSON: the dotted member path */
  /* What an internal node is for ("repartition", "foreign-key
   * subscriptions", ...), printed by `weir describe`; a literal. */
  const char *internal_what;
  /* A foreign-key join's internal sinks: reached only by weir_forward_to()
   * (weir_forward() skips it), and its topic sized by the sub-topology that
   * reads it (co-partitioned with that side's table), not the one writing. */
  int by_name_only;
  int sized_by_reader;
};

typedef struct weir_store_decl {
  char *name;
  int line;
  char *type;                          /* "kv", "window" or "session" */
  int kind;                            /* WEIR_STORE_KV, WEIR_STORE_WINDOW or WEIR_STORE_SESSION */
  int changelog;                       /* 1 unless `changelog = false` */
  int in_memory;                       /* `backend = memory`: rows never go to RocksDB */
  int64_t window_size_ms;              /* window: window.size.ms; else 0 */
  int64_t retention_ms;                /* window, session: retention.ms; else 0 */
  int subtopology;                     /* of the operators using it; -1 when none does */
  char *changelog_topic;               /* "<application.id>-<name>-changelog" */
  weir_serde_t key_serde, value_serde; /* how queries read and print it */
  /* [global:NAME]: a read-only kv store every instance fills from every
   * partition of this topic (thread/global_thread.h), subtopology -1, no
   * changelog (the topic is one). NULL for a [store:]. */
  char *global_topic;
} weir_store_decl_t;

/* A topic the host creates: a repartition or a changelog. It gets as many
 * partitions as the source topics of `partitions_of` (a sub-topology). */
typedef struct weir_internal_topic {
  const char *name; /* owned by the node or store it belongs to */
  int changelog;    /* 1: compacted changelog, 0: repartition */
  int partitions_of;
} weir_internal_topic_t;

typedef struct weir_settings {
  char *application_id;    /* required */
  char *bootstrap_servers; /* required; "embedded" = in-process mock cluster */
  int threads;             /* default 1 */
  char *plugin_dir;        /* may be NULL */
  char *state_dir;         /* default "./state" */
  weir_guarantee_t guarantee;
  int64_t commit_interval_ms;         /* default 30000 (Kafka Streams' at-least-once default) */
  int state_memory_mb;                /* RocksDB block cache + write buffers, whole process */
  int state_wal;                      /* RocksDB's write-ahead log; default 1 */
  int64_t cache_max_bytes;            /* the stores' write caches, whole process */
  char *http_listen;                  /* NULL = off */
  char *http_token;                   /* NULL = no authentication (loopback only) */
  char *http_advertise;               /* NULL = http.listen */
  int log_level;                      /* WEIR_LOG_*; default info */
  int log_format;                     /* WEIR_LOG_TEXT or WEIR_LOG_JSON */
  int embedded_partitions;            /* default 6 */
  int buffered_records_per_partition; /* default 1000, as Kafka Streams */
  int64_t max_task_idle_ms; /* -1: never wait for an empty input; default 0 (task/task_idle.h) */
  weir_deser_policy_t deser_policy;
  weir_error_policy_t error_policy; /* `processing.error.policy` */
  char *dead_letter_topic;          /* required by either dead-letter policy */
  int dead_letter_line;             /* where dead.letter.topic is set (-1: --set) */
} weir_settings_t;

typedef struct weir_topology {
  char *path; /* the INI file */
  weir_settings_t settings;
  weir_kafka_prop_t *kafka; /* [kafka], in file order */
  size_t kafka_count;
  weir_kafka_settings_t kafka_settings; /* what kafka/ reads; points into this topology */
  weir_node_t **nodes;                  /* topologically sorted: every node after its inputs */
  size_t node_count;
  /* Connected parts of the graph, numbered by their first source in file
   * order. A task is one partition of one sub-topology's source topics,
   * named "<subtopology>_<partition>" as Kafka Streams does. */
  int subtopology_count;
  weir_store_decl_t *stores;
  size_t store_count;
  weir_internal_topic_t *internal_topics; /* repartitions first, upstream first */
  size_t internal_topic_count;
  weir_plugin_t **plugins; /* each loaded plugin once */
  size_t plugin_count;
} weir_topology_t;

/* Validate `cfg` and build the topology, loading the plugins it names
 * (search: exe_dir may be NULL). Returns NULL when `d` got any error. */
weir_topology_t *weir_topology_build(const weir_cfg_t *cfg, const char *exe_dir, weir_diag_t *d);
/* The same, loading every plugin from a unique copy in stage_dir (a reload). */
weir_topology_t *weir_topology_build_staged(const weir_cfg_t *cfg, const char *exe_dir,
                                            const char *stage_dir, weir_diag_t *d);
void weir_topology_free(weir_topology_t *t);

weir_node_t *weir_topology_find(const weir_topology_t *t, const char *name);

/* Every distinct source topic, and every distinct sink topic (NULL-ended
 * arrays owned by the caller's free(); the strings belong to the topology). */
const char **weir_topology_source_topics(const weir_topology_t *t, size_t *count);
const char **weir_topology_sink_topics(const weir_topology_t *t, size_t *count);

/* The store declaration named `name`, or NULL. */
const weir_store_decl_t *weir_topology_store(const weir_topology_t *t, const char *name);

/* `weir describe`: readable text, and Graphviz dot. */
void weir_topology_print_text(const weir_topology_t *t, FILE *out);
void weir_topology_print_dot(const weir_topology_t *t, FILE *out);
/* `weir describe --params`: every key every section kind can hold, with
 * the operators' own parameter tables for the plugins the topology loads. */
void weir_topology_print_params(const weir_topology_t *t, FILE *out);

#endif
