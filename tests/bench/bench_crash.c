/* Restart after a crash under exactly-once (real broker only: the embedded
 * one refuses exactly_once). A word count of distinct words (every record a
 * key of its own, so its changelog holds as many records as it counted) runs
 * under weir's processing.guarantee = exactly_once and under Kafka Streams'
 * exactly_once_v2, both with 100 ms commits and a state directory of their
 * own. Once the store's changelog holds KILL_SHARE of the input, at a seeded
 * random point up to 400 ms later (inside a transaction), the process is
 * killed with SIGKILL and started again on the same state directory. The
 * figure is what the restart restores: its records, and the time from the
 * first store-partition's restore start to the last one's end, from the
 * `restore:` lines of its log (Kafka Streams prints them in weir's shape
 * from a restore listener: KStreamsBench --restore-log). Kafka Streams wipes
 * a task's stores after an unclean stop under exactly-once and restores
 * them in full; weir keeps them, so it reads only what its checkpoint is
 * behind the changelog. Also shown: spawn -> restored, which includes the
 * process start and the group join. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

enum { PARTITIONS = 6, COMMIT_MS = 100, MAX_RUNS = 16, KILL_JITTER_MS = 400 };
static const double KILL_SHARE = 0.5, COMMIT_DEADLINE = 600.0;
static const char STORE[] = "counts";

typedef struct names {
  char out[128], group[128], state[128], ini[160], log1[160], log2[160];
} names_t;

static void make_names(names_t *n, int contender, int run) {
  int id = (int)getpid();
  snprintf(n->out, sizeof n->out, "bench-crash-out-%d-%d-%d", id, contender, run);
  snprintf(n->group, sizeof n->group, "bench-crash-%d-%d-%d", id, contender, run);
  snprintf(n->ini, sizeof n->ini, "/tmp/weir-bench-crash-%d.ini", id);
  snprintf(n->log1, sizeof n->log1, "/tmp/weir-bench-crash-%d-%d-%d-a.log", id, contender, run);
  snprintf(n->log2, sizeof n->log2, "/tmp/weir-bench-crash-%d-%d-%d-b.log", id, contender, run);
}

static pid_t spawn_weir(const bench_opts_t *o, const char *in, const names_t *n, const char *log) {
  char extra[512];
  snprintf(extra, sizeof extra,
           "commit.interval.ms = %d\nprocessing.guarantee = exactly_once\nstate.dir = %s\n",
           COMMIT_MS, n->state);
  bench_weir_ini(o, n->ini, BENCH_WORDCOUNT, n->group, in, n->out, 1, extra);
  char *argv[] = {(char *)o->weir, "run", (char *)n->ini, NULL};
  return bench_spawn(argv, log);
}

/* --until-stopped: the harness decides when it has seen enough. */
static pid_t spawn_kstreams(const bench_opts_t *o, const char *in, const names_t *n,
                            const char *log) {
  char expect[32], parts[16], commit[16];
  snprintf(expect, sizeof expect, "%ld", o->records);
  snprintf(parts, sizeof parts, "%d", PARTITIONS);
  snprintf(commit, sizeof commit, "%d", COMMIT_MS);
  char *argv[] = {"java",
                  "-Xmx1g",
                  "-jar",
                  (char *)o->kstreams_jar,
                  "--bootstrap",
                  (char *)o->bootstrap,
                  "--mode",
                  "wordcount",
                  "--input",
                  (char *)in,
                  "--output",
                  (char *)n->out,
                  "--expect",
                  expect,
                  "--app-id",
                  (char *)n->group,
                  "--partitions",
                  parts,
                  "--threads",
                  "1",
                  "--commit-interval-ms",
                  commit,
                  "--state-dir",
                  (char *)n->state,
                  "--exactly-once",
                  "--until-stopped",
                  "--restore-log",
                  NULL};
  return bench_spawn(argv, log);
}

static pid_t spawn_contender(const bench_opts_t *o, int contender, const char *in, const names_t *n,
                             const char *log) {
  return contender == 0 ? spawn_weir(o, in, n, log) : spawn_kstreams(o, in, n, log);
}

/* Until the store's changelog holds KILL_SHARE of the input's records (1) —
 * the count, not only the split before its repartition topic, is half way —
 * or the child died or the deadline passed (0). */
static int wait_changelog(rd_kafka_t *rk, pid_t child, const char *changelog, long records,
                          double *share) {
  double deadline = bench_now() + COMMIT_DEADLINE;
  while (bench_now() < deadline) {
    *share = (double)bench_end_offsets(rk, changelog, PARTITIONS, NULL) / (double)records;
    if (*share >= KILL_SHARE)
      return 1;
    if (waitpid(child, NULL, WNOHANG) == child)
      return 0;
    usleep(20000); /* a poll of the changelog's end offsets, bounded by the deadline above */
  }
  return 0;
}

/* Run, kill -9 mid-transaction, restart on the same state: the restart's restore. */
static int crash_once(const bench_opts_t *o, int contender, int run, const char *in, unsigned *seed,
                      bench_restore_t *r, double *restart, double *share) {
  names_t n;
  make_names(&n, contender, run);
  char changelog[160];
  rd_kafka_t *c = NULL;
  int rc = -1;
  snprintf(changelog, sizeof changelog, "%s-%s-changelog", n.group, STORE);
  if (bench_create_topic(o, n.out) || bench_state_dir(n.state, sizeof n.state))
    return -1;
  pid_t child = spawn_contender(o, contender, in, &n, n.log1);
  c = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  if (c && wait_changelog(c, child, changelog, o->records, share)) {
    /* Not a wait for anything: where the kill lands, a seeded random point
     * inside the next transactions, as the kill -9 tests ask. */
    usleep((useconds_t)(rand_r(seed) % KILL_JITTER_MS) * 1000);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    fprintf(stderr,
            "weir-bench: crash-restore: %s killed with %.0f%% of the input in its changelog\n",
            contender ? "Kafka Streams" : "weir", *share * 100);
    double spawned = bench_now();
    pid_t again = spawn_contender(o, contender, in, &n, n.log2);
    rc = bench_restore_watch(o, again, n.log2, n.group, STORE, r);
    *restart = r->end - spawned;
  } else {
    fprintf(stderr, "weir-bench: crash-restore: %s never counted half of its input\n",
            contender ? "Kafka Streams" : "weir");
    bench_stop(child, NULL);
  }
  if (c)
    rd_kafka_destroy(c);
  bench_remove_tree(n.state);
  unlink(n.ini);
  if (rc)
    fprintf(stderr, "weir-bench: crash-restore run %d: FAILED; the logs are %s and %s\n", run + 1,
            n.log1, n.log2);
  else if (!getenv("WEIR_BENCH_KEEP_LOG"))
    unlink(n.log1), unlink(n.log2);
  return rc;
}

typedef struct samples {
  int n;
  double share[MAX_RUNS], changelog[MAX_RUNS], restored[MAX_RUNS], seconds[MAX_RUNS],
      restart[MAX_RUNS];
} samples_t;

static void summarize(samples_t *s, bench_crash_side_t *side) {
  side->runs = s->n;
  side->share_at_kill = bench_median_range(s->share, s->n, NULL, NULL);
  side->changelog = bench_median_range(s->changelog, s->n, NULL, NULL);
  side->restored = bench_median_range(s->restored, s->n, NULL, NULL);
  side->seconds = bench_median_range(s->seconds, s->n, &side->seconds_min, &side->seconds_max);
  side->restart = bench_median_range(s->restart, s->n, &side->restart_min, &side->restart_max);
}

int bench_crash(const bench_opts_t *base, bench_crash_t *res) {
  static const char *const who[2] = {"weir", "Kafka Streams"};
  char in[96];
  bench_opts_t o = *base;
  o.partitions = PARTITIONS;
  memset(res, 0, sizeof *res);
  res->records = o.records;
  snprintf(in, sizeof in, "bench-crash-in-%d", (int)getpid());
  if (bench_create_topic(&o, in) || bench_produce_words(&o, in, 1000000000))
    return -1;
  samples_t s[2] = {0};
  int contenders = o.kstreams_jar ? 2 : 1;
  for (int run = 0; run < o.runs && run < MAX_RUNS; run++)
    for (int k = 0; k < contenders; k++) {
      unsigned seed = (unsigned)run + 1; /* the same kill delays for both, run by run */
      bench_restore_t r;
      double restart = 0, share = 0;
      if (crash_once(&o, k, run, in, &seed, &r, &restart, &share))
        continue;
      int i = s[k].n++;
      s[k].share[i] = share, s[k].changelog[i] = (double)r.changelog;
      s[k].restored[i] = (double)r.records, s[k].seconds[i] = r.seconds;
      s[k].restart[i] = restart;
      fprintf(stderr,
              "weir-bench: crash-restore %-13s run %d: killed at %.0f%% counted; restored %lld "
              "of the changelog's %lld records in %.3f s (spawn -> restored %.2f s)\n",
              who[k], run + 1, share * 100, r.records, r.changelog, r.seconds, restart);
    }
  summarize(&s[0], &res->weir);
  summarize(&s[1], &res->kstreams);
  int runs = o.runs < MAX_RUNS ? o.runs : MAX_RUNS;
  res->ok = s[0].n == runs && (contenders == 1 || s[1].n == runs);
  return res->ok ? 0 : -1;
}

static void side_row(FILE *f, const char *name, const bench_crash_side_t *s) {
  fprintf(f, "| %s | %.0f%% | %.0f | %.0f | %.3f (%.3f–%.3f) | %.2f (%.2f–%.2f) |\n", name,
          s->share_at_kill * 100, s->changelog, s->restored, s->seconds, s->seconds_min,
          s->seconds_max, s->restart, s->restart_min, s->restart_max);
}

void bench_crash_markdown(FILE *f, const bench_crash_t *r) {
  fprintf(f,
          "\nRestart after kill -9 under exactly-once (6 partitions, one thread, 100 ms commits, "
          "median of %d runs, min–max in brackets): a count of %ld distinct words (a changelog "
          "record per input record), killed with SIGKILL at a random point up to 0.4 s after "
          "its changelog held half the input, then started again on the same state "
          "directory. *Restore s*: from the first store-partition's restore start to the last "
          "one's end (each contender's own log); *spawn → restored*: includes the process "
          "start and the group join.\n\n"
          "| contender | counted at the kill | changelog records | restored records | "
          "restore s | spawn → restored s |\n|---|---|---|---|---|---|\n",
          r->weir.runs, r->records);
  side_row(f, "weir (`exactly_once`)", &r->weir);
  if (r->kstreams.runs)
    side_row(f, "Kafka Streams (`exactly_once_v2`)", &r->kstreams);
  if (r->kstreams.runs && r->weir.seconds > 0)
    fprintf(f,
            "\nKafka Streams' restore / weir's: %.0f× (goal ≥ 10×: %s); spawn → restored: "
            "%.1f×.\n",
            r->kstreams.seconds / r->weir.seconds,
            r->kstreams.seconds >= 10 * r->weir.seconds ? "met" : "**missed**",
            r->weir.restart > 0 ? r->kstreams.restart / r->weir.restart : 0);
}
