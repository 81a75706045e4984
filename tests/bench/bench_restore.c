/* Restore speed: how fast a weir with no local state rebuilds its stores
 * from their changelog topics.
 *
 * The harness runs weir again on the application.id of a finished run, with
 * a fresh (empty) state.dir, so every store-partition restores in full. weir
 * logs one line per store-partition when its restore ends:
 *   restore: store 'NAME' partition P: N records from offset A to B in T ms
 * The restore is done when every partition of `<application.id>-NAME-changelog`
 * that holds records has such a line. The figure: the records of those lines
 * over the time from the earliest start (a line's time minus its T) to the
 * latest end — the log's own millisecond timestamps, so the process start-up
 * and group join before the restore are not in it. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

enum { MAX_PARTITIONS = 256 };
static const double RESTORE_DEADLINE = 300.0;

int bench_state_dir(char *path, size_t size) {
  snprintf(path, size, "/tmp/weir-bench-state-XXXXXX");
  return mkdtemp(path) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(path);
}

void bench_remove_tree(const char *path) {
  nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The changelog's partitions, which of them hold records, and how many in all. */
static int changelog_extent(const bench_opts_t *o, const char *topic, int has[MAX_PARTITIONS],
                            long long *records) {
  const rd_kafka_metadata_t *md = NULL;
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  rd_kafka_topic_t *t = rk ? rd_kafka_topic_new(rk, topic, NULL) : NULL;
  int parts = -1;
  if (t && rd_kafka_metadata(rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    parts =
        md->topics[0].partition_cnt < MAX_PARTITIONS ? md->topics[0].partition_cnt : MAX_PARTITIONS;
  *records = 0;
  for (int p = 0; p < parts; p++) {
    int64_t lo = 0, hi = 0;
    has[p] = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000) == 0 && hi > lo;
    *records += has[p] ? hi - lo : 0;
  }
  if (md)
    rd_kafka_metadata_destroy(md);
  if (t)
    rd_kafka_topic_destroy(t);
  if (rk)
    rd_kafka_destroy(rk);
  if (parts < 0)
    fprintf(stderr, "weir-bench: no changelog topic %s to restore from\n", topic);
  return parts;
}

typedef struct restored {
  int seen;
  long long records, from, to;
  double start, end; /* wall-clock s, from the log */
} restored_t;

/* The last `restore:` line of each partition of `store` in `log`. */
static void scan_log(const char *log, const char *store, restored_t got[MAX_PARTITIONS]) {
  char line[4096], name[256];
  FILE *f = fopen(log, "r");
  memset(got, 0, sizeof(restored_t) * MAX_PARTITIONS);
  while (f && fgets(line, sizeof line, f)) {
    const char *m = strstr(line, "restore: store '");
    long long n, from, to, ms;
    int p;
    double t = m ? bench_log_time(line) : -1;
    if (t < 0 || sscanf(m,
                        "restore: store '%255[^']' partition %d: %lld records from offset %lld to "
                        "%lld in %lld ms",
                        name, &p, &n, &from, &to, &ms) != 6)
      continue;
    if (strcmp(name, store) == 0 && p >= 0 && p < MAX_PARTITIONS)
      got[p] = (restored_t){1, n, from, to, t - (double)ms / 1000.0, t};
  }
  if (f)
    fclose(f);
}

static int all_restored(const int has[], const restored_t got[], int parts) {
  for (int p = 0; p < parts; p++)
    if (has[p] && !got[p].seen)
      return 0;
  return 1;
}

/* A partition's records: as logged, but never more than its offset range
 * holds — a miscount must not inflate the rate. */
static long long records_of(const restored_t *g, int p) {
  if (g->records <= g->to - g->from)
    return g->records;
  fprintf(stderr,
          "weir-bench: restore of partition %d logged %lld records from offset %lld to %lld: "
          "counting %lld\n",
          p, g->records, g->from, g->to, g->to - g->from);
  return g->to - g->from;
}

/* Wall-clock seconds, the clock of the log's timestamps. */
static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The figures of the partitions that held records. */
static void summarize(const int has[], const restored_t got[], int parts, bench_restore_t *r) {
  double start = 0, end = 0;
  for (int p = 0; p < parts; p++) {
    if (!has[p])
      continue;
    r->partitions++;
    r->records += records_of(&got[p], p);
    start = !start || got[p].start < start ? got[p].start : start;
    end = got[p].end > end ? got[p].end : end;
  }
  /* The log has millisecond times: a restore inside one millisecond is 1 ms. */
  r->seconds = end - start > 0.001 ? end - start : 0.001;
  r->end = end - wall_now() + bench_now(); /* from the log's clock to bench_now()'s */
  r->rate = (double)r->records / r->seconds;
  r->ok = r->partitions > 0;
}

int bench_restore_watch(const bench_opts_t *o, pid_t child, const char *log, const char *group,
                        const char *store, bench_restore_t *r) {
  static int has[MAX_PARTITIONS];
  static restored_t got[MAX_PARTITIONS];
  char changelog[512];
  snprintf(changelog, sizeof changelog, "%s-%s-changelog", group, store);
  memset(r, 0, sizeof *r);
  int parts = changelog_extent(o, changelog, has, &r->changelog);
  const char *why = parts < 0 ? "no changelog" : r->changelog == 0 ? "an empty changelog" : NULL;
  double deadline = bench_now() + RESTORE_DEADLINE;
  while (!why) {
    scan_log(log, store, got);
    if (all_restored(has, got, parts))
      break;
    if (waitpid(child, NULL, WNOHANG) == child)
      why = "weir exited";
    else if (bench_now() > deadline)
      why = "out of time";
    else
      usleep(100000);
  }
  if (!why || strcmp(why, "weir exited") != 0)
    bench_stop(child, NULL);
  if (why) {
    fprintf(stderr, "weir-bench: restore of %s: %s\n", changelog, why);
    return -1;
  }
  summarize(has, got, parts, r);
  return r->ok ? 0 : -1;
}
