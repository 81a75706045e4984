/* Rebalance time: how long processing pauses when a second weir instance
 * joins a group that is busy.
 *
 * Each run, on fresh topics of REBALANCE_PARTITIONS (o->partitions)
 * partitions and a fresh application.id:
 *   1. the harness produces a steady RATE records/s into the input (a thread
 *      of its own, distinct keys, Java's murmur2 partitioner);
 *   2. instance A (`weir run`, threads = 1, passthrough) starts; once every
 *      output partition has grown and A has run for WARM + run seconds,
 *   3. *join*: the harness spawns instance B, the same INI (same
 *      application.id). Spawning is the operator's act, so B's own start-up
 *      (config, plugins, connecting) is part of the figure;
 *   4. *assigned*: the time of the later of A's last `rebalance: gained tasks`
 *      log line since the join and B's last one, taken once those two lines'
 *      partition counts add up to every partition (the log's own
 *      millisecond timestamps, mapped onto the harness clock at the join);
 *   5. *resumed*: the first moment every output partition has grown past its
 *      end offset at *assigned*. The keys and the partitioner are the same on
 *      the way in and out and the topics have as many partitions, so output
 *      partition p grows exactly when the task for input partition p
 *      processes: this is "every task processes again", seen from outside;
 *   6. *stall*: the longest time between two growths of one output
 *      partition, from the join to *resumed* (sampled every ~10 ms);
 *   7. the input stops; once the output holds every input record (or stops
 *      growing for 30 s) both instances are stopped. Output minus input is
 *      what at-least-once processed twice; less output than input is a loss.
 * The figures are join -> assigned and join -> resumed; medians of the runs. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

enum { RATE = 10000, MAX_PARTITIONS = 64, MAX_RUNS = 16 };
/* A waits WARM + run seconds before the join: the coordinator tells A of the
 * rebalance on A's next heartbeat (librdkafka's heartbeat.interval.ms,
 * 3 s), so where in that cycle the join falls moves the figure by up to 3 s;
 * stepping the warm-up by 1 s a run spreads the runs over the cycle instead
 * of hitting the same phase every time. */
static const double WARM = 2.0, DEADLINE = 120.0, TAIL_TIMEOUT = 30.0;

void bench_rebalance_topics(int run, char *input, char *output, size_t size) {
  snprintf(input, size, "bench-rb-in-%d-%d", run + 1, (int)getpid());
  snprintf(output, size, "bench-rb-out-%d-%d", run + 1, (int)getpid());
}

typedef struct feeder {
  const bench_opts_t *o;
  const char *topic;
  atomic_int stop;
  long long produced;
  int failed;
} feeder_t;

/* The steady input: RATE records a second until told to stop. */
static void *feed(void *arg) {
  feeder_t *f = arg;
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, f->o->bootstrap, NULL);
  char key[32], *value = calloc(1, (size_t)f->o->value_size);
  for (int i = 0; i < f->o->value_size; i++)
    value[i] = "weir streams records over kafka "[i % 32];
  double start = bench_now();
  long long n = 0;
  while (!atomic_load(&f->stop)) {
    long long due = (long long)((bench_now() - start) * RATE);
    for (; n < due; n++) {
      int klen = snprintf(key, sizeof key, "rb-%010lld", n);
      while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(f->topic),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_KEY(key, (size_t)klen),
                               RD_KAFKA_V_VALUE(value, (size_t)f->o->value_size),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
    }
    rd_kafka_poll(rk, 0);
    usleep(5000);
  }
  f->failed = rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR;
  f->produced = n;
  rd_kafka_destroy(rk);
  free(value);
  return NULL;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The last `rebalance: gained tasks` line of `log` logged at or after `since`
 * (wall-clock seconds): its time and partition count. 0, or -1 if none. */
static int last_gained(const char *log, double since, double *at, int *partitions) {
  FILE *f = fopen(log, "r");
  char line[4096];
  int found = -1;
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f)) {
    const char *g = strstr(line, "rebalance: gained tasks");
    const char *n = g ? strstr(g, "] (") : NULL;
    double t = bench_log_time(line);
    int count;
    if (!n || t < 0 || sscanf(n, "] (%d partitions)", &count) != 1)
      continue;
    if (t + 0.0005 < since)
      continue;
    *at = t;
    *partitions = count;
    found = 0;
  }
  fclose(f);
  return found;
}

static void offsets(rd_kafka_t *rk, const char *topic, int partitions, long long *off) {
  for (int p = 0; p < partitions; p++) {
    int64_t lo = 0, hi = 0;
    off[p] = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000) == 0 ? hi : -1;
  }
}

typedef struct sample {
  double t;
  long long off[MAX_PARTITIONS];
} sample_t;

typedef struct outcome {
  double assigned, resumed, stall;
  long long in, out;
} outcome_t;

/* When every partition grew past its offset at `assigned` (-1: not yet). */
static double resumed_at(const sample_t *s, size_t n, int partitions, double assigned) {
  double last = 0;
  for (int p = 0; p < partitions; p++) {
    long long base = -1;
    double first = -1;
    for (size_t i = 0; i < n; i++) {
      if (s[i].t <= assigned)
        base = s[i].off[p];
      else if (base >= 0 && s[i].off[p] > base) {
        first = s[i].t;
        break;
      }
    }
    if (first < 0)
      return -1;
    if (first > last)
      last = first;
  }
  return last;
}

static double longest_stall(const sample_t *s, size_t n, int partitions, double until) {
  double worst = 0;
  for (int p = 0; p < partitions; p++) {
    double grew = s[0].t;
    for (size_t i = 1; i < n && s[i - 1].t <= until; i++)
      if (s[i].off[p] > s[i - 1].off[p]) {
        if (s[i].t - grew > worst)
          worst = s[i].t - grew;
        grew = s[i].t;
      }
  }
  return worst;
}

static long long total(const long long *off, int partitions) {
  long long n = 0;
  for (int p = 0; p < partitions; p++)
    n += off[p] > 0 ? off[p] : 0;
  return n;
}

static int measure(const bench_opts_t *o, const char *topology, int run, outcome_t *res) {
  char in[128], out[128], group[128], ini[128], log_a[128], log_b[128];
  int P = o->partitions, rc = -1;
  bench_rebalance_topics(run, in, out, sizeof in);
  snprintf(group, sizeof group, "bench-rebalance-%d-%d", run + 1, (int)getpid());
  snprintf(ini, sizeof ini, "/tmp/weir-bench-rb-%d.ini", (int)getpid());
  snprintf(log_a, sizeof log_a, "/tmp/weir-bench-rb-%d-a.log", (int)getpid());
  snprintf(log_b, sizeof log_b, "/tmp/weir-bench-rb-%d-b.log", (int)getpid());
  unlink(log_a);
  unlink(log_b);
  if (P > MAX_PARTITIONS || bench_create_topic(o, in) || bench_create_topic(o, out))
    return -1;
  bench_weir_ini(o, ini, topology, group, in, out, 1, NULL);

  size_t cap = (size_t)(DEADLINE * 200), n = 0;
  sample_t *s = calloc(cap, sizeof *s);
  long long now_off[MAX_PARTITIONS];
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  feeder_t feeder = {.o = o, .topic = in};
  pthread_t tid;
  pthread_create(&tid, NULL, feed, &feeder);
  char *argv[] = {(char *)o->weir, "run", ini, NULL};
  pid_t a = bench_spawn(argv, log_a), b = -1;

  /* A processes every partition, steadily. */
  double first_all = 0, deadline = bench_now() + 60;
  while (bench_now() < deadline) {
    offsets(rk, out, P, now_off);
    int all = 1;
    for (int p = 0; p < P; p++)
      all &= now_off[p] > 0;
    if (all && !first_all)
      first_all = bench_now();
    if (first_all && bench_now() - first_all >= WARM + run)
      break;
    usleep(20000);
  }
  if (!first_all) {
    fprintf(stderr,
            "weir-bench: rebalance run %d: instance A never processed every partition; see %s\n",
            run + 1, log_a);
    goto done;
  }

  /* The join, and what follows it. */
  double join = bench_now(), join_wall = wall_now(), assigned = -1, resumed = -1, last_log = 0;
  b = bench_spawn(argv, log_b);
  while (n < cap && bench_now() < join + DEADLINE) {
    s[n].t = bench_now();
    offsets(rk, out, P, s[n].off);
    n++;
    if (assigned < 0 && bench_now() - last_log >= 0.05) {
      double ta, tb;
      int na, nb;
      last_log = bench_now();
      if (last_gained(log_a, join_wall, &ta, &na) == 0 && last_gained(log_b, 0, &tb, &nb) == 0 &&
          na + nb == P)
        assigned = join + ((ta > tb ? ta : tb) - join_wall);
    }
    if (assigned >= 0 && (resumed = resumed_at(s, n, P, assigned)) >= 0)
      break;
    usleep(10000);
  }
  if (resumed < 0) {
    fprintf(stderr,
            "weir-bench: rebalance run %d: processing did not resume on every partition "
            "within %.0f s (%s); see %s and %s\n",
            run + 1, DEADLINE,
            assigned < 0 ? "tasks not all assigned"
                         : "assigned, but not all output partitions grew",
            log_a, log_b);
    goto done;
  }
  res->assigned = assigned - join;
  res->resumed = resumed - join;
  res->stall = longest_stall(s, n, P, resumed);
  rc = 0;

done:
  atomic_store(&feeder.stop, 1);
  pthread_join(tid, NULL);
  res->in = feeder.produced;
  /* The tail: every input record should come out. */
  long long seen = -1;
  double still = bench_now();
  while (rc == 0 && bench_now() - still < TAIL_TIMEOUT) {
    offsets(rk, out, P, now_off);
    long long t = total(now_off, P);
    if (t >= res->in)
      break;
    if (t != seen)
      seen = t, still = bench_now();
    usleep(50000);
  }
  offsets(rk, out, P, now_off);
  res->out = total(now_off, P);
  rd_kafka_destroy(rk);
  bench_stop(a, NULL);
  if (b > 0)
    bench_stop(b, NULL);
  free(s);
  if (feeder.failed) {
    fprintf(stderr, "weir-bench: rebalance run %d: the input producer did not deliver everything\n",
            run + 1);
    rc = -1;
  }
  if (rc == 0) {
    fprintf(stderr,
            "weir-bench: rebalance run %d: join -> assigned %.2f s, -> resumed %.2f s, "
            "longest stall %.2f s; records in %lld, out %lld\n",
            run + 1, res->assigned, res->resumed, res->stall, res->in, res->out);
    if (!getenv("WEIR_BENCH_KEEP_LOG")) {
      unlink(log_a);
      unlink(log_b);
    }
  }
  unlink(ini);
  return rc;
}

int bench_rebalance(const bench_opts_t *o, const char *topology, bench_rebalance_t *res) {
  double assigned[MAX_RUNS], resumed[MAX_RUNS], stall[MAX_RUNS];
  int n = 0;
  *res = (bench_rebalance_t){.rate = RATE};
  for (int run = 0; run < o->rebalance_runs && run < MAX_RUNS; run++) {
    outcome_t r = {0};
    if (measure(o, topology, run, &r))
      continue;
    assigned[n] = r.assigned, resumed[n] = r.resumed, stall[n] = r.stall;
    res->produced += r.in;
    res->consumed += r.out;
    n++;
  }
  res->runs = n;
  if (!n)
    return 0; /* the table says n/a */
  res->assigned = bench_median(assigned, n);
  res->resumed = bench_median(resumed, n);
  res->stall = bench_median(stall, n);
  res->assigned_min = assigned[0],
  res->assigned_max = assigned[n - 1]; /* sorted by bench_median() */
  res->resumed_min = resumed[0], res->resumed_max = resumed[n - 1];
  return 0;
}
