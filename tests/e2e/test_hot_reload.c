/* End to end: a running `weir run` swaps its operator's .so under a steady
 * load — a new build renamed into plugin.dir (inotify), `weir reload`, and
 * SIGHUP — and refuses broken builds (init fails, operator removed) with
 * the reason in `weir reload`'s answer while the running version goes on.
 * Every input comes out exactly once; per input partition, ordered by the
 * operator's own count (which crosses each swap through save/load), the
 * marks run v1..., v2..., v1... in that order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "e2e.h"

#define N 30000
#define PARTITIONS 3

static char in[64], out[64], group[64], dir[64] = "/tmp/weir-e2e-reload-XXXXXX", ini_path[256],
                                        log_path[256];

static void install(const char *fixture) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cp %s/%s.so %s/.marker.tmp && mv %s/.marker.tmp %s/marker.so",
           WEIR_TEST_FIXTURE_DIR, fixture, dir, dir, dir);
  assert_int_equal(system(cmd), 0);
}

/* Wait until the log holds `needle` `count` times. */
static int log_count(const char *needle) {
  FILE *f = fopen(log_path, "r");
  char line[2048];
  int n = 0;
  while (f && fgets(line, sizeof line, f))
    n += strstr(line, needle) != NULL;
  if (f)
    fclose(f);
  return n;
}

static void wait_log(const char *needle, int count) {
  long long deadline = e2e_now_ms() + 20000;
  while (log_count(needle) < count && e2e_now_ms() < deadline)
    usleep(50000);
  if (log_count(needle) < count)
    fail_msg("the log never showed \"%s\" %d time(s)", needle, count);
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

typedef struct feeder {
  const e2e_broker_t *b;
  atomic_int sent;
} feeder_t;

static void *feed(void *arg) {
  feeder_t *f = arg;
  rd_kafka_t *p = e2e_client(f->b, RD_KAFKA_PRODUCER, NULL);
  for (int i = 0; i < N; i += 100) {
    e2e_produce_range(p, in, i, i + 100);
    atomic_store(&f->sent, i + 100);
    usleep(10000); /* ~10,000 records/s for 3 s */
  }
  rd_kafka_flush(p, 10000);
  rd_kafka_destroy(p);
  return NULL;
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

static long long read_marks(const e2e_broker_t *b, mark_t *marks, long long cap) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_CONSUMER, NULL);
  long long total = e2e_end_offsets(rk, out, PARTITIONS), got = 0;
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
  for (int p = 0; p < PARTITIONS; p++)
    rd_kafka_topic_partition_list_add(parts, out, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  long long deadline = e2e_now_ms() + 30000, seen = 0;
  while (seen < total && e2e_now_ms() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m)
      continue;
    if (!m->err) {
      char v[128];
      snprintf(v, sizeof v, "%.*s", (int)m->len, (const char *)m->payload);
      mark_t *k = &marks[got < cap ? got : cap - 1];
      assert_int_equal(sscanf(v, "v%d:0_%d:%lld:%lld", &k->version, &k->task, &k->count, &k->input),
                       4);
      got++, seen++;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return got;
}

static void check_output(const e2e_broker_t *b) {
  static mark_t marks[N + 100];
  static unsigned char seen[N];
  static const int order[] = {1, 2, 1, 2};
  long long got = read_marks(b, marks, N + 100);
  assert_int_equal(got, N);
  memset(seen, 0, sizeof seen);
  qsort(marks, (size_t)got, sizeof *marks, by_task_and_count);
  int step = 0;
  for (long long i = 0; i < got; i++) {
    const mark_t *k = &marks[i];
    int first = i == 0 || k->task != marks[i - 1].task;
    assert_true(k->input >= 0 && k->input < N);
    assert_int_equal(seen[k->input]++, 0);
    assert_int_equal(k->count, first ? 1 : marks[i - 1].count + 1);
    if (first)
      step = 0;
    else
      assert_true(k->input > marks[i - 1].input);
    while (step < 4 && order[step] != k->version)
      step++;
    assert_true(step < 4); /* no mark out of the swap order */
  }
}

static void test_swap_under_load(void **state) {
  (void)state;
  char text[2048];
  const char *topics[] = {in, out, NULL};
  e2e_broker_t b;
  assert_non_null(mkdtemp(dir));
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, log_path), 0);
  install("reload_v1");
  FILE *f = fopen(ini_path, "w");
  fprintf(f,
          "[weir]\napplication.id = %s\nbootstrap.servers = %s\ncommit.interval.ms = 500\n"
          "plugin.dir = %s\nstate.dir = %s/state\n"
          "[source:in]\ntopic = %s\n[operator:m]\nplugin = marker\ntype = mark\ninput = in\n"
          "[sink:out]\ninput = m\ntopic = %s\n",
          group, b.bootstrap, dir, dir, in, out);
  fclose(f);
  char *argv[] = {WEIR_TEST_BINARY, "run", ini_path, NULL};
  proc_t run = proc_start(argv, 0, log_path);
  wait_log("rebalance: gained tasks", 1);

  feeder_t feeder = {.b = &b};
  pthread_t tid;
  pthread_create(&tid, NULL, feed, &feeder);
  while (atomic_load(&feeder.sent) < N / 4)
    usleep(10000);
  install("reload_v2"); /* the watcher sees the rename */
  wait_log("reloaded: version 1 runs [m]", 1);
  install("reload_v3_init_fails");
  assert_int_equal(weir_reload(text, sizeof text), 1);
  assert_non_null(strstr(text, "error: reload refused: operator 'm'"));
  assert_non_null(strstr(text, "refuses to start (MARK_INIT_FAILS)"));
  install("reload_v4_no_mark");
  assert_int_equal(weir_reload(text, sizeof text), 1);
  assert_non_null(strstr(text, "has no operator type 'mark'"));
  while (atomic_load(&feeder.sent) < N / 2)
    usleep(10000);
  install("reload_v1");
  wait_log("reloaded: version 2", 1); /* the watcher, or: */
  install("reload_v2");
  usleep(400000); /* past the watcher's debounce, which may swap it in first */
  assert_int_equal(kill(run.pid, SIGHUP), 0);
  wait_log("(SIGHUP)", 1);
  pthread_join(tid, NULL);
  rd_kafka_t *rk = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);
  assert_int_equal(e2e_wait_end_offsets(rk, out, PARTITIONS, N, 60000), N);
  rd_kafka_destroy(rk);
  assert_int_equal(proc_stop(&run, SIGTERM, 30000), 0);
  check_output(&b);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

int main(void) {
  snprintf(in, sizeof in, "reload-in-%d", (int)getpid());
  snprintf(out, sizeof out, "reload-out-%d", (int)getpid());
  snprintf(group, sizeof group, "e2e-reload-%d", (int)getpid());
  snprintf(ini_path, sizeof ini_path, "/tmp/weir-e2e-r-%d.ini", (int)getpid());
  snprintf(log_path, sizeof log_path, "/tmp/weir-e2e-r-%d.log", (int)getpid());
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_swap_under_load)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (rc)
    e2e_dump_log(log_path);
  unlink(ini_path);
  unlink(log_path);
  return rc;
}
