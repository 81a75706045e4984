/* weir-bench — throughput and peak memory of weir against a plain
 * librdkafka consume->produce loop (the baseline) and Kafka Streams, on the
 * same broker and the same input, each as a separate process observed the
 * same way from outside. */
#ifndef WEIR_BENCH_BENCH_H
#define WEIR_BENCH_BENCH_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "kafka/fetch_wake.h"

typedef struct bench_opts {
  const char *bootstrap;
  const char *broker_label; /* "Apache Kafka 4.x (KRaft, 1 node)" */
  int embedded;             /* 1 when the broker is `weir broker` */
  long records;
  int value_size;
  int partitions; /* of the topics in use: each case's, set by bench_main.c */
  int runs;
  int rebalance_runs;     /* 0: no rebalance measurement */
  int only_partitions;    /* 0: every case; P: only the cases with P partitions */
  int only_threads;       /* 0: every case; T: only the cases with T threads */
  const char *only_cases; /* NULL: every case; "a,b": only the cases (and "rebalance") named */
  const char *weir;       /* the weir binary */
  const char *plugin_dir;
  const char *kstreams_jar;  /* NULL: no Kafka Streams column */
  const char *kstreams_sh;   /* tests/kstreams/kstreams.sh (windowed cases); NULL: no such column */
  const char *self;          /* this binary, for the baseline child */
  const char *markdown;      /* where the table goes */
  const char *kstreams_heap; /* --kstreams-heap: every case's Kafka Streams -Xmx; NULL: each
                              * case's own (bench_case_t.kstreams_heap) */
  const char *keys;          /* --keys: the cardinality case's key counts, "N,N"; NULL: default */
} bench_opts_t;

/* The columns: the baseline loop, weir, Kafka Streams. */
enum { BENCH_COLS = 3 };
/* The throughput table's: those, then the two-hop loop (cases with `twohop` only). */
enum { BENCH_TABLE_COLS = 4, BENCH_TWOHOP = 3 };

/* One column's runs against another's (weir's, mostly), run by run: the runs interleave
 * (loop, weir, Kafka Streams, two-hop loop, loop, ...), so the two of a pair
 * saw the same machine, where the medians of the two columns may come from
 * runs minutes apart on a machine whose load moved between them. */
typedef struct bench_paired {
  double rate, rate_min, rate_max; /* the median of one's records/s over the other's */
  double cpu, cpu_min, cpu_max;    /* likewise, CPU */
  int ok;                          /* every run of both columns ran */
} bench_paired_t;

/* What one process did. */
typedef struct bench_result {
  double records_per_sec;    /* from the first output record to the last */
  double rate_min, rate_max; /* of the runs a median was taken over (0: one run) */
  double startup_sec;        /* from spawn to the first output record */
  long peak_rss_kb;
  long rss_min_kb, rss_max_kb; /* likewise */
  double cpu_sec;              /* user + system CPU of the process, start to stop */
  double cpu_min, cpu_max;     /* likewise */
  /* The Kafka broker's CPU over the same span (< 0: not known — the embedded
   * broker, `weir broker`): what the contender's fetches and produces cost
   * the broker, which shares this machine's cores with it. */
  double broker_cpu_sec;
  double broker_cpu_min, broker_cpu_max;
  /* weir's medians only (bench_pair): against each column's runs. */
  bench_paired_t against[BENCH_TABLE_COLS];
  int ok;
} bench_result_t;

/* bench_stats.c. Sorts v; its middle value (the upper one of an even count),
 * 0 for none. */
double bench_median(double *v, int n);
/* The same, with v's min and max (either may be NULL). */
double bench_median_range(double *v, int n, double *min, double *max);

/* FNV-1a: the harness's hash tables (counts, the two-hop loop). */
static inline uint64_t bench_fnv1a(const void *p, size_t n) {
  const unsigned char *b = p;
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3u;
  return h;
}

/* bench_stats.c: the median of each figure of n runs (ok when n > 0), and the
 * min and max of the rate, the CPU and the peak RSS. */
void bench_summarize(const bench_result_t *runs, int n, bench_result_t *med);
/* bench_stats.c: one column's n runs against another's, run k with run k
 * (out->ok is 0 unless all of both are ok). */
void bench_pair(const bench_result_t *a, const bench_result_t *b, int n, bench_paired_t *out);

/* One word a record, so split passes each through; the count re-keys by word
 * (a repartition topic) as Kafka Streams' groupBy does. The store is `counts`. */
#define BENCH_WORDCOUNT                                                                            \
  "[source:lines]\ntopic = %s\nvalue.serde = string\n"                                             \
  "[operator:words]\nplugin = std\ntype = split\ninput = lines\n"                                  \
  "[operator:count]\nplugin = std\ntype = count\ninput = words\ngroup.by = value\n"                \
  "store = counts\n"                                                                               \
  "[store:counts]\ntype = kv\n"                                                                    \
  "[sink:out]\ninput = count\ntopic = %s\nvalue.serde = int64\n"

/* A case: the same job for each of the three columns. Adding a case is an
 * entry in the table in bench_main.c. */
typedef struct bench_case {
  const char *name;
  const char *weir_topology; /* INI after [weir]; %s = input topic, %s = output topic */
  const char *kstreams_mode; /* --mode of the Kafka Streams peer; NULL = none */
  int baseline;              /* 1: the plain loop does the same job */
  int partitions;            /* of its input and output topics */
  int threads;               /* weir's `threads`, the loop's pairs, Kafka Streams' --threads */
  double goal;               /* weir / loop to report against; 0: none */
  int records_mul;           /* on a real broker, runs on --records * records_mul (cases
                              * sharing an input must agree); 0 = 1. The word counts: their
                              * counts come out at 1 s commits, so 1,000,000 records (~1 s)
                              * timed them to within a commit interval */
  /* Stateful cases (designated initializers; zero for the passthrough ones): */
  int words;         /* 0: the keyed input of --value-size bytes. W: one word a record, NULL
                      * keys, of W distinct words (record i's word is i when W >= records), and
                      * weir and Kafka Streams are done when the output's counts add up to the
                      * records; the loop still forwards every record */
  int commit_ms;     /* weir's commit.interval.ms and Kafka Streams'; 0: their defaults */
  const char *store; /* weir gets a fresh state.dir a run; after each measured run, a full
                      * restore of this store (NULL: stateless, no restore) */
  int ahead_of_ks;   /* the goal also asks weir > Kafka Streams */
  int restore_only;  /* one weir run fills the changelog, then --runs restores; no row in the
                      * throughput table, one in the restore table */
  int restore_goal;  /* records/s the restore is held to; 0: none */
  /* Windowed cases: an input of `window_keys` keys whose event time spans
   * BENCH_WINDOW_SPAN windows of window_ms, then one flush record a partition
   * far ahead, so every window closes; counted per window with final results
   * only, by weir and by tests/kstreams (kstreams_sh); done when the counts
   * of the output add up to the records. */
  int window_ms;
  int window_keys;
  double ks_goal;   /* weir / Kafka Streams to report against; 0: none */
  int no_restore;   /* a store, but no restore measured after each run */
  int exactly_once; /* weir's processing.guarantee = exactly_once, Kafka Streams'
                     * exactly_once_v2 (the loop stays as it is: no transactions) */
  /* A word count's ceiling: the two-hop loop (bench_twohop.c) as a fourth column. */
  int twohop;
  double twohop_goal;   /* weir / two-hop loop to report against; 0: none */
  double cpu_ks_goal;   /* weir's CPU per record at most 1 / this of Kafka Streams'; 0: none */
  double rss_ks_goal;   /* weir's peak RSS at most 1 / this of Kafka Streams'; 0: none */
  double cpu_loop_goal; /* weir's CPU per record at most this times the loop's; 0: none */
  /* Kafka Streams' -Xmx (the jar's cases): the smallest heap that keeps its throughput
   * (within 5% of it at 1g), so its RSS is not inflated by a heap it does not need;
   * NULL: 1g. */
  const char *kstreams_heap;
} bench_case_t;

/* The -Xmx Kafka Streams runs case c with. */
static inline const char *bench_kstreams_heap(const bench_opts_t *o, const bench_case_t *c) {
  return o->kstreams_heap ? o->kstreams_heap : c->kstreams_heap ? c->kstreams_heap : "1g";
}

/* The windows a windowed case's input spans (its flush records aside). */
enum { BENCH_WINDOW_SPAN = 10 };

/* One full restore (bench_restore.c), or the medians of several. */
typedef struct bench_restore {
  int ok;
  int partitions;      /* store-partitions restored (with records) */
  long long records;   /* restored, summed over the partitions */
  long long changelog; /* records in the changelog (end - start offsets) */
  double seconds;      /* first restore start -> last restore end, from weir's log */
  double rate;         /* records / seconds */
  double process_rate; /* the weir run that filled the changelog, records/s */
  double end;          /* the last restore's end, bench_now()'s clock */
} bench_restore_t;

/* What the rebalance measurement found (bench_rebalance.c), medians of runs. */
typedef struct bench_rebalance {
  int runs;        /* that completed */
  double assigned; /* join -> every task assigned again (logs), s */
  double resumed;  /* join -> every partition's output growing again, s */
  double stall;    /* longest time one output partition did not grow, s */
  double assigned_min, assigned_max, resumed_min, resumed_max;
  long long produced, consumed; /* summed over the runs: records in, records out */
  int rate;                     /* records/s of the steady input */
} bench_rebalance_t;

/* bench_report.c: the Markdown of a whole run, per case (arrays of ncases). */
typedef struct bench_report {
  const bench_case_t *cases;
  size_t ncases;
  const int *ran;                                /* 1: the case ran */
  const long *records;                           /* the records it ran on */
  const bench_result_t (*res)[BENCH_TABLE_COLS]; /* medians per column */
  const bench_restore_t *restore;                /* its restore figures (cases with a store) */
  const bench_rebalance_t *rb;                   /* NULL: no rebalance measurement */
  int rebalance_partitions;
} bench_report_t;
void bench_write_report(const bench_opts_t *o, const bench_report_t *r);
/* "median (min–max)", or the median alone when the runs agree; `decimals` 0
 * writes thousands separators ("472,797 (440,462–480,000)"). */
void bench_spread_cell(FILE *f, double median, double min, double max, int decimals);
/* The three of a result, as cells: records/s; CPU µs per record of `records`; peak RSS MiB. */
void bench_rate_cell(FILE *f, const bench_result_t *r);
void bench_cpu_cell(FILE *f, const bench_result_t *r, double records);
void bench_rss_cell(FILE *f, const bench_result_t *r);
/* One line naming the machine, the libraries, the broker and the date. */
void bench_machine_line(FILE *f, const bench_opts_t *o);

/* bench_kafka.c */
rd_kafka_t *bench_client(rd_kafka_type_t type, const char *bootstrap, const char *group);
int bench_create_topic(const bench_opts_t *o, const char *topic);
/* Delete every topic of this bench process but the `nkeep` named in `keep`,
 * so that each case meets a broker holding only its own and its inputs'
 * partitions (a Kafka broker that had kept every run's topics, ~16,000
 * partitions, spent 1.9-2.5x the CPU a record on the same 256-partition
 * passthrough as a fresh one). */
void bench_drop_topics(const bench_opts_t *o, const char *const *keep, size_t nkeep);
int bench_produce_input(const bench_opts_t *o, const char *topic);
int bench_produce_words(const bench_opts_t *o, const char *topic, int words);
int bench_produce_windowed(const bench_opts_t *o, const char *topic, int keys, int window_ms);
/* As bench_produce_windowed over span_windows windows. */
int bench_produce_windowed_span(const bench_opts_t *o, const char *topic, int keys, int window_ms,
                                int span_windows);
/* The share of `topic`'s `end` records (summed end offsets) that consumer `c`'s group has
 * committed, over its first `partitions` partitions. */
double bench_committed_share(rd_kafka_t *c, const char *topic, int partitions, long long end);
long long bench_end_offsets(rd_kafka_t *rk, const char *topic, int partitions, long long *low_sum);

/* bench_loop.c: the baseline, run as `weir-bench loop ...` in its own process. */
int bench_loop_main(int argc, char **argv);
/* The loop's clients (its tuning, shared with the two-hop loop): a consumer of group `group`
 * subscribed to `input` ("a,b": both), a producer. */
rd_kafka_t *bench_loop_consumer(const char *bootstrap, const char *group, const char *input);
rd_kafka_t *bench_loop_producer(const char *bootstrap);
/* weir's fetch wake (kafka/fetch_wake.h) for a loop's consumer, so the
 * loops do not wait out librdkafka 2.0.2's one-second refetch each time
 * their queue fills, as weir does not; NULL (no wake) with
 * WEIR_BENCH_LOOP_WAKE=0, the plain librdkafka loop of before. */
weir_fetch_wake_t *bench_loop_wake(rd_kafka_t *consumer);

/* bench_twohop.c: the word count's ceiling, run as `weir-bench twohop ...`. */
int bench_twohop_main(int argc, char **argv);

/* bench_joinloop.c: the joins' ceiling, run as `weir-bench joinloop ...`. */
int bench_joinloop_main(int argc, char **argv);

/* bench_main.c: the `weir run` INI for a job; `extra`: more [weir] lines, or NULL. */
void bench_weir_ini(const bench_opts_t *o, const char *path, const char *topology,
                    const char *group, const char *input, const char *output, int threads,
                    const char *extra);

/* bench_rebalance.c: the topics run `run` needs (the embedded broker makes them up front). */
void bench_rebalance_topics(int run, char *input, char *output, size_t size);
int bench_rebalance(const bench_opts_t *o, const char *topology, bench_rebalance_t *res);

/* bench_reload.c: swaps under load (real broker only). */
typedef struct bench_reload {
  int ok, swaps;
  double pause_median_us, pause_max_us; /* from weir's log */
  long long records;
  double rate, steady_rate; /* output records/s: with the swaps, and a run without */
  double spacing;           /* s between two swaps */
} bench_reload_t;
int bench_reload(const bench_opts_t *o, bench_reload_t *res);
void bench_reload_markdown(FILE *f, const bench_reload_t *r);

/* bench_queries.c: interactive queries, idle and under load (real broker only). */
enum { BENCH_QUERY_RATES = 2 };
typedef struct bench_lookups {
  double per_sec, p50_ms, p99_ms;
  /* CPU µs per lookup (idle phase only): the weir instances (user + system,
   * from /proc), and the asking client thread. */
  double weir_cpu_us, client_cpu_us;
} bench_lookups_t;
typedef struct bench_query_phase {
  bench_lookups_t local, forwarded;
  long failed;             /* answers other than 200 */
  char first_failure[160]; /* one of them: its status and body */
} bench_query_phase_t;
typedef struct bench_queries {
  int ok;
  long keys;
  bench_query_phase_t idle;
  /* Idle again, local lookups only, on the busy rounds' connections, each
   * asking as soon as answered: what the server answers with the CPU free. */
  bench_query_phase_t idle_conns;
  /* At each offered rate (bench_queries.c BUSY_RATES): the lookups, and the
   * backlog's records/s while they ran; rate_without: with no queries. */
  bench_query_phase_t busy[BENCH_QUERY_RATES];
  double rate_with[BENCH_QUERY_RATES], rate_without;
  /* The goal's rate again, answered by the floor (bench_floor.c) instead of
   * weir, and the backlog's records/s meanwhile. */
  bench_query_phase_t floor;
  double rate_floor;
} bench_queries_t;
int bench_queries(const bench_opts_t *o, bench_queries_t *res);

/* bench_floor.c: the queries case's floor, an HTTP responder in the harness
 * that does no work a server could skip (one epoll thread, a fixed answer
 * naming `local_by` on one port and `forwarded_by` on the other). NULL when
 * it could not listen. */
typedef struct bench_floor bench_floor_t;
bench_floor_t *bench_floor_start(const char *local_by, const char *forwarded_by);
int bench_floor_port(const bench_floor_t *f, int forwarded);
void bench_floor_stop(bench_floor_t *f);
void bench_queries_markdown(FILE *f, const bench_queries_t *r);

/* bench_retention.c: a windowed count whose event time spans a hundred retention periods
 * (real broker only): weir's RSS and its state directory's size along the way. */
enum { BENCH_RETENTION_SAMPLES = 10 };
typedef struct bench_retention {
  int ok;
  long records;
  int periods;                              /* retention periods the event time spans */
  double seconds;                           /* to process it all */
  double rss_mib[BENCH_RETENTION_SAMPLES];  /* the largest seen in each tenth of the input */
  double disk_mib[BENCH_RETENTION_SAMPLES]; /* likewise, the state directory */
} bench_retention_t;
int bench_retention(const bench_opts_t *o, bench_retention_t *res);
void bench_retention_markdown(FILE *f, const bench_retention_t *r);

/* bench_cardinality.c: the word count over inputs of distinct words, at each key count of
 * --keys (real broker only): peak RSS, records/s and CPU per key count. */
enum { BENCH_CARDINALITY_MAX = 8 };
typedef struct bench_cardinality_row {
  double rate, rate_min, rate_max; /* records/s */
  double rss_mib, rss_min, rss_max;
  double cpu_us, cpu_min, cpu_max;     /* CPU us per record */
  double state_mib;                    /* median of RocksDB's memory at stop (weir's stop line) */
  double rest_mib, rest_min, rest_max; /* each run's peak RSS less its RocksDB at stop */
} bench_cardinality_row_t;
typedef struct bench_cardinality {
  int ok, n, runs;
  long keys[BENCH_CARDINALITY_MAX];
  bench_cardinality_row_t rows[BENCH_CARDINALITY_MAX];
} bench_cardinality_t;
int bench_cardinality(const bench_opts_t *o, bench_cardinality_t *res);
void bench_cardinality_markdown(FILE *f, const bench_cardinality_t *r);
/* bench_crash.c: kill -9 under exactly-once, then the restart's restore, weir against Kafka
 * Streams' exactly_once_v2 (real broker only). Medians of the runs, min and max beside. */
typedef struct bench_crash_side {
  int runs;                                 /* that completed */
  double share_at_kill;                     /* of the input in the changelog when killed */
  double changelog, restored;               /* records at the restart, and read back */
  double seconds, seconds_min, seconds_max; /* first restore start -> last restore end */
  double restart, restart_min, restart_max; /* spawn -> last restore end */
} bench_crash_side_t;
typedef struct bench_crash {
  int ok;
  long records;
  bench_crash_side_t weir, kstreams; /* kstreams.runs = 0: no Kafka Streams peer given */
} bench_crash_t;
int bench_crash(const bench_opts_t *o, bench_crash_t *res);
void bench_crash_markdown(FILE *f, const bench_crash_t *r);

/* bench_joins.c: stream-table and stream-stream joins against the loop and Kafka Streams'
 * joins (real broker only). Rates in input records/s. */
enum { BENCH_JOIN_CASES = 2, BENCH_JOIN_COLS = 6 };
typedef struct bench_joins {
  int ok;
  struct {
    long inputs, outputs;
    /* loop, weir, Kafka Streams, join loop, then weir and Kafka Streams with in-memory
     * stores: medians */
    bench_result_t col[BENCH_JOIN_COLS];
    bench_paired_t pair[BENCH_JOIN_COLS][BENCH_JOIN_COLS]; /* [a][b]: a's runs against b's */
  } cases[BENCH_JOIN_CASES];
} bench_joins_t;
int bench_joins(const bench_opts_t *o, bench_joins_t *res);
void bench_joins_markdown(FILE *f, const bench_joins_t *r);

/* bench_proc.c */
pid_t bench_spawn(char *const argv[], const char *log);
/* Observe `topic` until it holds `expect` records; stop the child; fill r. */
void bench_observe(const bench_opts_t *o, pid_t child, const char *topic, long expect,
                   double spawned_at, bench_result_t *r);
/* SIGTERM, then SIGKILL after 30 s; peak RSS and CPU into r (may be NULL). */
void bench_stop(pid_t child, bench_result_t *r);
double bench_now(void);
/* User + system CPU seconds of process `pid` so far, from /proc; -1 when unreadable. */
double bench_proc_cpu(pid_t pid);
/* The same of the Kafka broker that tests/kafka/kafka.sh started (its pid in
 * $WEIR_TEST_KAFKA_DIR/kafka.pid); -1 when there is none. */
double bench_broker_cpu(void);
/* Sleep until bench_now() reaches `when`. */
void bench_sleep_until(double when);
/* The time of a weir log line ("2026-01-02T03:04:05.678Z ..."), wall-clock seconds; -1 if none. */
double bench_log_time(const char *line);

/* bench_counts.c: observe a word count's output (8-byte big-endian counts by key) until the
 * latest counts add up to `expect`; stop the child; fill r as bench_observe does, but timed
 * from the first record in a repartition topic of application.id `group`; or, when
 * before_first > 0 (a windowed count: that many records are counted before its first window
 * closes), from the first output record over expect - before_first records. */
void bench_observe_counts(const bench_opts_t *o, pid_t child, const char *topic, const char *group,
                          long expect, long before_first, double spawned_at, bench_result_t *r);

/* bench_restore.c */
int bench_state_dir(char *path, size_t size); /* a fresh one under /tmp */
void bench_remove_tree(const char *path);
/* Watch `child` (a weir on application.id `group` with no local state) through its log until
 * every partition of `<group>-<store>-changelog` that holds records has been restored; stop it;
 * fill r. */
int bench_restore_watch(const bench_opts_t *o, pid_t child, const char *log, const char *group,
                        const char *store, bench_restore_t *r);

#endif
