/* task — one partition's instance of the topology: its operator instances,
 * stream time and input offsets. Owned by one stream thread; nothing in it is
 * shared, so nothing in it is locked.
 *
 * The record path: the thread hands a consumed record to weir_task_process();
 * each source node passes it to its children, operators call weir_forward()
 * which calls the children's process() directly (depth first), and sinks hand
 * the bytes to the producer, which copies them. Nothing here allocates per
 * record.
 */
#ifndef WEIR_TASK_TASK_H
#define WEIR_TASK_TASK_H

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdint.h>
#include <weir/weir.h>

#include "task/input_queue.h"
#include "task/node_stats.h"
#include "task/offset_tracker.h"
#include "task/task_idle.h"
#include "task/task_state.h"
#include "task/timers.h"
#include "topology/topology.h"
#include "version/version.h"

typedef struct weir_task weir_task_t;

/* Counters a node keeps; summed across tasks when read. */
typedef struct weir_node_metric {
  char *name; /* the host's copy: the plugin's string may not outlive it */
  int64_t value;
} weir_node_metric_t;

typedef struct weir_node_inst {
  weir_ctx_t ctx; /* first: a plugin's ctx pointer is this instance */
  weir_task_t *task;
  const weir_node_t *node; /* where it sits: name, edges, stores */
  /* What runs it: the same node of the topology version whose plugin, op
   * and parameters this instance was created with (a hot swap moves it). */
  const weir_node_t *impl;
  weir_version_t *version; /* NULL: the topology the app started with */
  void *self;
  int initialized;
  int closing;  /* its close() runs: no timer may be scheduled */
  int swapping; /* a hot swap's new version runs init()/load() (task/timers.h) */
  /* A swap's new build, prepared but not yet in use (task/inst_swap.h):
   * its node (NULL: none prepared), its version (one user of it, held until
   * the commit or abort) and its instance (NULL when state moves by
   * save/load at the commit). */
  const weir_node_t *next_impl;
  weir_version_t *next_version;
  void *next_self;
  struct weir_node_inst **children;
  int32_t *child_input;  /* per child: which of its inputs this node is (origin.input) */
  rd_kafka_topic_t *rkt; /* sinks */
  weir_node_metric_t *metrics;
  size_t metric_count;
  weir_node_stats_t *stats; /* the thread's for this node (task/node_stats.h) */
} weir_node_inst_t;

typedef struct weir_input weir_input_t;

/* Where a sink's records go once regrouped: the producer (weir_sink_kafka),
 * or whatever replaces it (the test driver keeps them in memory). The record
 * path calls through this table and knows no other destination. */
typedef struct weir_sink_ops {
  /* Hand one record of `sink` over. WEIR_OK or an error (task->error set). */
  int (*record)(void *opaque, weir_node_inst_t *sink, const weir_record_t *rec);
  /* Send the input `in` unchanged, plus the headers `reason` (name, value
   * pairs), to the dead-letter topic. 0, or -1 (no dead-letter topic, or
   * it failed: task->error set). */
  int (*dead_letter)(void *opaque, weir_task_t *task, const weir_input_t *in, weir_record_t *rec,
                     const char *const reason[4][2]);
} weir_sink_ops_t;

/* The producer's sinks: tracked produces (delivery.h). */
extern const weir_sink_ops_t weir_sink_kafka;

/* What a task needs from its thread: the producer, and where produces are
 * tracked (the trackers' slot numbers, see delivery.h). */
typedef struct weir_task_env {
  rd_kafka_t *producer;
  const weir_topology_t *topo;
  atomic_int *stopping;         /* set when the app stops: a full queue stops waiting */
  const weir_sink_ops_t *sinks; /* NULL: weir_sink_kafka */
  void *sinks_opaque;
  /* Set to 1 when a put takes the write caches over cache.max.bytes: the
   * owner commits at its next turn, which flushes and evicts (RocksDB is
   * never written ahead of a commit). NULL: the caches grow until then. */
  int *commit_wanted;
  rd_kafka_topic_t *dead_letter; /* NULL unless a policy needs it */
  /* Per source topic of the thread (its topic_index): the indices of the
   * source nodes that read it. */
  size_t **topic_sources;
  size_t *topic_source_counts;
  int *topic_subtopology;     /* the sub-topology each source topic feeds */
  weir_publisher_t *versions; /* hot swap: what runs each node now; NULL = the topology's own */
  weir_state_db_t *state_db;  /* NULL when the topology has no store */
  weir_cache_budget_t *cache_budget; /* cache.max.bytes, process-wide */
  const int64_t *wall_clock;         /* the test driver's virtual clock (ms); NULL: the real one */
  /* The thread's counters (task/node_stats.h): one per topology node, and
   * the record policies'. NULL: each task keeps its own. */
  weir_node_stats_t *node_stats;
  weir_policy_stats_t *policy_stats;
  /* max.task.idle.ms (task/task_idle.h): the cached high watermark of
   * source topic `topic_index`'s `partition` (-1 unknown), and the source
   * topics' names. NULL: no task waits for an empty input (the test
   * driver). */
  int64_t (*high_watermark)(void *opaque, size_t topic_index, int32_t partition);
  void *watermark_opaque;
  const char *const *topic_names;
  /* Where processed records' messages go to be destroyed together
   * (task/spent.h); NULL: each is destroyed after its record. */
  struct weir_spent *spent;
} weir_task_env_t;

struct weir_task {
  char id[32];     /* "<subtopology>_<partition>" */
  int subtopology; /* -1: every node (the dry run) */
  int32_t partition;
  int active;
  const weir_task_env_t *env;
  weir_node_inst_t *insts; /* one per topology node, same index */
  size_t inst_count;
  weir_offset_tracker_t *trackers; /* one per source topic of the thread */
  weir_input_queue_t *queues;      /* likewise: records handed over, not yet processed */
  size_t buffered;                 /* records in all queues */
  uint32_t *tracker_slots;         /* their slot numbers */
  size_t tracker_count;
  int64_t stream_time;
  weir_task_timers_t timers; /* the instances' punctuators (task/timers.h) */
  int64_t *partition_time;   /* per source topic: the largest timestamp extracted */
  /* Per source topic: the stream time its committed offset carried
   * (weir_stream_time_decode), or -1; set by the thread before
   * weir_task_open, which starts the task there, as Kafka Streams resumes a
   * task at the partition time of its commit's offset metadata. */
  int64_t *resume_time;
  weir_task_idle_t idle; /* waiting for an empty input (task/task_idle.h) */

  /* The input being processed: set by weir_task_process for its duration. */
  int in_process;
  weir_origin_t origin;
  int64_t input_timestamp;
  uint32_t cur_slot;
  uint64_t cur_seq;
  weir_offset_tracker_t *cur_tracker; /* the input's partition tracker */
  char error[512];                    /* the first error while processing this input */
  /* A produce of this input failed (weir_produce_failure_t): the producer's
   * failure, not the record's, so no error policy skips it. */
  int produce_failed;
  /* librdkafka's refusal of the last produce that failed (sink, changelog),
   * for the thread: under exactly_once ERR__STATE means the transaction can
   * no longer take records and is aborted, not that the app must stop. */
  rd_kafka_resp_err_t produce_err;
  char produce_error[400];
  int produce_named; /* produce_error names the sink */
  /* The input waited for room in the producer queue (until when, at most):
   * weir_task_run then returns, so the thread serves its consumer and the
   * delivery reports before the next record. */
  int waited;
  int64_t wait_deadline;
  /* Outputs produced outside process() (a flush(), also the one of an
   * instance a hot swap retires) since the last commit that waited for
   * them: the next commit waits too, whatever runs now. */
  unsigned untracked_sent;
  weir_header_t *header_scratch; /* consumed headers, as the SDK sees them */
  size_t header_cap;

  weir_task_store_t *stores; /* the stores its sub-topology uses; kept like the task */
  size_t store_count;
  /* A read-only handle per global table of the topology (any operator may
   * read any of them): no cache, no changelog, no restore of the task's. */
  weir_task_store_t *globals;
  size_t global_count;
  int restoring;             /* stores still restoring: the task does not process */
  int restore_checked;       /* the stores were compared with their changelogs since open */
  weir_state_batch_t *batch; /* what the last flush wrote, until applied */

  weir_policy_stats_t *policy_stats; /* the env's, or own_policy_stats */
  weir_policy_stats_t own_policy_stats;
  weir_node_stats_t *own_node_stats; /* when the env has none */
};

/* Fill env's topic_sources / topic_source_counts / topic_subtopology for the
 * source topics `topics` (the thread's subscription order). 0 or -1 (out of
 * memory; unmap frees what was made). */
int weir_task_env_map_topics(weir_task_env_t *env, const weir_topology_t *topo,
                             const char *const *topics, size_t topic_count);
void weir_task_env_unmap_topics(weir_task_env_t *env, size_t topic_count);

/* Allocate a task for `partition` with `tracker_count` trackers whose slot
 * numbers are given. Operators are not initialised yet. */
weir_task_t *weir_task_new(const weir_task_env_t *env, int subtopology, int32_t partition,
                           size_t tracker_count, const uint32_t *slots);
/* Initialise every operator instance (init) and sink topic handle. On
 * failure everything opened is closed again and errstr says which node. */
int weir_task_open(weir_task_t *task, char *errstr, size_t errstr_size);
/* Initialise and close every operator once with no Kafka, so what only an
 * operator's init can check (a branch route naming no child) fails before
 * anything runs. errstr names the node, file:line, plugin and reason. */
int weir_task_dry_run(const weir_topology_t *t, char *errstr, size_t errstr_size);
/* Bind an instance to what runs its node in `now` (NULL: the topology's own). */
void weir_node_inst_bind(weir_node_inst_t *inst, const weir_published_t *now);
/* Close one operator instance with the implementation that created it. */
void weir_node_inst_close(weir_node_inst_t *inst);
/* Free the instance's counters and the names the host copied for them. */
void weir_node_metrics_free(weir_node_inst_t *inst);

/* close() every initialised instance and drop the records still queued
 * (never begun, so never committed). The task can be opened again. */
void weir_task_close(weir_task_t *task);
void weir_task_free(weir_task_t *task);

/* Queue a consumed record of source topic `topic_index` (the task takes it). */
int weir_task_enqueue(weir_task_t *task, size_t topic_index, rd_kafka_message_t *msg);
/* Process up to `budget` queued records, oldest timestamp first across the
 * task's partitions; a task of several input partitions may stop early to
 * wait for an empty one (max.task.idle.ms, task/task_idle.h). Returns how
 * many, or -1 when one must stop the app. */
int weir_task_run(weir_task_t *task, int budget);
/* The buffered record with the smallest timestamp, processed: 1, or 0 when
 * none is buffered, -1 on failure (task->error); *idx its input. Both run
 * loops take records through it. */
int weir_task_run_one(weir_task_t *task, int *idx);

/* One input record: from the consumer (msg set), or from the test driver
 * (msg NULL, headers given). */
struct weir_input {
  const rd_kafka_message_t *msg;
  const char *topic;
  int32_t partition;
  int64_t offset;
  int64_t timestamp;
  const void *key;
  size_t key_len;
  const void *value;
  size_t value_len;
  const weir_header_t *headers; /* msg NULL only */
  size_t header_count;
};

/* Process one input record of source topic number `topic_index`, as
 * weir_task_process does for a consumed message. */
int weir_task_process_input(weir_task_t *task, size_t topic_index, const weir_input_t *in);

/* Process one consumed record from source topic number `topic_index`. Returns
 * 0, or -1 when the record must stop the app (fail policy): the reason is in
 * task->error and the commit position stays before the record. */
int weir_task_process(weir_task_t *task, size_t topic_index, const rd_kafka_message_t *msg,
                      int64_t timestamp);

/* The bytes behind a weir_buf_t (save/load across a hot swap). */
typedef struct weir_state_buf {
  char *data;
  size_t len, cap;
} weir_state_buf_t;
int weir_buf_append(weir_state_buf_t *b, const void *data, size_t len);

/* Fire the stream-time timers the record just processed made due: one
 * comparison when none is. 0, or -1 when the app must stop. */
static inline int weir_task_stream_timers(weir_task_t *task) {
  return task->stream_time >= task->timers.stream_due ? weir_timers_fire_stream(task) : 0;
}
/* Fire the due wall-clock timers (the thread's loop, the test driver). */
static inline int weir_task_wall_timers(weir_task_t *task) {
  if (task->timers.wall_due == INT64_MAX)
    return 0;
  int64_t now = weir_task_wall_clock(task);
  return now >= task->timers.wall_due ? weir_timers_fire_wall(task, now) : 0;
}

/* Host API 1.2: the stores the node lists in `store =` (task/node_stores.c). */
size_t weir_api_store_count(weir_ctx_t *ctx);
const char *weir_api_store_name(weir_ctx_t *ctx, size_t index);

/* The host function table handed to plugins. */
extern const weir_host_api_t weir_host_api_v1;

/* Deliver `rec` to one node instance (operator process or sink produce). */
int weir_node_deliver(weir_node_inst_t *inst, const weir_record_t *rec);
/* The same, to child number `c` of `from`: weir_input_index() tells the
 * child which of its inputs `from` is while it runs (origin.input, restored
 * after). */
int weir_node_deliver_child(weir_node_inst_t *from, size_t c, const weir_record_t *rec);
/* Produce `rec` to a sink's topic, tracked against the current input. */
int weir_sink_produce(weir_node_inst_t *sink, const weir_record_t *rec);
/* Send the current input unchanged to the dead-letter topic with `reason`. */
int weir_task_dead_letter(weir_task_t *task, const weir_input_t *in, const char *reason);

/* Why a produce failed: the broker refused it at once, a full queue
 * outlasted the wait bound, or the app began stopping while it waited. */
typedef enum {
  WEIR_PRODUCE_OK = 0,
  WEIR_PRODUCE_REFUSED,
  WEIR_PRODUCE_TIMED_OUT,
  WEIR_PRODUCE_STOPPED
} weir_produce_failure_t;

/* How long one input's produces (or one other produce: a flush() output, a
 * changelog record) wait in all for room in a full producer queue: half of
 * [kafka] max.poll.interval.ms (default 300000), so the thread is back at
 * its poll before the group evicts it. The consumer is not polled while a
 * record waits (its rebalance callbacks would close the task under it). */
int64_t weir_produce_wait_bound_ms(const weir_topology_t *topo);
/* One produce's wait for room: its deadline (0 until the wait starts) and
 * when it was last logged (0: not yet). */
typedef struct weir_room_wait {
  int64_t deadline;
  int64_t warned_ms;
} weir_room_wait_t;
/* The producer queue is full while producing to `topic`: serve delivery
 * reports for a moment (a warning once it lasts 1 s, and every 10 s after
 * while it lasts). 0 to try again; -1 with task->produce_failed set once
 * the app stops or the bound passed. */
int weir_task_wait_room(weir_task_t *task, const char *topic, weir_room_wait_t *w);

/* Record the first error of the current input (printf-style). */
void weir_task_set_error(weir_task_t *task, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
