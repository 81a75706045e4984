/* weir-bench: runs every case on one broker, three processes per case (the
 * baseline loop, weir, Kafka Streams), `runs` times each, and writes the
 * medians as a Markdown table. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static char INPUT[64]; /* bench-in-<pid>: a long-lived broker may hold earlier runs */

/* The cases. A new one is an entry here: its weir topology (after [weir]),
 * and the Kafka Streams mode that does the same job. */
static const bench_case_t cases[] = {
    {"passthrough",
     "[source:in]\ntopic = %s\n"
     "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
     "[sink:out]\ninput = pass\ntopic = %s\n",
     "passthrough", 1},
};

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
static void output_topic(char *buf, size_t size, const char *c, int col, int run) {
  snprintf(buf, size, "bench-out-%s-%d-%d-%d", c, col, run + 1, (int)getpid());
}

static pid_t spawn_case(const bench_opts_t *o, const bench_case_t *c, int col, const char *out,
                        const char *group, const char *log) {
  char ini[512], expect[32];
  snprintf(expect, sizeof expect, "%ld", o->records);
  if (col == 0) {
    char *argv[] = {(char *)o->self, "loop", (char *)o->bootstrap, INPUT, (char *)out,
                    (char *)group, NULL};
    return bench_spawn(argv, log);
  }
  if (col == 1) {
    snprintf(ini, sizeof ini, "/tmp/weir-bench-%d.ini", (int)getpid());
    FILE *f = fopen(ini, "w");
    fprintf(f, "[weir]\napplication.id = %s\nbootstrap.servers = %s\nplugin.dir = %s\n"
               "[kafka]\ncompression.type = lz4\n", group, o->bootstrap, o->plugin_dir);
    fprintf(f, c->weir_topology, INPUT, out);
    fclose(f);
    char *argv[] = {(char *)o->weir, "run", ini, NULL};
    return bench_spawn(argv, log);
  }
  char *argv[] = {"java", "-Xmx1g", "-jar", (char *)o->kstreams_jar, "--bootstrap",
                  (char *)o->bootstrap, "--mode", (char *)c->kstreams_mode, "--input", INPUT,
                  "--output", (char *)out, "--expect", expect, "--app-id", (char *)group,
                  "--partitions", "0", NULL};
  snprintf(ini, sizeof ini, "%d", o->partitions);
  argv[17] = ini;
  return bench_spawn(argv, log);
}

static int column_applies(const bench_opts_t *o, const bench_case_t *c, int col) {
  return col == 1 || (col == 0 && c->baseline) || (col == 2 && o->kstreams_jar && c->kstreams_mode);
}

/* One run of one column of one case. */
static int run_once(const bench_opts_t *o, const bench_case_t *c, int col, int run,
                    bench_result_t *r) {
  char out[128], group[160], log[256];
  snprintf(log, sizeof log, "/tmp/weir-bench-%d.log", (int)getpid());
  output_topic(out, sizeof out, c->name, col, run);
  snprintf(group, sizeof group, "bench-%s-%d-%d-%d", c->name, col, run, (int)getpid());
  if (bench_create_topic(o, out))
    return -1;
  double t0 = bench_now();
  pid_t child = spawn_case(o, c, col, out, group, log);
  bench_observe(o, child, out, o->records, t0, r);
  if (!r->ok)
    fprintf(stderr, "weir-bench: %s, %s: FAILED; its output is in %s\n", c->name, col_names[col], log);
  else
    fprintf(stderr, "weir-bench: %-12s %-22s %s %d: %.0f records/s, startup %.2f s, peak RSS %ld KiB\n",
            c->name, col_names[col], run < 0 ? "warm-up" : "run", run + 1, r->records_per_sec,
            r->startup_sec, r->peak_rss_kb);
  if (r->ok)
    fprintf(stderr, "weir-bench:   CPU %.2f s (%.2f us/record)\n", r->cpu_sec,
            r->cpu_sec * 1e6 / (double)o->records);
  return r->ok ? 0 : -1;
}

/* Runs interleave the columns (loop, weir, Kafka Streams, loop, ...) so a
 * broker warming up or a busy machine weighs on all of them alike; one
 * unmeasured warm-up run goes first. Medians per column. */
static void run_case(const bench_opts_t *o, const bench_case_t *c, bench_result_t med[COLS]) {
  double rate[COLS][16], start[COLS][16], rss[COLS][16], cpu[COLS][16];
  int n[COLS] = {0};
  bench_result_t warm = {0};
  run_once(o, c, 1, -1, &warm);
  for (int run = 0; run < o->runs && run < 16; run++)
    for (int col = 0; col < COLS; col++) {
      bench_result_t r = {0};
      if (!column_applies(o, c, col) || run_once(o, c, col, run, &r))
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

static void write_table(const bench_opts_t *o, bench_result_t res[][COLS], size_t n) {
  FILE *f = fopen(o->markdown, "w");
  if (!f)
    f = stdout;
  fprintf(f, "#### %s — %ld records of %d bytes, %d partitions, 1 stream thread, median of %d\n\n",
          o->broker_label, o->records, o->value_size, o->partitions, o->runs);
  fprintf(f, "| case | loop rec/s | weir rec/s | Kafka Streams rec/s | weir / loop | weir / Kafka Streams "
             "| CPU µs per record (loop / weir / KS) | peak RSS MiB (loop / weir / KS) | start s (loop / weir / KS) |\n");
  fprintf(f, "|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < n; i++) {
    bench_result_t per[COLS];
    for (int col = 0; col < COLS; col++) {
      per[col] = res[i][col];
      per[col].cpu_sec = per[col].cpu_sec / (double)o->records; /* CPU s per record */
    }
    fprintf(f, "| %s |", cases[i].name);
    for (int col = 0; col < COLS; col++)
      rate_cell(f, &res[i][col]);
    ratio(f, &res[i][1], &res[i][0]);
    ratio(f, &res[i][1], &res[i][2]);
    triple(f, per, "%.2f", 1);
    triple(f, res[i], "%.0f", 0);
    triple(f, res[i], "%.1f", 2);
    fputc('\n', f);
  }
  if (f != stdout)
    fclose(f);
}

/* The embedded broker drops the oldest data past 5 MiB a partition: a
 * result is only valid if nothing was dropped. */
static int check_nothing_dropped(const bench_opts_t *o) {
  long long low = 0;
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  bench_end_offsets(rk, INPUT, o->partitions, &low);
  rd_kafka_destroy(rk);
  if (low != 0)
    fprintf(stderr, "weir-bench: the broker dropped %lld input records (low watermark > 0): "
                    "results are invalid; use fewer records or more partitions\n", low);
  return low == 0 ? 0 : -1;
}

static void usage(void) {
  fputs("usage: weir-bench --bootstrap ADDR|--embedded --weir BIN --plugin-dir DIR\n"
        "                  [--kstreams-jar JAR] [--records N] [--value-size B] [--partitions P]\n"
        "                  [--runs R] [--label TEXT] [--markdown FILE]\n"
        "       weir-bench loop BOOTSTRAP INPUT OUTPUT GROUP   (the baseline, run by the harness)\n",
        stderr);
}

static int parse(int argc, char **argv, bench_opts_t *o) {
  static const struct option opts[] = {
      {"bootstrap", required_argument, NULL, 'b'}, {"embedded", no_argument, NULL, 'e'},
      {"weir", required_argument, NULL, 'w'},      {"plugin-dir", required_argument, NULL, 'p'},
      {"kstreams-jar", required_argument, NULL, 'k'}, {"records", required_argument, NULL, 'n'},
      {"value-size", required_argument, NULL, 's'}, {"partitions", required_argument, NULL, 'P'},
      {"runs", required_argument, NULL, 'r'},      {"label", required_argument, NULL, 'l'},
      {"markdown", required_argument, NULL, 'm'},  {NULL, 0, NULL, 0}};
  int c;
  *o = (bench_opts_t){.records = 1000000, .value_size = 100, .partitions = 6, .runs = 3,
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
    case 'P': o->partitions = atoi(optarg); break;
    case 'r': o->runs = atoi(optarg); break;
    case 'l': o->broker_label = optarg; break;
    case 'm': o->markdown = optarg; break;
    default: return -1;
    }
  }
  return (o->bootstrap || o->embedded) && o->weir && o->plugin_dir && o->records > 0 ? 0 : -1;
}

/* `weir broker` with every topic the run needs (it has no Admin API). */
static pid_t start_embedded(bench_opts_t *o, char *addr, size_t size) {
  char *argv[256] = {(char *)o->weir, "broker", "--partitions", NULL, "--topic", INPUT};
  static char parts[16], names[128][128];
  int a = 6, k = 0;
  snprintf(parts, sizeof parts, "%d", o->partitions);
  argv[3] = parts;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int col = 0; col < COLS; col++)
      for (int run = -1; run < o->runs && k < 128; run++, k++) {
        output_topic(names[k], sizeof names[k], cases[i].name, col, run);
        argv[a++] = "--topic";
        argv[a++] = names[k];
      }
  int fds[2];
  if (pipe(fds))
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
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

int main(int argc, char **argv) {
  bench_opts_t o;
  static char addr[256];
  pid_t broker = -1;
  if (argc > 1 && strcmp(argv[1], "loop") == 0)
    return bench_loop_main(argc - 1, argv + 1);
  if (parse(argc, argv, &o)) {
    usage();
    return 2;
  }
  o.self = argv[0];
  snprintf(INPUT, sizeof INPUT, "bench-in-%d", (int)getpid());
  if (o.embedded) {
    broker = start_embedded(&o, addr, sizeof addr);
    if (broker < 0)
      return 1;
    o.bootstrap = addr;
  }
  size_t n = sizeof cases / sizeof cases[0];
  bench_result_t res[sizeof cases / sizeof cases[0]][COLS];
  memset(res, 0, sizeof res);
  int rc = bench_create_topic(&o, INPUT) || bench_produce_input(&o, INPUT);
  fprintf(stderr, "weir-bench: %ld input records on %s\n", o.records, o.bootstrap);
  for (size_t i = 0; !rc && i < n; i++)
    run_case(&o, &cases[i], res[i]);
  if (!rc && o.embedded)
    rc = check_nothing_dropped(&o);
  if (!rc)
    write_table(&o, res, n);
  if (broker > 0) {
    kill(broker, SIGTERM);
    waitpid(broker, NULL, 0);
  }
  char tmp[64];
  snprintf(tmp, sizeof tmp, "/tmp/weir-bench-%d.ini", (int)getpid());
  unlink(tmp);
  if (!rc) {
    snprintf(tmp, sizeof tmp, "/tmp/weir-bench-%d.log", (int)getpid());
    unlink(tmp);
  }
  return rc ? 1 : 0;
}
