/* Joins (real broker only, as the Kafka Streams peer needs one): the std
 * join operator against the plain loop forwarding the same input, against
 * Kafka Streams' own join (tests/kstreams' Joins app, the join differential
 * test's peer), and against the join loop (bench_joinloop.c: the joins'
 * traffic through the loop's clients, their ceiling as the two-hop loop is
 * the word count's), each case's input made once and read by every run; and
 * weir and Kafka Streams again with their stores in memory (`backend =
 * memory`, Stores.inMemory*), a table of their own.
 *
 * - stream-table, left: ENRICH_RECORDS stream records whose keys are picked
 *   from TABLE_KEYS, each joined with a table of TABLE_KEYS rows written
 *   before it (older timestamps); one output per stream record.
 * - stream-stream, inner: two streams of STREAM_RECORDS records each; record
 *   i of either side has key i % SS_KEYS and timestamps SS_SKEW_MS apart, so
 *   within the SS_WINDOW_MS window each left record meets exactly one right
 *   record: one output per pair. The rates are input records per second (two
 *   per output), as the loop's, which forwards both streams.
 *
 * Throughput from the first output record to the last, as every case of
 * make bench; CPU from wait4(), peak RSS from /proc (bench_stop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

enum {
  PARTITIONS = 6,
  TABLE_KEYS = 100000,
  SS_KEYS = 100000,
  SS_WINDOW_MS = 100,
  SS_SKEW_MS = 5,
  SS_GRACE_MS = 60000, /* the two sides may run apart in stream time: nothing late */
  COMMIT_MS = 1000,
  MAX_RUNS = 16,
};

/* %s: the two input topics, the store's backend line, the output. */
static const char ENRICH_TOPOLOGY[] =
    "[source:orders]\ntopic = %s\nkey.serde = string\nvalue.serde = string\n"
    "[source:customers]\ntopic = %s\nkey.serde = string\nvalue.serde = string\n"
    "[operator:enrich]\nplugin = std\ntype = join\ninput = orders, customers\n"
    "kind = stream-table\njoin = left\nvalue = nest\nstore = customers\n"
    "[store:customers]\ntype = kv\n%s"
    "[sink:out]\ninput = enrich\ntopic = %s\n";

/* %s: the two inputs, %d: window, grace, each store's retention and %s backend line
 * (twice), %s: output. */
static const char CORRELATE_TOPOLOGY[] =
    "[source:left]\ntopic = %s\nkey.serde = string\nvalue.serde = string\n"
    "[source:right]\ntopic = %s\nkey.serde = string\nvalue.serde = string\n"
    "[operator:join]\nplugin = std\ntype = join\ninput = left, right\n"
    "kind = stream-stream\njoin = inner\nwindow = %d\ngrace = %d\nvalue = nest\n"
    "store = join-left, join-right\n"
    "[store:join-left]\ntype = window\nwindow.size.ms = 1\nretention.ms = %d\n%s"
    "[store:join-right]\ntype = window\nwindow.size.ms = 1\nretention.ms = %d\n%s"
    "[sink:out]\ninput = join\ntopic = %s\n";

static const char *const CASE_NAMES[BENCH_JOIN_CASES] = {"stream-table (left)",
                                                         "stream-stream (inner)"};
static const char *const KS_MODES[BENCH_JOIN_CASES] = {"st-left", "ss-inner"};
enum { COL_LOOP, COL_WEIR, COL_KSTREAMS, COL_JOINLOOP, COL_WEIR_MEMORY, COL_KSTREAMS_MEMORY };
static const char *const COL_NAMES[BENCH_JOIN_COLS] = {
    "loop", "weir", "Kafka Streams", "join loop", "weir (memory)", "Kafka Streams (memory)"};

typedef struct join_case {
  int index;
  char left[128], right[128]; /* input topics, as the Joins app names them */
  long inputs, outputs;       /* records read (the loop's outputs), join results */
} join_case_t;

/* key "k000042"; a value of `size` bytes naming its side and number. */
static int produce_side(const bench_opts_t *o, const char *topic, long count, long keys,
                        int random_keys, long long t0, long long step, long long skew,
                        const char *side, int size) {
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  char key[32], value[256];
  uint64_t state = 0x9e3779b97f4a7c15u;
  for (long i = 0; rk && i < count; i++) {
    long k = i % keys;
    if (random_keys) { /* xorshift64: the same sequence every run */
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      k = (long)(state % (uint64_t)keys);
    }
    int klen = snprintf(key, sizeof key, "k%06ld", k);
    int vlen = snprintf(value, sizeof value, "%s %ld %-*s", side, i, size, "payload");
    vlen = vlen < size ? vlen : size;
    vlen = vlen < (int)sizeof value ? vlen : (int)sizeof value - 1;
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, (size_t)klen),
                             RD_KAFKA_V_VALUE(value, (size_t)vlen),
                             RD_KAFKA_V_TIMESTAMP(t0 + i * step + skew),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 10);
    rd_kafka_poll(rk, 0);
  }
  int rc = !rk || rd_kafka_flush(rk, 120000) ? -1 : 0;
  if (rk)
    rd_kafka_destroy(rk);
  return rc;
}

/* The inputs, timestamped an hour ago on (the broker deletes by timestamp
 * past its retention and refuses timestamps far ahead of its clock). */
static int make_inputs(const bench_opts_t *o, const char *prefix, join_case_t jc[]) {
  long long t0 = (long long)time(NULL) * 1000 - 3600000LL;
  long stream = o->records, half = o->records / 2;
  for (int c = 0; c < BENCH_JOIN_CASES; c++) {
    jc[c].index = c;
    snprintf(jc[c].left, sizeof jc[c].left, "%s-%s-l", prefix, c ? "ss" : "st");
    snprintf(jc[c].right, sizeof jc[c].right, "%s-%s-r", prefix, c ? "ss" : "st");
    if (bench_create_topic(o, jc[c].left) || bench_create_topic(o, jc[c].right))
      return -1;
  }
  jc[0].inputs = jc[0].outputs = stream;
  jc[1].inputs = 2 * half, jc[1].outputs = half;
  /* The table first, older than every order: it is there when they come. */
  return produce_side(o, jc[0].right, TABLE_KEYS, TABLE_KEYS, 0, t0, 0, 0, "customer", 60) ||
         produce_side(o, jc[0].left, stream, TABLE_KEYS, 1, t0 + 1000, 1, 0, "order",
                      o->value_size) ||
         produce_side(o, jc[1].left, half, SS_KEYS, 0, t0, 1, 0, "click", o->value_size) ||
         produce_side(o, jc[1].right, half, SS_KEYS, 0, t0, 1, SS_SKEW_MS, "view", o->value_size);
}

static void write_ini(const bench_opts_t *o, const join_case_t *jc, const char *path,
                      const char *group, const char *out, const char *state, int in_memory) {
  char topology[2048], extra[256];
  const char *backend = in_memory ? "backend = memory\n" : "";
  int retention = 2 * SS_WINDOW_MS + SS_GRACE_MS;
  if (jc->index == 0)
    snprintf(topology, sizeof topology, ENRICH_TOPOLOGY, jc->left, jc->right, backend, out);
  else
    snprintf(topology, sizeof topology, CORRELATE_TOPOLOGY, jc->left, jc->right, SS_WINDOW_MS,
             SS_GRACE_MS, retention, backend, retention, backend, out);
  snprintf(extra, sizeof extra, "commit.interval.ms = %d\nstate.dir = %s\n", COMMIT_MS, state);
  /* bench_weir_ini formats its topology with (input, output): this one is whole already. */
  char escaped[4096];
  size_t n = 0;
  for (const char *p = topology; *p && n + 2 < sizeof escaped; p++) {
    if (*p == '%')
      escaped[n++] = '%';
    escaped[n++] = *p;
  }
  escaped[n] = 0;
  bench_weir_ini(o, path, escaped, group, jc->left, out, 1, extra);
}

/* The join loop's changelog topic: its output's name with "-changelog". */
static void joinloop_changelog(const char *out, char *buf, size_t size) {
  snprintf(buf, size, "%s-changelog", out);
}

/* The join loop (bench_joinloop.c). */
static pid_t spawn_joinloop(const bench_opts_t *o, const join_case_t *jc, const char *out,
                            const char *group, const char *log) {
  char changelog[224], window[16], grace[16];
  joinloop_changelog(out, changelog, sizeof changelog);
  snprintf(window, sizeof window, "%d", jc->index ? SS_WINDOW_MS : 0);
  snprintf(grace, sizeof grace, "%d", jc->index ? SS_GRACE_MS : 0);
  char *argv[] = {(char *)o->self,
                  "joinloop",
                  (char *)o->bootstrap,
                  jc->index ? "stream-stream" : "stream-table",
                  (char *)jc->left,
                  (char *)jc->right,
                  changelog,
                  (char *)out,
                  (char *)group,
                  window,
                  grace,
                  NULL};
  return bench_spawn(argv, log);
}

static pid_t spawn_column(const bench_opts_t *o, const join_case_t *jc, int col, const char *out,
                          const char *group, const char *state, const char *ini, const char *prefix,
                          const char *log) {
  if (col == COL_JOINLOOP)
    return spawn_joinloop(o, jc, out, group, log);
  if (col == COL_LOOP) {
    char inputs[300];
    snprintf(inputs, sizeof inputs, jc->index ? "%s,%s" : "%s", jc->left, jc->right);
    char *argv[] = {(char *)o->self,
                    "loop",
                    (char *)o->bootstrap,
                    inputs,
                    (char *)out,
                    (char *)group,
                    "1",
                    NULL};
    return bench_spawn(argv, log);
  }
  if (col == COL_WEIR || col == COL_WEIR_MEMORY) {
    write_ini(o, jc, ini, group, out, state, col == COL_WEIR_MEMORY);
    char *argv[] = {(char *)o->weir, "run", (char *)ini, NULL};
    return bench_spawn(argv, log);
  }
  char window[16], grace[16], parts[16], commit[16], outp[160];
  snprintf(window, sizeof window, "%d", SS_WINDOW_MS);
  snprintf(grace, sizeof grace, "%d", SS_GRACE_MS);
  snprintf(parts, sizeof parts, "%d", PARTITIONS);
  snprintf(commit, sizeof commit, "%d", COMMIT_MS);
  /* Joins writes mode M to OUTPUT_PREFIX-M: `out` minus its "-M". */
  snprintf(outp, sizeof outp, "%.*s", (int)(strlen(out) - strlen(KS_MODES[jc->index]) - 1), out);
  setenv("WEIR_KSTREAMS_HEAP", "1g", 1);
  char *argv[] = {(char *)o->kstreams_sh,
                  "joins",
                  "--bootstrap",
                  (char *)o->bootstrap,
                  "--app-id",
                  (char *)group,
                  "--input-prefix",
                  (char *)prefix,
                  "--output-prefix",
                  outp,
                  "--modes",
                  (char *)KS_MODES[jc->index],
                  "--window-ms",
                  window,
                  "--grace-ms",
                  grace,
                  "--partitions",
                  parts,
                  "--commit-interval-ms",
                  commit,
                  "--stores",
                  col == COL_KSTREAMS_MEMORY ? "memory" : "rocksdb",
                  NULL};
  return bench_spawn(argv, log);
}

/* One run of one column: its rate in input records/s. */
static int run_column(const bench_opts_t *o, const join_case_t *jc, int col, int run,
                      const char *prefix, bench_result_t *r) {
  char out[192], group[160], state[64] = "", ini[96], log[128];
  int id = (int)getpid();
  snprintf(group, sizeof group, "bench-join-%d-%d-%d-%d", id, jc->index, col, run);
  snprintf(out, sizeof out, "bench-join-out-%d-%d-%d-%d-%s", id, jc->index, col, run,
           KS_MODES[jc->index]);
  snprintf(ini, sizeof ini, "/tmp/weir-bench-join-%d.ini", id);
  snprintf(log, sizeof log, "/tmp/weir-bench-join-%d-%d-%d-%d.log", id, jc->index, col, run);
  char changelog[224];
  joinloop_changelog(out, changelog, sizeof changelog);
  int kstreams = col == COL_KSTREAMS || col == COL_KSTREAMS_MEMORY;
  if ((!kstreams && bench_create_topic(o, out)) ||
      (col == COL_JOINLOOP && bench_create_topic(o, changelog)) ||
      ((col == COL_WEIR || col == COL_WEIR_MEMORY) && bench_state_dir(state, sizeof state)))
    return -1;
  double t0 = bench_now();
  pid_t child = spawn_column(o, jc, col, out, group, state, ini, prefix, log);
  long expect = col == COL_LOOP ? jc->inputs : jc->outputs;
  bench_observe(o, child, out, expect, t0, r);
  r->records_per_sec *= (double)jc->inputs / (double)expect;
  if (state[0])
    bench_remove_tree(state);
  unlink(ini);
  fprintf(stderr,
          "weir-bench: join %-22s %-13s run %d: %s %.0f input records/s, peak RSS %ld KiB\n",
          CASE_NAMES[jc->index], COL_NAMES[col], run + 1, r->ok ? "" : "FAILED (log kept)",
          r->records_per_sec, r->peak_rss_kb);
  if (r->ok && !getenv("WEIR_BENCH_KEEP_LOG"))
    unlink(log);
  return r->ok ? 0 : -1;
}

int bench_joins(const bench_opts_t *base, bench_joins_t *res) {
  char prefix[96];
  bench_opts_t o = *base;
  o.partitions = PARTITIONS;
  memset(res, 0, sizeof *res);
  snprintf(prefix, sizeof prefix, "bench-join-%d", (int)getpid());
  join_case_t jc[BENCH_JOIN_CASES];
  if (make_inputs(&o, prefix, jc))
    return -1;
  int runs = o.runs < MAX_RUNS ? o.runs : MAX_RUNS;
  int failed = 0;
  /* WEIR_BENCH_JOINS=stream-table or stream-stream: that one only. */
  const char *only = getenv("WEIR_BENCH_JOINS");
  for (int c = 0; c < BENCH_JOIN_CASES; c++) {
    if (only && strncmp(CASE_NAMES[c], only, strlen(only)) != 0)
      continue;
    bench_result_t got[BENCH_JOIN_COLS][MAX_RUNS];
    int n[BENCH_JOIN_COLS] = {0};
    /* Runs interleave the columns, so a busy machine weighs on all alike. */
    for (int run = 0; run < runs; run++)
      for (int col = 0; col < BENCH_JOIN_COLS; col++) {
        if ((col == COL_KSTREAMS || col == COL_KSTREAMS_MEMORY) && !o.kstreams_sh)
          continue;
        bench_result_t r = {0};
        if (run_column(&o, &jc[c], col, run, prefix, &r) == 0)
          got[col][n[col]++] = r;
        else
          failed = 1;
      }
    res->cases[c].inputs = jc[c].inputs;
    res->cases[c].outputs = jc[c].outputs;
    for (int col = 0; col < BENCH_JOIN_COLS; col++)
      bench_summarize(got[col], n[col], &res->cases[c].col[col]);
    /* got[] keeps only the runs that succeeded: pairs line up when none failed. */
    for (int a = 0; a < BENCH_JOIN_COLS; a++)
      for (int b = 0; b < BENCH_JOIN_COLS; b++)
        if (a != b && n[a] == runs && n[b] == runs)
          bench_pair(got[a], got[b], runs, &res->cases[c].pair[a][b]);
  }
  res->ok = !failed;
  return res->ok ? 0 : -1;
}

/* " a / b |" as the median of the runs' own ratios (bench_paired_t), or
 * " — |" when either did not run. */
static void ratio_cell(FILE *f, const bench_paired_t *p) {
  if (p->ok)
    fprintf(f, " %.2f |", p->rate);
  else
    fprintf(f, " — |");
}

/* The same, then ": met" (or missed) against `goal`. */
static void goal_cell(FILE *f, const bench_paired_t *p, double goal) {
  if (p->ok)
    fprintf(f, " %.2f: %s |", p->rate, p->rate >= goal ? "met" : "**missed**");
  else
    fprintf(f, " — |");
}

/* Columns [from, to) as " rate |" each. */
static void rate_cells(FILE *f, const bench_result_t *col, int from, int to) {
  for (int k = from; k < to; k++) {
    fputc(' ', f);
    if (col[k].ok)
      bench_rate_cell(f, &col[k]);
    else
      fputs("—", f);
    fputs(" |", f);
  }
}

enum { CELL_CPU, CELL_RSS };

/* Columns [from, to) in one cell, " a / b / c |": CPU µs per input record
 * (`in` input records) or peak RSS. */
static void cost_cells(FILE *f, const bench_result_t *col, int from, int to, int what, double in) {
  for (int k = from; k < to; k++) {
    fputs(k == from ? " " : " / ", f);
    if (!col[k].ok)
      fputs("—", f);
    else if (what == CELL_CPU)
      bench_cpu_cell(f, &col[k], in);
    else
      bench_rss_cell(f, &col[k]);
  }
  fputs(" |", f);
}

/* The same joins with every store in memory (weir's `backend = memory`,
 * Kafka Streams' Stores.inMemory*), in the same runs, against the same loop
 * and join loop. */
static void memory_markdown(FILE *f, const bench_joins_t *r) {
  fprintf(f, "\nThe same joins with every store in memory, in the same runs: weir's `backend = "
             "memory`, Kafka Streams' `Stores.inMemoryKeyValueStore` / `inMemoryWindowStore`:\n\n"
             "| join | weir (memory) rec/s | Kafka Streams (memory) rec/s | weir (memory) / loop "
             "(goal ≥ 0.5) | weir (memory) / Kafka Streams (memory) (goal ≥ 2) | weir (memory) / "
             "join loop | weir (memory) / weir | CPU µs per input record (weir / KS) | peak RSS "
             "MiB (weir / KS) |\n"
             "|---|---|---|---|---|---|---|---|---|\n");
  for (int c = 0; c < BENCH_JOIN_CASES; c++) {
    const bench_result_t *col = r->cases[c].col;
    const bench_paired_t *mem = r->cases[c].pair[COL_WEIR_MEMORY];
    double in = (double)r->cases[c].inputs;
    fprintf(f, "| %s |", CASE_NAMES[c]);
    rate_cells(f, col, COL_WEIR_MEMORY, BENCH_JOIN_COLS);
    goal_cell(f, &mem[COL_LOOP], 0.5);
    goal_cell(f, &mem[COL_KSTREAMS_MEMORY], 2);
    ratio_cell(f, &mem[COL_JOINLOOP]);
    ratio_cell(f, &mem[COL_WEIR]);
    cost_cells(f, col, COL_WEIR_MEMORY, BENCH_JOIN_COLS, CELL_CPU, in);
    cost_cells(f, col, COL_WEIR_MEMORY, BENCH_JOIN_COLS, CELL_RSS, in);
    fputc('\n', f);
  }
}

void bench_joins_markdown(FILE *f, const bench_joins_t *r) {
  fprintf(f,
          "\nJoins (6 partitions, one thread each, 1 s commits; median of the runs, min–max in "
          "brackets; a ratio: the median of the runs' own ratios, run k against run k; rates "
          "in input records/s from the first output record to the last): "
          "*stream-table*: %ld orders, keys picked from %d, left-joined with a table of %d "
          "customers written before them; *stream-stream*: two streams of %ld records, each "
          "left record meeting one right record %d ms apart within a %d ms window (grace %d "
          "ms). The loop forwards the same input records (both streams for stream-stream). "
          "weir: std `join`, `value = nest`; Kafka Streams: `leftJoin(KTable)` / "
          "`join(KStream, JoinWindows)` (tests/kstreams/Joins.java, its table without a record "
          "cache, as in the differential test). *Join loop*: the joins' ceiling "
          "(tests/bench/bench_joinloop.c), the loop's clients doing a join's traffic: each "
          "table row or buffered record kept in memory and sent to a changelog topic, each "
          "result produced, with no store, no time order and no commits.\n\n"
          "| join | input records | outputs | loop rec/s | weir rec/s | Kafka Streams rec/s | "
          "join loop rec/s | weir / loop (goal ≥ 0.5) | weir / Kafka Streams (goal ≥ 2) | "
          "weir / join loop | join loop / loop | CPU µs per input record (loop / weir / KS / "
          "join loop) | peak RSS MiB (loop / weir / KS / join loop) |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
          r->cases[0].inputs, TABLE_KEYS, TABLE_KEYS, r->cases[1].inputs / 2, SS_SKEW_MS,
          SS_WINDOW_MS, SS_GRACE_MS);
  for (int c = 0; c < BENCH_JOIN_CASES; c++) {
    const bench_result_t *col = r->cases[c].col;
    const bench_paired_t(*pair)[BENCH_JOIN_COLS] = r->cases[c].pair;
    double in = (double)r->cases[c].inputs;
    fprintf(f, "| %s | %ld | %ld |", CASE_NAMES[c], r->cases[c].inputs, r->cases[c].outputs);
    rate_cells(f, col, 0, COL_WEIR_MEMORY);
    goal_cell(f, &pair[COL_WEIR][COL_LOOP], 0.5);
    goal_cell(f, &pair[COL_WEIR][COL_KSTREAMS], 2);
    ratio_cell(f, &pair[COL_WEIR][COL_JOINLOOP]);
    ratio_cell(f, &pair[COL_JOINLOOP][COL_LOOP]);
    cost_cells(f, col, 0, COL_WEIR_MEMORY, CELL_CPU, in);
    cost_cells(f, col, 0, COL_WEIR_MEMORY, CELL_RSS, in);
    fputc('\n', f);
  }
  memory_markdown(f, r);
}
