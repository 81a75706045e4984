/* End to end: a running `weir run` swaps its operator's .so under a steady
 * load that lasts until the last swap is done: a new build renamed into
 * plugin.dir (the inotify watcher), then one the watcher cannot see, swapped
 * in by SIGHUP (the log line of that swap must name SIGHUP); `weir reload`
 * refuses broken builds (init fails, operator removed) with the reason in its
 * answer while the running version goes on. Every input comes out exactly
 * once; per input partition, ordered by the operator's own count (which
 * crosses each swap through save/load), the marks run v1..., v2..., v1...,
 * v2... in exactly that order: each version processed inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "e2e.h"

#define PARTITIONS 3
#define CAP 400000 /* the feeder's bound: 80 s at its rate */
#define AFTER 1500 /* inputs produced after a swap before the next step */
#define WAIT_MS E2E_WAIT_MS

static char in[64], out[64], group[64], dir[256], ini_path[256], log_path[256], broker_log[256];

/* A new build under plugin.dir by rename: the watcher (inotify IN_MOVED_TO)
 * sees it. */
static void install(const char *fixture) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cp %s/%s.so %s/.marker.tmp && mv %s/.marker.tmp %s/marker.so",
           WEIR_TEST_FIXTURE_DIR, fixture, dir, dir, dir);
  assert_int_equal(system(cmd), 0);
}

/* A new build the watcher cannot see: written outside plugin.dir, then
 * marker.so unlinked and the new file hard-linked in its place. That is
 * IN_DELETE and IN_CREATE in plugin.dir, and the watcher (reload/control.c)
 * acts on IN_CLOSE_WRITE and IN_MOVED_TO only; the reloader still tells the
 * new file from the old (another inode). Only SIGHUP or `weir reload` can
 * pick it up. */
static void install_unseen(const char *fixture) {
  char cmd[1024], staged[512], target[512];
  snprintf(staged, sizeof staged, "%s/unseen-%s.so", e2e_dir, fixture);
  snprintf(target, sizeof target, "%s/marker.so", dir);
  snprintf(cmd, sizeof cmd, "cp %s/%s.so %s", WEIR_TEST_FIXTURE_DIR, fixture, staged);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(unlink(target), 0);
  assert_int_equal(link(staged, target), 0);
}

static void wait_log(const char *needle, int count) {
  if (e2e_wait_log(log_path, needle, count, WAIT_MS))
    fail_msg("the log never showed \"%s\" %d time(s)", needle, count);
}

/* The line holding `needle`, or fail. */
static void log_find(const char *needle, char *line, size_t size) {
  FILE *f = fopen(log_path, "r");
  int found = 0;
  while (f && !found && fgets(line, (int)size, f))
    found = strstr(line, needle) != NULL;
  if (f)
    fclose(f);
  if (!found)
    fail_msg("no log line holds \"%s\"", needle);
}

/* `weir reload INI`: its exit code, its output in `text`. */
static int weir_reload(char *text, size_t size) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s reload %s 2>&1", WEIR_TEST_BINARY, ini_path);
  FILE *p = popen(cmd, "r");
  size_t used = fread(text, 1, size - 1, p);
  text[used] = '\0';
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Feeds ~5,000 records/s until told to stop, so every swap happens under
 * load however long the steps take. */
typedef struct feeder {
  const e2e_broker_t *b;
  atomic_int sent;
  atomic_int stop;
} feeder_t;

static void *feed(void *arg) {
  feeder_t *f = arg;
  rd_kafka_t *p = e2e_client(f->b, RD_KAFKA_PRODUCER, NULL);
  for (int i = 0; i + 100 <= CAP && !atomic_load(&f->stop); i += 100) {
    e2e_produce_range(p, in, i, i + 100);
    atomic_store(&f->sent, i + 100);
    usleep(20000);
  }
  rd_kafka_flush(p, 10000);
  rd_kafka_destroy(p);
  return NULL;
}

/* After a swap was logged: wait until AFTER more inputs were produced and
 * the output holds them, so the new version processed some in every task. */
static void wait_processed_after_swap(feeder_t *f, rd_kafka_t *rk) {
  int want = atomic_load(&f->sent) + AFTER;
  long long deadline = e2e_now_ms() + WAIT_MS;
  while (atomic_load(&f->sent) < want && e2e_now_ms() < deadline)
    usleep(10000);
  assert_true(atomic_load(&f->sent) >= want);
  assert_true(e2e_wait_end_offsets(rk, out, PARTITIONS, want, WAIT_MS) >= want);
}

/* The output: each input once; per task, ordered by the operator's count,
 * the counts run 1, 2, 3, ... (the state crossed every swap), the inputs
 * rise (order kept), and the marks go v1, v2, v1, v2 at most, in that order. */
typedef struct mark {
  int version, task;
  long long count, input;
} mark_t;

static int by_task_and_count(const void *a, const void *b) {
  const mark_t *x = a, *y = b;
  if (x->task != y->task)
    return x->task - y->task;
  return (x->count > y->count) - (x->count < y->count);
}

/* Every output record up to the end offsets seen first: the consumer's
 * position decides, since under exactly_once a partition ends with a
 * transaction marker, not a record (read_committed, librdkafka's default). */
static long long read_marks(const e2e_broker_t *b, mark_t *marks, long long cap) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_CONSUMER, NULL);
  int64_t high[PARTITIONS];
  long long got = 0;
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
  for (int p = 0; p < PARTITIONS; p++) {
    int64_t low = 0;
    assert_int_equal(rd_kafka_query_watermark_offsets(rk, out, p, &low, &high[p], 30000), 0);
    rd_kafka_topic_partition_list_add(parts, out, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, parts);
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  for (int done = 0; !done && e2e_now_ms() < deadline;) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (m && !m->err) {
      char v[128];
      snprintf(v, sizeof v, "%.*s", (int)m->len, (const char *)m->payload);
      mark_t *k = &marks[got < cap ? got : cap - 1];
      assert_int_equal(sscanf(v, "v%d:0_%d:%lld:%lld", &k->version, &k->task, &k->count, &k->input),
                       4);
      got++;
    }
    if (m)
      rd_kafka_message_destroy(m);
    assert_int_equal(rd_kafka_position(rk, parts), 0);
    done = 1;
    for (int p = 0; p < PARTITIONS; p++)
      done &= parts->elems[p].offset >= high[p];
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return got;
}

static void check_output(const e2e_broker_t *b, int n) {
  static mark_t marks[CAP + 100];
  static unsigned char seen[CAP];
  static const int order[] = {1, 2, 1, 2};
  long long got = read_marks(b, marks, CAP + 100);
  assert_int_equal(got, n);
  memset(seen, 0, sizeof seen);
  qsort(marks, (size_t)got, sizeof *marks, by_task_and_count);
  int step = 0, tasks = 0;
  for (long long i = 0; i < got; i++) {
    const mark_t *k = &marks[i];
    int first = i == 0 || k->task != marks[i - 1].task;
    assert_true(k->input >= 0 && k->input < n);
    assert_int_equal(seen[k->input]++, 0);
    assert_int_equal(k->count, first ? 1 : marks[i - 1].count + 1);
    if (first) {
      assert_true(i == 0 || step == 3); /* the task before went through every swap */
      step = 0;
      tasks++;
    } else {
      assert_true(k->input > marks[i - 1].input);
    }
    while (step < 4 && order[step] != k->version)
      step++;
    assert_true(step < 4); /* no mark out of the swap order */
  }
  assert_int_equal(step, 3);
  assert_int_equal(tasks, PARTITIONS);
}

/* state: &EXACTLY_ONCE runs it under processing.guarantee = exactly_once
 * (real Kafka only): the swaps commit inside transactions, and a
 * read_committed reader still sees every input once, in swap order. */
static const int AT_LEAST_ONCE = 0, EXACTLY_ONCE = 1;

static void test_swap_under_load(void **state) {
  int eos = *state && *(const int *)*state == EXACTLY_ONCE;
  char text[2048], line[2048];
  const char *topics[] = {in, out, NULL};
  e2e_broker_t b;
  snprintf(in, sizeof in, "reload-in-%d-%d", (int)getpid(), eos);
  snprintf(out, sizeof out, "reload-out-%d-%d", (int)getpid(), eos);
  snprintf(group, sizeof group, "e2e-reload-%d-%d", (int)getpid(), eos);
  e2e_file(log_path, sizeof log_path, eos ? "run-eos.log" : "run.log");
  assert_int_equal(weir_rm_rf(dir), 0);
  assert_int_equal(mkdir(dir, 0700), 0);
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, broker_log), 0);
  if (eos && !b.real) {
    fprintf(stderr, "e2e: SKIPPED swaps under exactly_once: refused on `weir broker`\n");
    assert_int_equal(e2e_broker_stop(&b), 0);
    skip();
  }
  install("reload_v1");
  FILE *f = fopen(ini_path, "w");
  fprintf(f,
          "[weir]\napplication.id = %s\nbootstrap.servers = %s\ncommit.interval.ms = 500\n"
          "plugin.dir = %s\nstate.dir = %s/state\n%s"
          "[source:in]\ntopic = %s\n[operator:m]\nplugin = marker\ntype = mark\ninput = in\n"
          "[sink:out]\ninput = m\ntopic = %s\n",
          group, b.bootstrap, dir, e2e_dir, eos ? "processing.guarantee = exactly_once\n" : "", in,
          out);
  fclose(f);
  char *argv[] = {WEIR_TEST_BINARY, "run", ini_path, NULL};
  proc_t run = proc_start(argv, 0, log_path);
  wait_log("rebalance: gained tasks", 1);
  rd_kafka_t *rk = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);

  feeder_t feeder = {.b = &b};
  pthread_t tid;
  pthread_create(&tid, NULL, feed, &feeder);
  wait_processed_after_swap(&feeder, rk); /* version 0 (v1) at work */
  install("reload_v2");                   /* the watcher sees the rename */
  wait_log("reloaded: version 1 runs [m]", 1);
  install("reload_v3_init_fails");
  assert_int_equal(weir_reload(text, sizeof text), 1);
  assert_non_null(strstr(text, "error: reload refused: operator 'm'"));
  assert_non_null(strstr(text, "refuses to start (MARK_INIT_FAILS)"));
  install("reload_v4_no_mark");
  assert_int_equal(weir_reload(text, sizeof text), 1);
  assert_non_null(strstr(text, "has no operator type 'mark'"));
  wait_processed_after_swap(&feeder, rk); /* v2 at work */
  install("reload_v1");
  wait_log("reloaded: version 2 runs [m]", 1); /* the watcher */
  wait_processed_after_swap(&feeder, rk);      /* v1 at work */
  int by_watcher = e2e_log_count(log_path, "(a plugin file changed)");
  install_unseen("reload_v2");
  assert_int_equal(kill(run.pid, SIGHUP), 0);
  wait_log("reloaded: version 3 runs [m]", 1);
  log_find("reloaded: version 3 runs [m]", line, sizeof line);
  assert_non_null(strstr(line, "(SIGHUP)")); /* the swap was SIGHUP's */
  wait_processed_after_swap(&feeder, rk);    /* v2 at work */
  atomic_store(&feeder.stop, 1);
  pthread_join(tid, NULL);
  int n = atomic_load(&feeder.sent);
  if (eos) { /* end offsets count transaction markers: the commits tell */
    long long deadline = e2e_now_ms() + WAIT_MS;
    while (e2e_committed(&b, group, in, PARTITIONS) < n && e2e_now_ms() < deadline)
      usleep(100000);
    assert_int_equal(e2e_committed(&b, group, in, PARTITIONS), n);
  } else {
    assert_int_equal(e2e_wait_end_offsets(rk, out, PARTITIONS, n, WAIT_MS), n);
  }
  rd_kafka_destroy(rk);
  assert_int_equal(proc_stop(&run, SIGTERM, 30000), 0);
  /* The watcher never saw the linked file: no reload of its own after it. */
  assert_int_equal(e2e_log_count(log_path, "(a plugin file changed)"), by_watcher);
  fprintf(stderr, "e2e: %d inputs through 3 swaps (2 by the watcher, 1 by SIGHUP)%s\n", n,
          eos ? " under exactly_once" : "");
  check_output(&b, n);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  (void)pid; /* the topic and group names are the test's, per guarantee */
  e2e_file(dir, sizeof dir, "plugins");
  e2e_file(ini_path, sizeof ini_path, "run.ini");
  e2e_file(broker_log, sizeof broker_log, "broker.log");
}

E2E_MAIN("reload", setup, cmocka_unit_test_prestate(test_swap_under_load, (void *)&AT_LEAST_ONCE),
         cmocka_unit_test_prestate(test_swap_under_load, (void *)&EXACTLY_ONCE))
