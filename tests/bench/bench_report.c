/* The Markdown that `make bench` puts into tests/bench/RESULTS.md and the
 * README: the throughput table, the restore table, the rebalance table. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* 10000 -> "10,000". */
static void thousands(FILE *f, long n) {
  if (n >= 1000) {
    thousands(f, n / 1000);
    fprintf(f, ",%03ld", n % 1000);
  } else {
    fprintf(f, "%ld", n);
  }
}

static void number(FILE *f, double v, int decimals) {
  if (decimals == 0)
    thousands(f, (long)(v + 0.5));
  else
    fprintf(f, "%.*f", decimals, v);
}

void bench_spread_cell(FILE *f, double median, double min, double max, int decimals) {
  number(f, median, decimals);
  /* Runs that agree to the digits shown need no brackets. */
  char lo[64], hi[64];
  snprintf(lo, sizeof lo, "%.*f", decimals, min);
  snprintf(hi, sizeof hi, "%.*f", decimals, max);
  if (strcmp(lo, hi) == 0)
    return;
  fputs(" (", f);
  number(f, min, decimals);
  fputs("–", f);
  number(f, max, decimals);
  fputc(')', f);
}

void bench_rate_cell(FILE *f, const bench_result_t *r) {
  if (r->ok)
    bench_spread_cell(f, r->records_per_sec, r->rate_min, r->rate_max, 0);
  else
    fputs("n/a", f);
}

void bench_cpu_cell(FILE *f, const bench_result_t *r, double records) {
  if (r->ok && records > 0)
    bench_spread_cell(f, r->cpu_sec * 1e6 / records, r->cpu_min * 1e6 / records,
                      r->cpu_max * 1e6 / records, 2);
  else
    fputs("n/a", f);
}

/* "n/a" also when a run lacks it: its min is then < 0 (sorted). */
static void broker_cpu_cell(FILE *f, const bench_result_t *r, double records) {
  if (r->ok && records > 0 && r->broker_cpu_min >= 0)
    bench_spread_cell(f, r->broker_cpu_sec * 1e6 / records, r->broker_cpu_min * 1e6 / records,
                      r->broker_cpu_max * 1e6 / records, 2);
  else
    fputs("n/a", f);
}

void bench_rss_cell(FILE *f, const bench_result_t *r) {
  if (r->ok)
    bench_spread_cell(f, (double)r->peak_rss_kb / 1024.0, (double)r->rss_min_kb / 1024.0,
                      (double)r->rss_max_kb / 1024.0, 0);
  else
    fputs("n/a", f);
}

/* The first line of /proc/cpuinfo's `model name`, into buf. */
static void cpu_model(char *buf, size_t size) {
  snprintf(buf, size, "unknown CPU");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) == 0 && colon) {
      colon += 1 + strspn(colon + 1, " \t");
      colon[strcspn(colon, "\n")] = '\0';
      snprintf(buf, size, "%s", colon);
      break;
    }
  }
  fclose(f);
}

void bench_machine_line(FILE *f, const bench_opts_t *o) {
  char cpu[256], date[64], load[64] = "?";
  struct utsname u;
  time_t now = time(NULL);
  struct tm tm;
  cpu_model(cpu, sizeof cpu);
  if (uname(&u))
    snprintf(u.release, sizeof u.release, "?");
  strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime_r(&now, &tm));
  FILE *la = fopen("/proc/loadavg", "r");
  if (la) {
    if (fscanf(la, "%63s", load) != 1)
      snprintf(load, sizeof load, "?");
    fclose(la);
  }
  double gib = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / (1 << 30);
  fprintf(f,
          "Machine: %s, %ld cores (nproc), %.0f GiB, Linux %s; librdkafka %s; broker: %s; "
          "%s, load average %s when the tables were written (the machine is shared).\n\n",
          cpu, sysconf(_SC_NPROCESSORS_ONLN), gib, u.release, rd_kafka_version_str(),
          o->broker_label, date, load);
}

/* weir against column `col`: the median of the runs' own ratios, and their
 * spread (bench_paired_t says why not the ratio of the medians). */
static void ratio(FILE *f, const bench_result_t *weir, int col) {
  const bench_paired_t *p = &weir->against[col];
  fputc(' ', f);
  if (p->ok)
    bench_spread_cell(f, p->rate, p->rate_min, p->rate_max, 2);
  else
    fputs("n/a", f);
  fputs(" |", f);
}

static const char *met(int ok) {
  return ok ? "met" : "**missed**";
}

/* A ratio at two decimals can read as the goal itself (0.896 shows as 0.90
 * beside "≥ 0.9: missed"): then it gets a third, so the verdict reads true. */
static int goal_digits(double value, double goal) {
  return fabs(round(value * 100) / 100 - goal) < 1e-9 ? 3 : 2;
}

/* " (0.896)" after a rate goal's verdict, only where the table's two
 * decimals would show the goal. */
static void goal_tie(FILE *f, const bench_paired_t *p, double goal) {
  if (p->ok && goal_digits(p->rate, goal) == 3)
    fprintf(f, " (%.3f)", p->rate);
}

/* "≥ 0.6: met", then each other goal the case asks, "; "-separated; "—":
 * none. Rates and CPU by the runs' own ratios (bench_paired_t), memory by
 * the medians. */
static void goal_cell(FILE *f, const bench_case_t *c, const bench_result_t res[BENCH_TABLE_COLS]) {
  const bench_result_t *weir = &res[1], *ks = &res[2];
  const bench_paired_t *loop = &weir->against[0], *vs_ks = &weir->against[2],
                       *two = &weir->against[BENCH_TWOHOP];
  const char *sep = " ";
  if (c->goal > 0) {
    fprintf(f, "%s≥ %.1f: %s", sep, c->goal, loop->ok ? met(loop->rate >= c->goal) : "n/a");
    goal_tie(f, loop, c->goal);
    sep = "; ";
  }
  if (c->twohop_goal > 0) {
    fprintf(f, "%s≥ %.1f of the two-hop loop: %s", sep, c->twohop_goal,
            two->ok ? met(two->rate >= c->twohop_goal) : "n/a");
    goal_tie(f, two, c->twohop_goal);
    sep = "; ";
  }
  if (c->ahead_of_ks) {
    fprintf(f, "%sahead of Kafka Streams: %s", sep, vs_ks->ok ? met(vs_ks->rate > 1) : "n/a");
    sep = "; ";
  }
  if (c->ks_goal > 0) {
    fprintf(f, "%s≥ %.0f× Kafka Streams: %s", sep, c->ks_goal,
            vs_ks->ok ? met(vs_ks->rate >= c->ks_goal) : "n/a");
    goal_tie(f, vs_ks, c->ks_goal);
    sep = "; ";
  }
  /* A case held to a rate against Kafka Streams is held to less memory too. */
  double rss_goal = c->rss_ks_goal > 0 ? c->rss_ks_goal : c->ks_goal > 0 ? 1 : 0;
  if (rss_goal > 0) {
    if (rss_goal > 1)
      fprintf(f, "%speak RSS ≤ 1/%.0f of Kafka Streams': ", sep, rss_goal);
    else
      fprintf(f, "%speak RSS below it: ", sep);
    fputs(weir->ok && ks->ok ? met(weir->peak_rss_kb * rss_goal <= ks->peak_rss_kb) : "n/a", f);
    sep = "; ";
  }
  if (c->cpu_loop_goal > 0) {
    fprintf(f, "%sCPU ≤ %.2f× the loop's: ", sep, c->cpu_loop_goal);
    if (loop->ok)
      fprintf(f, "%s (%.*f×, runs %.2f–%.2f)", met(loop->cpu <= c->cpu_loop_goal),
              goal_digits(loop->cpu, c->cpu_loop_goal), loop->cpu, loop->cpu_min, loop->cpu_max);
    else
      fputs("n/a", f);
    sep = "; ";
  }
  if (c->cpu_ks_goal > 0) {
    fprintf(f, "%sCPU ≤ 1/%.0f of Kafka Streams': ", sep, c->cpu_ks_goal);
    /* As fractions of Kafka Streams' CPU: the lowest ratio is the largest 1/x. */
    if (vs_ks->ok)
      fprintf(f, "%s (1/%.1f, runs 1/%.1f–1/%.1f)", met(vs_ks->cpu * c->cpu_ks_goal <= 1),
              1 / vs_ks->cpu, 1 / vs_ks->cpu_max, 1 / vs_ks->cpu_min);
    else
      fputs("n/a", f);
    sep = "; ";
  }
  fputs(*sep == ' ' ? " — |" : " |", f);
}

static void case_label(FILE *f, const bench_case_t *c, long records) {
  if (c->window_ms) {
    fprintf(f, "| %s (tumbling %d s, final results, ", c->name, c->window_ms / 1000);
    thousands(f, c->window_keys);
    fprintf(f, " keys) |");
  } else if (c->words >= records) {
    fprintf(f, "| %s (every word distinct) |", c->name);
  } else if (c->words) {
    fprintf(f, "| %s (", c->name);
    thousands(f, c->words);
    fprintf(f, " words) |");
  } else {
    fprintf(f, "| %s |", c->name);
  }
}

static void throughput_row(FILE *f, const bench_report_t *r, size_t i) {
  const bench_case_t *c = &r->cases[i];
  const bench_result_t *res = r->res[i];
  case_label(f, c, r->records[i]);
  fprintf(f, " %d | %d | ", c->partitions, c->threads);
  thousands(f, r->records[i]);
  fputs(" |", f);
  for (int col = 0; col < BENCH_TABLE_COLS; col++) {
    fputc(' ', f);
    if (col == BENCH_TWOHOP && !c->twohop)
      fputs("—", f);
    else
      bench_rate_cell(f, &res[col]);
    fputs(" |", f);
  }
  ratio(f, &res[1], 0);
  if (c->twohop)
    ratio(f, &res[1], BENCH_TWOHOP);
  else
    fprintf(f, " — |");
  goal_cell(f, c, res);
  ratio(f, &res[1], 2);
  fputc('\n', f);
}

static const char *const contender[BENCH_TABLE_COLS] = {"loop", "weir", "Kafka Streams",
                                                        "two-hop loop"};

/* What each contender of each case cost: one row a contender that ran. */
static void cost_table(FILE *f, const bench_opts_t *o, const bench_report_t *r) {
  fprintf(f, "\nCost (the same runs; median, min–max in brackets): CPU is user + system time of "
             "the process from spawn to stop over the records, peak RSS its largest resident "
             "set (CPU from wait4(), peak RSS the process's VmHWM in /proc, read until it "
             "exits); *broker CPU*: the Kafka broker's (on the same machine's cores) from the "
             "contender's spawn to its stop, its start included, from the broker's /proc stat "
             "(n/a on the embedded broker); *start s*: spawn to its first output record "
             "(median).\n\n");
  fprintf(f, "| case | partitions | threads | contender | CPU µs per record | broker CPU µs per "
             "record | peak RSS MiB | start s |\n");
  fprintf(f, "|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < r->ncases; i++) {
    if (!r->ran[i] || r->cases[i].restore_only)
      continue;
    for (int col = 0; col < BENCH_TABLE_COLS; col++) {
      const bench_result_t *x = &r->res[i][col];
      if (!x->ok)
        continue;
      case_label(f, &r->cases[i], r->records[i]);
      fprintf(f, " %d | %d | %s", r->cases[i].partitions, r->cases[i].threads, contender[col]);
      if (col == 2 && !r->cases[i].window_ms)
        fprintf(f, " (-Xmx%s)", bench_kstreams_heap(o, &r->cases[i]));
      fputs(" | ", f);
      bench_cpu_cell(f, x, (double)r->records[i]);
      fputs(" | ", f);
      broker_cpu_cell(f, x, (double)r->records[i]);
      fputs(" | ", f);
      bench_rss_cell(f, x);
      fprintf(f, " | %.1f |\n", x->startup_sec);
    }
  }
}

static void throughput_table(FILE *f, const bench_opts_t *o, const bench_report_t *r) {
  fprintf(
      f, "Threads: weir's `threads`, as many consumer/producer pairs (one per thread) in the loop, "
         "Kafka Streams' stream threads; every thread is its own member of the group. "
         "Two-hop: the word count's ceiling (below). Rates: the median, and in brackets the "
         "slowest and fastest run. Ratios (weir / loop, weir / two-hop, weir / Kafka Streams) "
         "and the goals on rate and CPU: the median of the runs' own ratios — weir's run k "
         "against the other's run k, which ran just before or after it, so the two saw the "
         "same machine — with the lowest and highest in brackets; the goals on memory: the "
         "medians. Goal: the ratios the case is held to.\n\n");
  fprintf(f, "| case | partitions | threads | records | loop rec/s | weir rec/s | Kafka Streams "
             "rec/s | two-hop loop rec/s | weir / loop | weir / two-hop "
             "| goal | weir / Kafka Streams |\n");
  fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < r->ncases; i++)
    if (r->ran[i] && !r->cases[i].restore_only)
      throughput_row(f, r, i);
  cost_table(f, o, r);
}

/* The distinct words of the word-count rows of the table; 0: none ran. */
static int table_words(const bench_report_t *r) {
  for (size_t i = 0; i < r->ncases; i++)
    if (r->ran[i] && r->cases[i].words && !r->cases[i].restore_only)
      return r->cases[i].words;
  return 0;
}

static void words_note(FILE *f, int words) {
  fprintf(f, "\nWord count: each input record is one of ");
  thousands(f, words);
  fprintf(
      f,
      " words (`w0`, `w1`, ... zero-padded, in a fixed pseudo-random sequence) with a NULL "
      "key, so the count repartitions by word. weir: `std` split → "
      "`std` count with `group.by = value` into a kv store, a sink with `value.serde = int64`; "
      "Kafka Streams: `flatMapValues` (split on whitespace) → `groupBy` word → "
      "`count(Materialized.as(\"counts\"))` (RocksDB, the default record cache) → `toStream()` → "
      "`to(output, Long)`; both with one thread and `commit.interval.ms = 1000`. On a real "
      "broker the word counts run on five times the other cases' records: their counts come "
      "out at commits, so a run of about a second was timed to within one. A store's cache "
      "sends one update per key per commit, so the harness reads the output and a run is done "
      "when the latest count of every word adds up to the records. Throughput: the records over "
      "the time from the first record in the application's repartition topic (processing has "
      "begun, seen from outside: the harness asks for the topic's end offsets every few ms and "
      "takes the last time it found none) to the count that completed the sum; not from the "
      "first count, "
      "which waits for a commit and comes after very different shares of the input (Kafka "
      "Streams: ~40%%), and *start s* is spawn to that first repartitioned record. The loop "
      "forwards the same input as it is (done at as many output records, timed as above): the "
      "ceiling of reading and writing it once. The two-hop loop (`weir-bench twohop`, the loop's "
      "clients and tuning, one consumer and one producer on one thread as weir's `threads = 1`) "
      "puts the same records through the same topics as weir: it splits each input record on "
      "spaces and produces each word to a repartition topic keyed by it, reads that topic back, "
      "counts each word in a hash table in memory and, every commit interval, produces the words "
      "counted since the last to a changelog topic and the output (8-byte counts, as weir's "
      "cache flushes at a commit); it has no store, tasks or commits. Timed as weir, from its "
      "first repartitioned record to its output's counts adding up to the input.\n");
}

static void restore_row(FILE *f, const bench_case_t *c, long records, const bench_restore_t *x) {
  case_label(f, c, records);
  fprintf(f, " %ld |", records);
  if (x->process_rate > 0)
    fprintf(f, " %.0f |", x->process_rate);
  else
    fprintf(f, " n/a |");
  if (x->ok)
    fprintf(f, " %lld | %lld | %d | %.3f | %.0f |", x->changelog, x->records, x->partitions,
            x->seconds, x->rate);
  else
    fprintf(f, " n/a | n/a | n/a | n/a | n/a |");
  if (!c->restore_goal) {
    fprintf(f, " — |\n");
    return;
  }
  fprintf(f, " ≥ ");
  thousands(f, c->restore_goal);
  fprintf(f, ": %s |\n", x->ok ? met(x->rate >= c->restore_goal) : "n/a");
}

static void restore_table(FILE *f, const bench_opts_t *o, const bench_report_t *r) {
  int any = 0;
  for (size_t i = 0; i < r->ncases; i++)
    any |= r->ran[i] && r->cases[i].store != NULL && !r->cases[i].no_restore;
  if (!any)
    return;
  fprintf(
      f,
      "\nRestore (weir only, `threads = 1`; median of %d): after a weir run of the case, "
      "`weir run` again on the same application.id with an empty state.dir restores every "
      "store-partition from its changelog. Time: from the first store-partition's restore start "
      "to the last one's end, from weir's `restore:` log lines (start-up and group join are not "
      "in it). The word count's changelog holds about one record per word per commit; the "
      "restore case counts every record as a distinct word, so that its changelog holds "
      "as many records to restore. *weir rec/s counting*: the run that filled the changelog.\n\n",
      o->runs);
  fprintf(f,
          "| case | records counted | weir rec/s counting | changelog records | restored records "
          "| store-partitions | restore s | restore rec/s | goal |\n");
  fprintf(f, "|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < r->ncases; i++)
    if (r->ran[i] && r->cases[i].store && !r->cases[i].no_restore)
      restore_row(f, &r->cases[i], r->records[i], &r->restore[i]);
}

static void rebalance_table(FILE *f, const bench_rebalance_t *rb, int partitions) {
  fprintf(
      f,
      "\nRebalance (weir only, %d partitions, `threads = 1`; %s of %d run%s): "
      "instance A processes a steady %d records/s; a second `weir run` with the same "
      "application.id is started. *Join* is the moment the harness spawns it. *Assigned*: "
      "both instances have logged `rebalance: gained tasks` since the join and those last "
      "lines cover all %d partitions (times from the logs). *Resumed*: every output partition "
      "(the input's keys and partitioner map input partition p to output partition p) has grown "
      "past its end offset at *assigned* — every task processes again. *Stall*: the longest time "
      "one output partition did not grow. Records in / out: summed over the runs; out > in are "
      "records processed twice (at-least-once), out < in would be a loss.\n\n",
      partitions, rb->runs > 1 ? "median" : "the figures", rb->runs,
      rb->runs > 1 ? "s, min–max in brackets; A warms up 2 s, 3 s, ... so the runs fall at "
                     "different points of its 3 s heartbeat cycle"
                   : "",
      rb->rate, partitions);
  fprintf(
      f,
      "| join → assigned s | join → resumed s | longest partition stall s | records in / out |\n");
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

void bench_write_report(const bench_opts_t *o, const bench_report_t *r) {
  FILE *f = o->markdown ? fopen(o->markdown, "w") : NULL;
  if (!f)
    f = stdout;
  int words = table_words(r);
  fprintf(f, "#### %s — records of %d bytes%s, median of %d\n\n", o->broker_label, o->value_size,
          words ? " (the word count's: one word)" : "", o->runs);
  bench_machine_line(f, o);
  throughput_table(f, o, r);
  if (words)
    words_note(f, words);
  restore_table(f, o, r);
  if (r->rb)
    rebalance_table(f, r->rb, r->rebalance_partitions);
  if (f != stdout)
    fclose(f);
}
