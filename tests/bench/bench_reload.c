/* The hot swap under full load (real broker only): weir forwards a backlog
 * through a std filter while the harness changes the filter's pattern
 * between two equivalent values and runs `weir reload` every SPACING
 * seconds. Each swap loads every plugin from a fresh staged copy and moves
 * the filter's instances on every task. Measured: the longest a thread (so
 * each of its tasks) stood still for one swap, from weir's own log line,
 * and the run's output rate against the same run without swaps. (A rate in
 * short windows says nothing here: librdkafka 2.0.2's fetcher delivers a
 * backlog in bursts about a second apart, swaps or not.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

enum { SWAPS = 8 };
/* At most this far apart; closer when the backlog would not outlast them
 * (at 1.6 M records/s weir went through 3,000,000 records before the 8th
 * swap 0.25 s apart, and the run failed with 7 swaps logged). */
#define SPACING 0.25

static const char TOPOLOGY[] =
    "[source:in]\ntopic = %s\n"
    "[operator:f]\nplugin = std\ntype = filter\ninput = in\npattern = %s\n"
    "[sink:out]\ninput = f\ntopic = %s\n";

static void write_ini(const bench_opts_t *o, const char *path, const char *group, const char *in,
                      const char *out, const char *state, int swap) {
  char topology[512], extra[300];
  /* Two patterns that keep every record: the parameter changes, the output does not. */
  snprintf(topology, sizeof topology, TOPOLOGY, "%s", swap % 2 ? ".?" : ".", "%s");
  snprintf(extra, sizeof extra, "commit.interval.ms = 1000\nstate.dir = %s\n", state);
  bench_weir_ini(o, path, topology, group, in, out, 1, extra);
}

static int reload(const bench_opts_t *o, const char *ini) {
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl(o->weir, o->weir, "reload", ini, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The swaps' "longest task pause N us" from weir's log; how many found. */
static int read_pauses(const char *log, double *pause_us, int max) {
  FILE *f = fopen(log, "r");
  char line[2048];
  int n = 0;
  while (f && fgets(line, sizeof line, f) && n < max) {
    const char *p = strstr(line, "longest task pause ");
    if (strstr(line, "reloaded: version") && p)
      pause_us[n++] = atof(p + strlen("longest task pause "));
  }
  if (f)
    fclose(f);
  return n;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One run over a fresh backlog, `swaps` swaps in it. Output records/s from
 * the first output record to the last; 0 on failure. */
static double one_run(const bench_opts_t *base, int run, int swaps, double spacing, double *pauses,
                      int *found) {
  char in[96], out[96], group[96], ini[128], log[128], state[128], cmd[200];
  bench_opts_t o = *base;
  int id = (int)getpid();
  snprintf(in, sizeof in, "bench-reload-in-%d-%d", id, run);
  snprintf(out, sizeof out, "bench-reload-out-%d-%d", id, run);
  snprintf(group, sizeof group, "bench-reload-%d-%d", id, run);
  snprintf(ini, sizeof ini, "/tmp/weir-bench-reload-%d.ini", id);
  snprintf(log, sizeof log, "/tmp/weir-bench-reload-%d.log", id);
  snprintf(state, sizeof state, "/tmp/weir-bench-reload-%d.state", id);
  if (bench_create_topic(&o, in) || bench_create_topic(&o, out) || bench_produce_input(&o, in))
    return 0;
  write_ini(&o, ini, group, in, out, state, 0);
  char *argv[] = {(char *)o.weir, "run", ini, NULL};
  pid_t child = bench_spawn(argv, log);
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o.bootstrap, NULL);
  int done = 0, failed = 0;
  long long count = 0;
  double deadline = bench_now() + 300, next_swap = 0, first = 0, last = 0;
  while (bench_now() < deadline && count < o.records) {
    count = bench_end_offsets(rk, out, o.partitions, NULL);
    last = bench_now();
    if (count > 0 && !first)
      first = last;
    if (count > o.records / 10 && done < swaps && last >= next_swap) {
      write_ini(&o, ini, group, in, out, state, done + 1);
      failed |= reload(&o, ini) != 0;
      done++;
      next_swap = bench_now() + spacing;
    }
    usleep(10000);
  }
  rd_kafka_destroy(rk);
  bench_stop(child, NULL);
  *found = read_pauses(log, pauses, swaps);
  snprintf(cmd, sizeof cmd, "rm -rf %s", state);
  if (system(cmd) != 0)
    fprintf(stderr, "weir-bench: could not remove %s\n", state);
  unlink(ini);
  if (failed || *found != swaps || count != o.records) {
    fprintf(stderr,
            "weir-bench: reload run %d FAILED: %d of %d swaps logged, %lld of %ld records; "
            "its log is %s\n",
            run, *found, swaps, count, o.records, log);
    return 0;
  }
  unlink(log);
  return last > first ? (double)o.records / (last - first) : 0;
}

int bench_reload(const bench_opts_t *base, bench_reload_t *res) {
  double pauses[SWAPS];
  int found = 0;
  bench_opts_t o = *base;
  o.partitions = 6;
  o.records = base->records * 3; /* a backlog that outlasts the swaps */
  memset(res, 0, sizeof *res);
  res->records = o.records;
  res->steady_rate = one_run(&o, 0, 0, 0, pauses, &found);
  /* The swaps over the backlog's 10%-70%, as the run without them went. */
  double span = res->steady_rate > 0 ? 0.6 * (double)o.records / res->steady_rate : 0;
  res->spacing = span > 0 && span / SWAPS < SPACING ? span / SWAPS : SPACING;
  res->rate = one_run(&o, 1, SWAPS, res->spacing, pauses, &found);
  qsort(pauses, (size_t)found, sizeof *pauses, cmp_double);
  res->swaps = found;
  res->ok = res->steady_rate > 0 && res->rate > 0;
  res->pause_median_us = found ? pauses[found / 2] : 0;
  res->pause_max_us = found ? pauses[found - 1] : 0;
  fprintf(stderr,
          "weir-bench: reload: %d swaps, pause median %.0f us max %.0f us; %.0f records/s "
          "with them, %.0f without\n",
          found, res->pause_median_us, res->pause_max_us, res->rate, res->steady_rate);
  return res->ok ? 0 : -1;
}

void bench_reload_markdown(FILE *f, const bench_reload_t *r) {
  fprintf(f,
          "\nHot reload (weir only, 6 partitions, `threads = 1`; %d swaps, %.2f s apart, during a "
          "full-speed backlog of %lld records): each swap re-reads the INI with a filter's "
          "pattern changed, loads every plugin from a new staged copy and moves the filter on "
          "every task. *Pause*: the longest a stream thread — so each of its tasks — stood "
          "still in one phase of a swap, from weir's `reloaded:` log line. *Rate*: output "
          "records/s over the backlog, with the swaps and in the same run without them.\n\n",
          r->swaps, r->spacing, r->records);
  fprintf(f, "| swaps | pause median µs | pause max µs | goal | rec/s with swaps | rec/s without "
             "| with / without |\n|---|---|---|---|---|---|---|\n");
  fprintf(f, "| %d | %.0f | %.0f | < 10 ms: %s | %.0f | %.0f | %.2f |\n", r->swaps,
          r->pause_median_us, r->pause_max_us, r->pause_max_us < 10000 ? "met" : "**missed**",
          r->rate, r->steady_rate, r->steady_rate > 0 ? r->rate / r->steady_rate : 0);
}
