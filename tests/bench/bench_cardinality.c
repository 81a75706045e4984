/* Memory against the number of keys (real broker only: the embedded one
 * drops a partition's oldest records past 5 MiB). The word count of
 * BENCH_WORDCOUNT, one thread, over inputs where every record is a word of
 * its own, at each key count of --keys (default 1,000,000 and 5,000,000):
 * its store, changelog and output then hold one row per record. weir's peak
 * RSS must not grow with the keys: RocksDB's memory, the write cache and the
 * clients' queues are bounded by configuration, not by the data. Each key
 * count is run --runs times on its own input; medians, min-max beside. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* FLAT_SLACK_MIB: how far apart two runs' peaks land with nothing changed
 * (the commit that flushes the write cache into the producer is the peak's
 * moment, and where it falls against the fetch queue varies). */
enum { PARTITIONS = 6, ROCKSDB_BUDGET_MIB = 64, FLAT_SLACK_MIB = 16 };

/* RocksDB's memory at stop, from weir's line "state: RocksDB held X MiB at
 * stop"; -1 when the log has none. */
static double state_mib_at_stop(const char *log) {
  FILE *f = fopen(log, "r");
  char line[1024];
  double mib = -1;
  while (f && fgets(line, sizeof line, f)) {
    const char *p = strstr(line, "state: RocksDB held ");
    if (p)
      mib = strtod(p + strlen("state: RocksDB held "), NULL);
  }
  if (f)
    fclose(f);
  return mib;
}

/* One count over `in` (o->records distinct words); *state_mib: RocksDB's
 * memory at its stop. */
static int count_once(const bench_opts_t *o, const char *in, int k, int run, bench_result_t *r,
                      double *state_mib) {
  char out[128], group[128], ini[128], log[128], state[64], extra[256];
  int id = (int)getpid();
  snprintf(out, sizeof out, "bench-cardinality-out-%d-%d-%d", id, k, run);
  snprintf(group, sizeof group, "bench-cardinality-%d-%d-%d", id, k, run);
  snprintf(ini, sizeof ini, "/tmp/weir-bench-cardinality-%d.ini", id);
  snprintf(log, sizeof log, "/tmp/weir-bench-cardinality-%d-%d-%d.log", id, k, run);
  if (bench_create_topic(o, out) || bench_state_dir(state, sizeof state))
    return -1;
  snprintf(extra, sizeof extra, "commit.interval.ms = 1000\nstate.dir = %s\n", state);
  bench_weir_ini(o, ini, BENCH_WORDCOUNT, group, in, out, 1, extra);
  char *argv[] = {(char *)o->weir, "run", ini, NULL};
  memset(r, 0, sizeof *r);
  double t0 = bench_now();
  pid_t child = bench_spawn(argv, log);
  bench_observe_counts(o, child, out, group, o->records, 0, t0, r);
  bench_remove_tree(state);
  unlink(ini);
  *state_mib = state_mib_at_stop(log);
  if (!r->ok || *state_mib < 0) {
    fprintf(stderr, "weir-bench: cardinality %ld keys, run %d: FAILED%s; weir's output is in %s\n",
            o->records, run + 1, r->ok ? " (no \"state: RocksDB held\" line at stop)" : "", log);
    return -1;
  }
  if (!getenv("WEIR_BENCH_KEEP_LOG"))
    unlink(log);
  fprintf(stderr,
          "weir-bench: cardinality %ld keys, run %d: %.0f records/s, peak RSS %.0f MiB "
          "(RocksDB %.0f MiB at stop), %.2f us CPU/record\n",
          o->records, run + 1, r->records_per_sec, (double)r->peak_rss_kb / 1024, *state_mib,
          r->cpu_sec * 1e6 / (double)o->records);
  return 0;
}

/* "1000000,5000000" into keys[]; how many. */
static int parse_keys(const char *list, long keys[BENCH_CARDINALITY_MAX]) {
  int n = 0;
  for (const char *p = list; p && *p && n < BENCH_CARDINALITY_MAX;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v <= 0)
      return -1;
    keys[n++] = v;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return -1;
  }
  return n;
}

int bench_cardinality(const bench_opts_t *base, bench_cardinality_t *res) {
  bench_opts_t o = *base;
  memset(res, 0, sizeof *res);
  res->n = parse_keys(base->keys ? base->keys : "1000000,5000000", res->keys);
  if (res->n <= 0) {
    fprintf(stderr, "weir-bench: --keys %s: give key counts, comma-separated\n", base->keys);
    return -1;
  }
  o.partitions = PARTITIONS;
  int runs = o.runs < 16 ? o.runs : 16;
  for (int k = 0; k < res->n; k++) {
    char in[96];
    double rate[16], rss[16], cpu[16], state[16], rest[16];
    int ok = 0;
    o.records = res->keys[k];
    snprintf(in, sizeof in, "bench-cardinality-in-%d-%ld", (int)getpid(), o.records);
    /* One word a record, each its own: bench_produce_words' W >= records. */
    if (bench_create_topic(&o, in) || bench_produce_words(&o, in, 1000000000))
      return -1;
    for (int run = 0; run < runs; run++) {
      bench_result_t r;
      if (count_once(&o, in, k, run, &r, &state[ok]) == 0) {
        rate[ok] = r.records_per_sec;
        rss[ok] = (double)r.peak_rss_kb / 1024;
        rest[ok] = rss[ok] - state[ok];
        cpu[ok] = r.cpu_sec * 1e6 / (double)o.records;
        ok++;
      }
    }
    if (ok != runs)
      return -1;
    bench_cardinality_row_t *row = &res->rows[k];
    row->rate = bench_median_range(rate, ok, &row->rate_min, &row->rate_max);
    row->rss_mib = bench_median_range(rss, ok, &row->rss_min, &row->rss_max);
    row->cpu_us = bench_median_range(cpu, ok, &row->cpu_min, &row->cpu_max);
    double lo, hi;
    row->state_mib = bench_median_range(state, ok, &lo, &hi);
    row->rest_mib = bench_median_range(rest, ok, &row->rest_min, &row->rest_max);
  }
  res->runs = runs;
  res->ok = 1;
  return 0;
}

void bench_cardinality_markdown(FILE *f, const bench_cardinality_t *r) {
  const bench_cardinality_row_t *first = &r->rows[0], *last = &r->rows[r->n - 1];
  /* Flat: apart from RocksDB, which a larger store fills up to its budget
   * (state.memory.mb), the most keys' peak within FLAT_SLACK_MIB of the
   * fewest's; and RocksDB itself inside its budget. */
  int flat = last->rest_mib <= first->rest_mib + FLAT_SLACK_MIB &&
             last->state_mib <= ROCKSDB_BUDGET_MIB * 1.05;
  fprintf(f,
          "\nMemory against keys (weir only, `--case cardinality`, 6 partitions, `threads = 1`, "
          "commits every 1 s): the word count over inputs where every record is a word of its "
          "own, so its store, changelog and output hold one row per record; median of %d, "
          "min-max in brackets. *RocksDB*: its block cache and memtables at weir's stop (its "
          "stop line), which a larger store fills up to `state.memory.mb` (64); *the rest*: "
          "each run's peak RSS less that. Flat — the rest at the most keys within %d MiB of "
          "the fewest's, and RocksDB inside its budget: %s.\n\n| keys (= records) | weir rec/s "
          "| peak RSS MiB | RocksDB MiB | the rest MiB | CPU µs per record |\n"
          "|---|---|---|---|---|---|\n",
          r->runs, FLAT_SLACK_MIB, flat ? "yes" : "**no**");
  for (int k = 0; k < r->n; k++) {
    const bench_cardinality_row_t *w = &r->rows[k];
    fprintf(f,
            "| %ld | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.0f | %.0f (%.0f-%.0f) | %.2f "
            "(%.2f-%.2f) |\n",
            r->keys[k], w->rate, w->rate_min, w->rate_max, w->rss_mib, w->rss_min, w->rss_max,
            w->state_mib, w->rest_mib, w->rest_min, w->rest_max, w->cpu_us, w->cpu_min, w->cpu_max);
  }
}
