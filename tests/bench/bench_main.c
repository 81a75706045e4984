/* weir-bench: runs every case on one broker, three processes per case (the
 * baseline loop, weir, Kafka Streams), `runs` times each, and writes the
 * medians as a Markdown table. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

enum { NCASES_MAX = 32 };
static char INPUT[64]; /* bench-in-<pid>-<P>p: the input of the cases with P partitions */

#define PASSTHROUGH                                                                               \
  "[source:in]\ntopic = %s\n"                                                                    \
  "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"                              \
  "[sink:out]\ninput = pass\ntopic = %s\n"

/* The cases. A new one is an entry here: its weir topology (after [weir]),
 * the Kafka Streams mode that does the same job, the partitions of its
 * topics, the threads of each contender, and the weir / loop ratio it is
 * held to. Cases with the same partition count share one input topic (and,
 * on `weir broker`, one broker); they run in this order. More partitions
 * mean smaller batches and every contender is slower there (Kafka Streams at
 * 256 partitions ~8 k records/s), so those cases run on a fraction of
 * --records (the last field) to keep `make bench` within minutes. */
static const bench_case_t cases[] = {
    {"passthrough", PASSTHROUGH, "passthrough", 1, 6, 1, 0.9, 1},
    {"passthrough", PASSTHROUGH, "passthrough", 1, 6, 2, 0.9, 1},
    {"passthrough", PASSTHROUGH, "passthrough", 1, 64, 1, 0, 2},
    {"passthrough", PASSTHROUGH, "passthrough", 1, 256, 1, 0.8, 4},
};
static long case_records[NCASES_MAX]; /* what each case ran on */
enum { NCASES = sizeof cases / sizeof cases[0] };

/* The rebalance measurement runs on the input of this many partitions. */
enum { REBALANCE_PARTITIONS = 6 };

enum { COLS = 3 };
static const char *const col_names[COLS] = {"plain librdkafka loop", "weir", "Kafka Streams"};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n ? v[n / 2] : 0;
}

/* Unique per harness process: a long-lived broker may hold earlier runs. */
static void output_topic(char *buf, size_t size, size_t c, int col, int run) {
  snprintf(buf, size, "bench-out-%zu-%d-%d-%d", c, col, run + 1, (int)getpid());
}

static void input_topic(int partitions) {
  snprintf(INPUT, sizeof INPUT, "bench-in-%d-%dp", (int)getpid(), partitions);
}

void bench_weir_ini(const bench_opts_t *o, const char *path, const char *topology, const char *group,
                    const char *input, const char *output, int threads) {
  FILE *f = fopen(path, "w");
  if (!f)
    return;
  fprintf(f, "[weir]\napplication.id = %s\nbootstrap.servers = %s\nplugin.dir = %s\nthreads = %d\n"
             "[kafka]\ncompression.type = lz4\n", group, o->bootstrap, o->plugin_dir, threads);
  fprintf(f, topology, input, output);
  fclose(f);
}

static pid_t spawn_case(const bench_opts_t *o, const bench_case_t *c, int col, const char *out,
                        const char *group, const char *log) {
  char ini[512], expect[32], threads[16], parts[16];
  snprintf(expect, sizeof expect, "%ld", o->records);
  snprintf(threads, sizeof threads, "%d", c->threads);
  snprintf(parts, sizeof parts, "%d", c->partitions);
  if (col == 0) {
    char *argv[] = {(char *)o->self, "loop", (char *)o->bootstrap, INPUT, (char *)out,
                    (char *)group, threads, NULL};
    return bench_spawn(argv, log);
  }
  if (col == 1) {
    snprintf(ini, sizeof ini, "/tmp/weir-bench-%d.ini", (int)getpid());
    bench_weir_ini(o, ini, c->weir_topology, group, INPUT, out, c->threads);
    char *argv[] = {(char *)o->weir, "run", ini, NULL};
    return bench_spawn(argv, log);
  }
  char *argv[] = {"java", "-Xmx1g", "-jar", (char *)o->kstreams_jar, "--bootstrap",
                  (char *)o->bootstrap, "--mode", (char *)c->kstreams_mode, "--input", INPUT,
                  "--output", (char *)out, "--expect", expect, "--app-id", (char *)group,
                  "--partitions", parts, "--threads", threads, NULL};
  return bench_spawn(argv, log);
}

static int column_applies(const bench_opts_t *o, const bench_case_t *c, int col) {
  return col == 1 || (col == 0 && c->baseline) || (col == 2 && o->kstreams_jar && c->kstreams_mode);
}

/* One run of one column of one case. */
static int run_once(const bench_opts_t *o, size_t ci, int col, int run, bench_result_t *r) {
  const bench_case_t *c = &cases[ci];
  char out[128], group[160], log[256], name[96];
  snprintf(log, sizeof log, "/tmp/weir-bench-%d.log", (int)getpid());
  snprintf(name, sizeof name, "%s/%dp/%dt", c->name, c->partitions, c->threads);
  output_topic(out, sizeof out, ci, col, run);
  snprintf(group, sizeof group, "bench-%s-%zu-%d-%d-%d", c->name, ci, col, run, (int)getpid());
  if (bench_create_topic(o, out))
    return -1;
  double t0 = bench_now();
  pid_t child = spawn_case(o, c, col, out, group, log);
  bench_observe(o, child, out, o->records, t0, r);
  if (!r->ok)
    fprintf(stderr, "weir-bench: %s, %s: FAILED; its output is in %s\n", name, col_names[col], log);
  else
    fprintf(stderr, "weir-bench: %-20s %-22s %s %d: %.0f records/s, startup %.2f s, peak RSS %ld KiB\n",
            name, col_names[col], run < 0 ? "warm-up" : "run", run + 1, r->records_per_sec,
            r->startup_sec, r->peak_rss_kb);
  if (r->ok)
    fprintf(stderr, "weir-bench:   CPU %.2f s (%.2f us/record)\n", r->cpu_sec,
            r->cpu_sec * 1e6 / (double)o->records);
  return r->ok ? 0 : -1;
}

/* Runs interleave the columns (loop, weir, Kafka Streams, loop, ...) so a
 * broker warming up or a busy machine weighs on all of them alike; one
 * unmeasured warm-up run goes first. Medians per column. */
static void run_case(const bench_opts_t *o, size_t ci, bench_result_t med[COLS]) {
  const bench_case_t *c = &cases[ci];
  double rate[COLS][16], start[COLS][16], rss[COLS][16], cpu[COLS][16];
  int n[COLS] = {0};
  bench_result_t warm = {0};
  run_once(o, ci, 1, -1, &warm);
  for (int run = 0; run < o->runs && run < 16; run++)
    for (int col = 0; col < COLS; col++) {
      bench_result_t r = {0};
      if (!column_applies(o, c, col) || run_once(o, ci, col, run, &r))
        continue;
      rate[col][n[col]] = r.records_per_sec, start[col][n[col]] = r.startup_sec;
      rss[col][n[col]] = (double)r.peak_rss_kb;
      cpu[col][n[col]] = r.cpu_sec;
      n[col]++;
    }
  for (int col = 0; col < COLS; col++) {
    med[col].ok = n[col] == o->runs;
    med[col].records_per_sec = median(rate[col], n[col]);
    med[col].startup_sec = median(start[col], n[col]);
    med[col].peak_rss_kb = (long)median(rss[col], n[col]);
    med[col].cpu_sec = median(cpu[col], n[col]);
  }
}

static void rate_cell(FILE *f, const bench_result_t *r) {
  if (r->ok)
    fprintf(f, " %.0f |", r->records_per_sec);
  else
    fprintf(f, " n/a |");
}

static void ratio(FILE *f, const bench_result_t *a, const bench_result_t *b) {
  if (a->ok && b->ok && b->records_per_sec > 0)
    fprintf(f, " %.2f |", a->records_per_sec / b->records_per_sec);
  else
    fprintf(f, " n/a |");
}

/* "a / b / c" of one figure for the three columns. */
static void triple(FILE *f, const bench_result_t res[COLS], const char *fmt, int what) {
  for (int col = 0; col < COLS; col++) {
    const bench_result_t *r = &res[col];
    double v = what == 0 ? (double)r->peak_rss_kb / 1024.0
               : what == 1 ? r->cpu_sec * 1e6 /* already CPU s per record */
               : r->startup_sec;
    fputs(col ? " / " : " ", f);
    if (r->ok)
      fprintf(f, fmt, v);
    else
      fputs("n/a", f);
  }
  fputs(" |", f);
}

static void write_table(const bench_opts_t *o, bench_result_t res[][COLS],
                        const bench_rebalance_t *rb) {
  FILE *f = fopen(o->markdown, "w");
  if (!f)
    f = stdout;
  fprintf(f, "#### %s — records of %d bytes, median of %d\n\n", o->broker_label, o->value_size,
          o->runs);
  fprintf(f, "Threads: weir's `threads`, as many consumer/producer pairs (one per thread) in the loop, "
             "Kafka Streams' stream threads; every thread is its own member of the group. "
             "Goal: the weir / loop ratio the case is held to.\n\n");
  fprintf(f, "| case | partitions | threads | records | loop rec/s | weir rec/s | Kafka Streams rec/s | weir / loop "
             "| goal | weir / Kafka Streams "
             "| CPU µs per record (loop / weir / KS) | peak RSS MiB (loop / weir / KS) | start s (loop / weir / KS) |\n");
  fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < NCASES; i++) {
    bench_result_t per[COLS];
    if (o->only_partitions && cases[i].partitions != o->only_partitions)
      continue;
    for (int col = 0; col < COLS; col++) {
      per[col] = res[i][col];
      per[col].cpu_sec = per[col].cpu_sec / (double)case_records[i]; /* CPU s per record */
    }
    fprintf(f, "| %s | %d | %d | %ld |", cases[i].name, cases[i].partitions, cases[i].threads,
            case_records[i]);
    for (int col = 0; col < COLS; col++)
      rate_cell(f, &res[i][col]);
    ratio(f, &res[i][1], &res[i][0]);
    if (cases[i].goal <= 0)
      fprintf(f, " — |");
    else if (res[i][0].ok && res[i][1].ok && res[i][0].records_per_sec > 0)
      fprintf(f, " ≥ %.1f: %s |", cases[i].goal,
              res[i][1].records_per_sec / res[i][0].records_per_sec >= cases[i].goal ? "met" : "**missed**");
    else
      fprintf(f, " ≥ %.1f: n/a |", cases[i].goal);
    ratio(f, &res[i][1], &res[i][2]);
    triple(f, per, "%.2f", 1);
    triple(f, res[i], "%.0f", 0);
    triple(f, res[i], "%.1f", 2);
    fputc('\n', f);
  }
  if (rb) {
    fprintf(f, "\nRebalance (weir only, %d partitions, `threads = 1`; %s of %d run%s): "
               "instance A processes a steady %d records/s; a second `weir run` with the same "
               "application.id is started. *Join* is the moment the harness spawns it. *Assigned*: "
               "both instances have logged `rebalance: gained tasks` since the join and those last "
               "lines cover all %d partitions (times from the logs). *Resumed*: every output partition "
               "(the input's keys and partitioner map input partition p to output partition p) has grown "
               "past its end offset at *assigned* — every task processes again. *Stall*: the longest time "
               "one output partition did not grow. Records in / out: summed over the runs; out > in are "
               "records processed twice (at-least-once), out < in would be a loss.\n\n",
            REBALANCE_PARTITIONS, rb->runs > 1 ? "median" : "the figures", rb->runs,
            rb->runs > 1 ? "s, min–max in brackets; A warms up 2 s, 3 s, ... so the runs fall at "
                           "different points of its 3 s heartbeat cycle" : "",
            rb->rate, REBALANCE_PARTITIONS);
    fprintf(f, "| join → assigned s | join → resumed s | longest partition stall s | records in / out |\n");
    fprintf(f, "|---|---|---|---|\n");
    if (rb->runs > 1)
      fprintf(f, "| %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) | %.2f | %lld / %lld |\n", rb->assigned,
              rb->assigned_min, rb->assigned_max, rb->resumed, rb->resumed_min, rb->resumed_max,
              rb->stall, rb->produced, rb->consumed);
    else if (rb->runs)
      fprintf(f, "| %.2f | %.2f | %.2f | %lld / %lld |\n", rb->assigned, rb->resumed, rb->stall,
              rb->produced, rb->consumed);
    else
      fprintf(f, "| n/a | n/a | n/a | n/a |\n");
  }
  if (f != stdout)
    fclose(f);
}

/* The embedded broker drops the oldest data past 5 MiB a partition: a
 * result is only valid if nothing was dropped. */
static int check_nothing_dropped(const bench_opts_t *o, const char *topic) {
  long long low = 0;
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  bench_end_offsets(rk, topic, o->partitions, &low);
  rd_kafka_destroy(rk);
  if (low != 0)
    fprintf(stderr, "weir-bench: the broker dropped %lld records of %s (low watermark > 0): "
                    "results are invalid; use fewer records or more partitions\n", low, topic);
  return low == 0 ? 0 : -1;
}

static void usage(void) {
  fputs("usage: weir-bench --bootstrap ADDR|--embedded --weir BIN --plugin-dir DIR\n"
        "                  [--kstreams-jar JAR] [--records N] [--value-size B] [--partitions P]\n"
        "                  [--runs R] [--rebalance-runs R] [--label TEXT] [--markdown FILE]\n"
        "       weir-bench loop BOOTSTRAP INPUT OUTPUT GROUP [THREADS]   (the baseline, run by the harness)\n"
        "--partitions P: run only the cases with P partitions (default: every case)\n",
        stderr);
}

static int parse(int argc, char **argv, bench_opts_t *o) {
  static const struct option opts[] = {
      {"bootstrap", required_argument, NULL, 'b'}, {"embedded", no_argument, NULL, 'e'},
      {"weir", required_argument, NULL, 'w'},      {"plugin-dir", required_argument, NULL, 'p'},
      {"kstreams-jar", required_argument, NULL, 'k'}, {"records", required_argument, NULL, 'n'},
      {"value-size", required_argument, NULL, 's'}, {"partitions", required_argument, NULL, 'P'},
      {"runs", required_argument, NULL, 'r'},      {"label", required_argument, NULL, 'l'},
      {"markdown", required_argument, NULL, 'm'},  {"rebalance-runs", required_argument, NULL, 'R'},
      {NULL, 0, NULL, 0}};
  int c;
  *o = (bench_opts_t){.records = 1000000, .value_size = 100, .runs = 3, .rebalance_runs = -1,
                      .markdown = "bench.md", .broker_label = "broker"};
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'b': o->bootstrap = optarg; break;
    case 'e': o->embedded = 1; break;
    case 'w': o->weir = optarg; break;
    case 'p': o->plugin_dir = optarg; break;
    case 'k': o->kstreams_jar = optarg; break;
    case 'n': o->records = atol(optarg); break;
    case 's': o->value_size = atoi(optarg); break;
    case 'P': o->only_partitions = atoi(optarg); break;
    case 'R': o->rebalance_runs = atoi(optarg); break;
    case 'r': o->runs = atoi(optarg); break;
    case 'l': o->broker_label = optarg; break;
    case 'm': o->markdown = optarg; break;
    default: return -1;
    }
  }
  if (o->rebalance_runs < 0)
    o->rebalance_runs = o->runs;
  return (o->bootstrap || o->embedded) && o->weir && o->plugin_dir && o->records > 0 ? 0 : -1;
}

/* `weir broker` with every topic the cases of o->partitions partitions need
 * (it has no Admin API, and one partition count for all its topics). */
static pid_t start_embedded(const bench_opts_t *o, int rebalance, char *addr, size_t size) {
  enum { MAX_TOPICS = 250 };
  static char parts[16], names[MAX_TOPICS][128];
  char *argv[2 * MAX_TOPICS + 8] = {(char *)o->weir, "broker", "--partitions", parts, "--topic", INPUT};
  int a = 6, k = 0;
  snprintf(parts, sizeof parts, "%d", o->partitions);
  for (size_t i = 0; i < NCASES; i++)
    for (int col = 0; cases[i].partitions == o->partitions && col < COLS; col++)
      for (int run = -1; run < o->runs && k < MAX_TOPICS; run++, k++) {
        output_topic(names[k], sizeof names[k], i, col, run);
        argv[a++] = "--topic";
        argv[a++] = names[k];
      }
  for (int run = 0; rebalance && run < o->rebalance_runs && k + 1 < MAX_TOPICS; run++, k += 2) {
    bench_rebalance_topics(run, names[k], names[k + 1], sizeof names[k]);
    argv[a++] = "--topic";
    argv[a++] = names[k];
    argv[a++] = "--topic";
    argv[a++] = names[k + 1];
  }
  argv[a] = NULL;
  int fds[2];
  if (pipe(fds))
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 1);
    close(fds[0]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  if (!f || !fgets(addr, (int)size, f))
    return -1;
  addr[strcspn(addr, "\n")] = '\0';
  return pid;
}

/* Every case with o->partitions partitions, on their shared input; and the
 * rebalance measurement when `rebalance`. */
static int run_group(bench_opts_t *o, int rebalance, bench_result_t res[][COLS], bench_rebalance_t *rb) {
  static char addr[256];
  pid_t broker = -1;
  int rc = 0;
  long all = o->records;
  for (size_t i = 0; i < NCASES; i++)
    if (cases[i].partitions == o->partitions)
      o->records = case_records[i] = all / (cases[i].records_div > 1 ? cases[i].records_div : 1);
  input_topic(o->partitions);
  if (o->embedded) {
    broker = start_embedded(o, rebalance, addr, sizeof addr);
    if (broker < 0)
      return -1;
    o->bootstrap = addr;
  }
  rc = bench_create_topic(o, INPUT) || bench_produce_input(o, INPUT);
  fprintf(stderr, "weir-bench: %ld input records on %s, %d partitions\n", o->records, o->bootstrap,
          o->partitions);
  for (size_t i = 0; !rc && i < NCASES; i++)
    if (cases[i].partitions == o->partitions)
      run_case(o, i, res[i]);
  if (!rc && rebalance)
    rc = bench_rebalance(o, PASSTHROUGH, rb);
  if (!rc && o->embedded)
    rc = check_nothing_dropped(o, INPUT);
  for (int run = 0; !rc && o->embedded && rebalance && run < o->rebalance_runs; run++) {
    char in[128], out[128];
    bench_rebalance_topics(run, in, out, sizeof in);
    rc = check_nothing_dropped(o, in);
  }
  if (broker > 0) {
    kill(broker, SIGTERM);
    waitpid(broker, NULL, 0);
  }
  o->records = all;
  return rc;
}

int main(int argc, char **argv) {
  bench_opts_t o;
  if (argc > 1 && strcmp(argv[1], "loop") == 0)
    return bench_loop_main(argc - 1, argv + 1);
  if (parse(argc, argv, &o)) {
    usage();
    return 2;
  }
  o.self = argv[0];
  _Static_assert((int)NCASES <= (int)NCASES_MAX, "NCASES_MAX");
  bench_result_t res[NCASES][COLS];
  bench_rebalance_t rb = {0};
  memset(res, 0, sizeof res);
  int rc = 0, rebalanced = 0;
  /* One group per partition count, in the order of the table. */
  for (size_t i = 0; !rc && i < NCASES; i++) {
    int p = cases[i].partitions, seen = 0;
    for (size_t j = 0; j < i; j++)
      seen |= cases[j].partitions == p;
    if (seen || (o.only_partitions && p != o.only_partitions))
      continue;
    o.partitions = p;
    int rebalance = p == REBALANCE_PARTITIONS && o.rebalance_runs > 0;
    rc = run_group(&o, rebalance, res, &rb);
    rebalanced |= rebalance;
  }
  if (!rc)
    write_table(&o, res, rebalanced ? &rb : NULL);
  char tmp[64];
  snprintf(tmp, sizeof tmp, "/tmp/weir-bench-%d.ini", (int)getpid());
  unlink(tmp);
  if (!rc) {
    snprintf(tmp, sizeof tmp, "/tmp/weir-bench-%d.log", (int)getpid());
    unlink(tmp);
  }
  return rc ? 1 : 0;
}
