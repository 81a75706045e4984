/* Retention over time (real broker only: the embedded one drops a
 * partition's oldest records past 5 MiB). A tumbling 60 s count with
 * emit = final whose store keeps RETENTION_MS, over an input whose event time
 * spans PERIODS retention periods: the windows of the first periods must go
 * (whole segments dropped, their files compacted away) as the later ones
 * come, so weir's RSS and its state directory stay flat. Sampled every
 * 100 ms from outside: /proc/PID/status and the state directory's blocks,
 * against the share of the input the group has committed. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

enum { WINDOW_MS = 60000, RETENTION_MS = 600000, PERIODS = 100, KEYS = 1000, PARTITIONS = 6 };

static const char TOPOLOGY[] =
    "[source:in]\ntopic = %s\nkey.serde = string\nvalue.serde = string\n"
    "[operator:windows]\nplugin = std\ntype = window\ninput = in\nwindow = tumbling\n"
    "size = 60000\ngrace = 0\nfunction = count\nemit = final\nstore = windows\n"
    "[store:windows]\ntype = window\nwindow.size.ms = 60000\nretention.ms = 600000\n"
    "[sink:out]\ninput = windows\ntopic = %s\nvalue.serde = int64\n";

static long long tree_bytes;

static int add_blocks(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)path, (void)flag, (void)ftw;
  tree_bytes += (long long)st->st_blocks * 512;
  return 0;
}

static double disk_mib(const char *dir) {
  tree_bytes = 0;
  nftw(dir, add_blocks, 16, FTW_PHYS);
  return (double)tree_bytes / (1 << 20);
}

static double rss_mib(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  double kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0)
      kb = atof(line + 6);
  if (f)
    fclose(f);
  return kb / 1024;
}

int bench_retention(const bench_opts_t *base, bench_retention_t *res) {
  char in[96], out[96], group[96], ini[128], log[128], state[128];
  bench_opts_t o = *base;
  int id = (int)getpid();
  o.partitions = PARTITIONS;
  o.records = base->records * 2; /* each tenth long enough to be sampled */
  memset(res, 0, sizeof *res);
  res->records = o.records;
  res->periods = PERIODS;
  snprintf(in, sizeof in, "bench-retention-in-%d", id);
  snprintf(out, sizeof out, "bench-retention-out-%d", id);
  snprintf(group, sizeof group, "bench-retention-%d", id);
  snprintf(ini, sizeof ini, "/tmp/weir-bench-retention-%d.ini", id);
  snprintf(log, sizeof log, "/tmp/weir-bench-retention-%d.log", id);
  if (bench_create_topic(&o, in) || bench_create_topic(&o, out) ||
      bench_produce_windowed_span(&o, in, KEYS, WINDOW_MS, PERIODS * (RETENTION_MS / WINDOW_MS)) ||
      bench_state_dir(state, sizeof state))
    return -1;
  /* The samples are placed by committed offsets: at 1 s commits a run of
   * ~2 s put them in two or three tenths, and the flat check had no early
   * sample to compare with (2026-12-05). At 100 ms nine tenths of ten had
   * samples (the run takes 3.7 s instead of 2.1). */
  char extra[256];
  snprintf(extra, sizeof extra, "commit.interval.ms = 100\nstate.dir = %s\n", state);
  bench_weir_ini(&o, ini, TOPOLOGY, group, in, out, 1, extra);
  rd_kafka_t *c = bench_client(RD_KAFKA_CONSUMER, o.bootstrap, group);
  long long end = c ? bench_end_offsets(c, in, PARTITIONS, NULL) : 0;
  char *argv[] = {(char *)o.weir, "run", ini, NULL};
  double started = bench_now(), deadline = started + 1800, share = 0;
  pid_t child = bench_spawn(argv, log);
  while (c && share < 1 && bench_now() < deadline) {
    usleep(100000); /* the sampling period; the loop ends on the committed offsets */
    share = bench_committed_share(c, in, PARTITIONS, end);
    int tenth = share >= 1 ? BENCH_RETENTION_SAMPLES - 1 : (int)(share * BENCH_RETENTION_SAMPLES);
    double rss = rss_mib(child), disk = disk_mib(state);
    if (rss > res->rss_mib[tenth])
      res->rss_mib[tenth] = rss;
    if (disk > res->disk_mib[tenth])
      res->disk_mib[tenth] = disk;
  }
  res->seconds = bench_now() - started;
  bench_stop(child, NULL);
  if (c)
    rd_kafka_destroy(c);
  res->ok = share >= 1;
  bench_remove_tree(state);
  unlink(ini);
  if (res->ok)
    unlink(log);
  fprintf(stderr, "weir-bench: retention: %ld records over %d retention periods in %.1f s%s\n",
          res->records, PERIODS, res->seconds, res->ok ? "" : " (FAILED: its log is kept)");
  for (int i = 0; i < BENCH_RETENTION_SAMPLES; i++)
    fprintf(stderr, "weir-bench: retention: input %3d%%: RSS %.1f MiB, state dir %.1f MiB\n",
            (i + 1) * 10, res->rss_mib[i], res->disk_mib[i]);
  return res->ok ? 0 : -1;
}

void bench_retention_markdown(FILE *f, const bench_retention_t *r) {
  double rss_early = 0, rss_late = 0, disk_early = 0, disk_late = 0;
  for (int i = 1; i < BENCH_RETENTION_SAMPLES; i++) {
    double *rss = i < BENCH_RETENTION_SAMPLES / 2 ? &rss_early : &rss_late;
    double *disk = i < BENCH_RETENTION_SAMPLES / 2 ? &disk_early : &disk_late;
    *rss = r->rss_mib[i] > *rss ? r->rss_mib[i] : *rss;
    *disk = r->disk_mib[i] > *disk ? r->disk_mib[i] : *disk;
  }
  /* A half without a sample (a run too short for its commits) is not judged. */
  int judged = rss_early > 0 && rss_late > 0;
  int flat = judged && rss_late <= rss_early * 1.25 && disk_late <= disk_early * 1.25;
  fprintf(f,
          "\nWindow retention over time (weir only, 6 partitions, `threads = 1`): a tumbling "
          "60 s count, emit = final, store retention 10 min, over %ld records of %d keys "
          "whose event time spans %d retention periods (%.1f s to process). The largest RSS "
          "and state directory seen in each tenth of the input (by the group's committed "
          "offsets). Flat — the second half's largest at most 1.25× the first half's (its "
          "first tenth, the start, aside): %s.\n\n| input | ",
          r->records, KEYS, r->periods, r->seconds,
          !judged ? "not judged (a half has no sample)"
          : flat  ? "yes"
                  : "**no**");
  for (int i = 0; i < BENCH_RETENTION_SAMPLES; i++)
    fprintf(f, "%d%% | ", (i + 1) * 10);
  fprintf(f, "\n|---|");
  for (int i = 0; i < BENCH_RETENTION_SAMPLES; i++)
    fprintf(f, "---|");
  fprintf(f, "\n| RSS MiB | ");
  for (int i = 0; i < BENCH_RETENTION_SAMPLES; i++)
    fprintf(f, r->rss_mib[i] > 0 ? "%.0f | " : "— | ", r->rss_mib[i]);
  fprintf(f, "\n| state dir MiB | ");
  for (int i = 0; i < BENCH_RETENTION_SAMPLES; i++)
    fprintf(f, r->disk_mib[i] > 0 ? "%.1f | " : "— | ", r->disk_mib[i]);
  fprintf(f, "\n");
}
