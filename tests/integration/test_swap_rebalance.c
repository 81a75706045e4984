/* Integration: hot swaps while the group rebalances, in-process on the
 * embedded broker, so `make test-tsan` runs it under ThreadSanitizer.
 *
 * Instance A (2 stream threads) swaps its operator back and forth between
 * two builds, without a pause, while records flow; instance B joins the
 * group (every partition moves: tasks close and open on every thread while
 * swaps are prepared and committed), swaps too, and leaves while it is
 * swapping (its threads leave the swap mid-phase); A gets its partitions
 * back and goes on swapping, and is stopped while still swapping. Every
 * reload must succeed, every input must come out, and the operator's
 * in-memory count must run on across every swap: the exact records are
 * checked, not a count. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "it_support.h"
#include "util/fs.h"

enum { PARTS = 4 };

/* The plugin, INI files and state directories, inside the test's own TMPDIR
 * (it_tmp, where weir stages swaps). */
static char dir[600];

/* Put a build in place as the plugin file, through a temporary name of the
 * caller's (each instance's swapper has its own). 0 or -1 (any thread). */
static int install(const char *fixture, const char *tmp_name) {
  return it_install(fixture, dir, "marker.so", tmp_name);
}

/* A steady load until stopped: input i goes to partition i % PARTS, key
 * "k<i>", value "<i>". */
typedef struct feeder {
  const char *bootstrap;
  atomic_int stop;
  atomic_int sent;
  int per_partition[PARTS];
  int failed_at; /* -1, or the input whose produce failed (read after the join) */
} feeder_t;

static void *feed(void *arg) {
  feeder_t *f = arg;
  char key[32], value[32];
  rd_kafka_t *p = it_producer(f->bootstrap);
  for (int i = 0; !atomic_load(&f->stop); i++) {
    snprintf(key, sizeof key, "k%d", i);
    snprintf(value, sizeof value, "%d", i);
    if (it_send(p, "in", i % PARTS, key, value, strlen(value), 1700000000000 + i, NULL, NULL)) {
      f->failed_at = i;
      break;
    }
    f->per_partition[i % PARTS]++;
    atomic_store(&f->sent, i + 1);
    if (i % 10 == 9) {
      rd_kafka_poll(p, 0);
      usleep(10000);
    }
  }
  if (rd_kafka_flush(p, IT_WAIT_MS) && f->failed_at < 0)
    f->failed_at = atomic_load(&f->sent);
  rd_kafka_destroy(p);
  return NULL;
}

/* Reload one instance back and forth between two builds until stopped. */
typedef struct swapper {
  weir_app_t *app;
  const char *tmp_name;
  atomic_int stop;
  atomic_int swaps;
  atomic_int loaded_swaps; /* swaps with records processed since the one before */
  atomic_int failures;
  char failure[1024]; /* the first */
} swapper_t;

static void *swap_loop(void *arg) {
  swapper_t *s = arg;
  char report[1024];
  unsigned long long before = weir_app_processed(s->app);
  for (int i = 0; !atomic_load(&s->stop); i++) {
    int ok = 0;
    if (install(i % 2 ? "reload_v1" : "reload_v2", s->tmp_name))
      snprintf(report, sizeof report, "cannot install the plugin build in %s", dir);
    else
      ok = weir_app_reload(s->app, "test", report, sizeof report) == 0 &&
           strstr(report, "reloaded: version");
    unsigned long long now = weir_app_processed(s->app);
    if (ok && now > before)
      atomic_fetch_add(&s->loaded_swaps, 1);
    before = now;
    if (ok)
      atomic_fetch_add(&s->swaps, 1);
    else if (atomic_fetch_add(&s->failures, 1) == 0)
      snprintf(s->failure, sizeof s->failure, "%s", report);
  }
  return NULL;
}

static void swapper_stop(swapper_t *s, pthread_t tid) {
  atomic_store(&s->stop, 1);
  pthread_join(tid, NULL);
  if (atomic_load(&s->failures))
    fail_msg("%d reload(s) failed; the first: %s", atomic_load(&s->failures), s->failure);
}

static weir_app_t *start(const char *name, const char *bootstrap, int threads,
                         weir_topology_t **topo) {
  char ini[2048], path[600], err[2048];
  snprintf(path, sizeof path, "%s/%s.ini", dir, name);
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = it-swaprb\nbootstrap.servers = %s\nthreads = %d\n"
           "embedded.partitions = %d\ncommit.interval.ms = 100\nplugin.dir = %s\n"
           "state.dir = %s/%s\n"
           "[source:in]\ntopic = in\n[operator:m]\nplugin = marker\ntype = mark\ninput = in\n"
           "[sink:out]\ninput = m\ntopic = out\n"
           /* The mock coordinator waits up to a session timeout for members
            * to rejoin after one leaves: keep that short. */
           "[kafka]\nsession.timeout.ms = 6000\nheartbeat.interval.ms = 500\n",
           bootstrap, threads, PARTS, dir, dir, name);
  it_write_file(path, ini);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  *topo = cfg ? weir_topology_build(cfg, NULL, &d) : NULL;
  weir_diag_print(&d, stderr);
  weir_diag_free(&d);
  weir_cfg_free(cfg);
  assert_non_null(*topo);
  weir_app_options_t opts = {.shutdown_timeout_ms = IT_WAIT_MS, .no_control = 1};
  weir_app_t *app = weir_app_start(*topo, &opts, err, sizeof err);
  if (!app)
    fail_msg("start %s: %s", name, err);
  return app;
}

/* Wait (bounded) until cond(arg) holds; fail with `what` otherwise. */
static void wait_for(int (*cond)(void *), void *arg, const char *what) {
  long long deadline = it_now_ms() + IT_WAIT_MS;
  while (!cond(arg)) {
    if (it_now_ms() > deadline)
      fail_msg("timed out after %d ms waiting for %s", IT_WAIT_MS, what);
    usleep(50000);
  }
}

typedef struct progress {
  weir_app_t *app;
  unsigned long long records;
  atomic_int *counter;
  int swaps;
} progress_t;

/* The app processed `records` more and `counter` counted `swaps` more than
 * when the wait began. */
static int progressed(void *arg) {
  const progress_t *p = arg;
  return weir_app_processed(p->app) >= p->records && atomic_load(p->counter) >= p->swaps;
}

static void wait_counted(weir_app_t *app, unsigned long long records, atomic_int *counter,
                         int swaps, const char *what) {
  progress_t p = {app, weir_app_processed(app) + records, counter, atomic_load(counter) + swaps};
  wait_for(progressed, &p, what);
}

/* The app processed `records` more and its swapper made `swaps` more swaps
 * under load (records processed between each and the one before), so the
 * swaps really crossed a flow of records. */
static void wait_progress(weir_app_t *app, unsigned long long records, swapper_t *s, int swaps,
                          const char *what) {
  wait_counted(app, records, &s->loaded_swaps, swaps, what);
}

typedef struct done {
  const char *bootstrap;
  const feeder_t *feeder;
} done_t;

/* The group committed every input: each was processed and its output
 * acknowledged by the broker. */
static int all_committed(void *arg) {
  const done_t *d = arg;
  for (int p = 0; p < PARTS; p++)
    if (it_committed(d->bootstrap, "it-swaprb", "in", p) < d->feeder->per_partition[p])
      return 0;
  return 1;
}

typedef struct out_rec {
  int version, task_partition;
  long long count, input;
} out_rec_t;

static int by_input_then_count(const void *a, const void *b) {
  const out_rec_t *x = a, *y = b;
  if (x->input != y->input)
    return x->input < y->input ? -1 : 1;
  return x->count < y->count ? -1 : x->count > y->count;
}

static int has(const out_rec_t *recs, size_t n, long long input, long long count) {
  out_rec_t key = {.input = input, .count = count};
  return bsearch(&key, recs, n, sizeof *recs, by_input_then_count) != NULL;
}

/* What came out for the inputs of `input`'s partition around it: which
 * build and which count, to tell a record the task never processed from
 * one processed (the count went on past it) whose output was lost. */
static void print_neighbours(const out_rec_t *recs, size_t n, int input) {
  for (size_t i = 0; i < n; i++)
    if (recs[i].input % PARTS == input % PARTS && recs[i].input >= input - 3 * PARTS &&
        recs[i].input <= input + 3 * PARTS)
      fprintf(stderr, "it: around input %d: input %lld came out from v%d with count %lld\n", input,
              recs[i].input, recs[i].version, recs[i].count);
}

/* The records that came out, checked against the inputs 0 .. sent-1:
 *  - each is "v<1|2>:0_<p>:<count>:<input>" with p = input % PARTS (the
 *    task of the input's partition marked it) and a build that ran;
 *  - every input came out;
 *  - the count a task gave an input follows, by one, the count it gave the
 *    partition's previous input (input - PARTS), whichever build gave it:
 *    the in-memory state crossed every swap, and no input was skipped or
 *    processed twice by one task. A count starts again at 1 only where a
 *    task opened on a thread (a rebalance), never at a swap: far fewer
 *    restarts per partition than the swaps it saw. */
static void check_output(const char *bootstrap, int sent, int swaps) {
  /* Every record to the end: a rebalance that comes before a commit makes
   * the next owner produce its partition's inputs since the last commit
   * again, and on a loaded machine the group can rebalance every 5 s for a
   * while (the embedded broker's rebalance delay) with no commit in between,
   * so the output may hold several copies of each input. A buffer of twice
   * the inputs overflowed there, and the inputs past it looked lost. */
  size_t n = 0;
  it_record_t *got = it_consume_all(bootstrap, "out", (size_t)sent, &n, IT_WAIT_MS);
  out_rec_t *recs = calloc(n ? n : 1, sizeof *recs);
  unsigned char *seen = calloc((size_t)sent, 1);
  int versions[3] = {0}, restarts[PARTS] = {0};
  assert_true(recs && seen);
  for (size_t i = 0; i < n; i++) {
    out_rec_t *r = &recs[i];
    if (sscanf(got[i].value, "v%d:0_%d:%lld:%lld", &r->version, &r->task_partition, &r->count,
               &r->input) != 4)
      fail_msg("output %zu: unexpected value '%s'", i, got[i].value);
    assert_true(r->version == 1 || r->version == 2);
    assert_true(r->input >= 0 && r->input < sent);
    assert_int_equal(r->task_partition, r->input % PARTS);
    assert_true(r->count >= 1);
    seen[r->input] = 1;
    versions[r->version]++;
    restarts[r->input % PARTS] += r->count == 1;
  }
  qsort(recs, n, sizeof *recs, by_input_then_count);
  for (int i = 0; i < sent; i++)
    if (!seen[i]) {
      print_neighbours(recs, n, i);
      fail_msg("input %d (of %d) never came out", i, sent);
    }
  for (size_t i = 0; i < n; i++)
    if (recs[i].count > 1 && !has(recs, n, recs[i].input - PARTS, recs[i].count - 1))
      fail_msg("input %lld has count %lld, but input %lld has no count %lld: a swap or a "
               "rebalance lost the operator's state or an input",
               recs[i].input, recs[i].count, recs[i].input - PARTS, recs[i].count - 1);
  assert_true(versions[1] > 0 && versions[2] > 0);
  for (int p = 0; p < PARTS; p++)
    if (restarts[p] * 2 > swaps)
      fail_msg("partition %d: the count restarted %d times over %d swaps", p, restarts[p], swaps);
  fprintf(stderr, "it: %d inputs, %zu outputs (%zu replayed after a rebalance), %d swaps\n", sent,
          n, n - (size_t)sent, swaps);
  it_records_free(got, n);
  free(got);
  free(recs);
  free(seen);
}

static void test_swaps_while_rebalancing(void **state) {
  (void)state;
  weir_topology_t *ta, *tb;
  pthread_t feeder_tid, swap_a_tid, swap_b_tid;
  snprintf(dir, sizeof dir, "%s/it", it_tmp.path);
  assert_int_equal(mkdir(dir, 0700), 0);
  assert_int_equal(install("reload_v1", ".a.tmp"), 0);
  weir_app_t *a = start("a", "embedded", 2, &ta);
  const char *bootstrap = weir_app_bootstrap(a);
  feeder_t feeder = {.bootstrap = bootstrap, .failed_at = -1};
  pthread_create(&feeder_tid, NULL, feed, &feeder);
  assert_int_equal(it_wait_processed(a, 200, IT_WAIT_MS), 0);

  swapper_t swap_a = {.app = a, .tmp_name = ".a.tmp"};
  pthread_create(&swap_a_tid, NULL, swap_loop, &swap_a);
  wait_progress(a, 100, &swap_a, 3, "A to swap");

  /* B joins while both swap: tasks close and open on every thread. */
  weir_app_t *b = start("b", bootstrap, 1, &tb);
  swapper_t swap_b = {.app = b, .tmp_name = ".b.tmp"};
  pthread_create(&swap_b_tid, NULL, swap_loop, &swap_b);
  wait_progress(b, 200, &swap_b, 3, "B to be assigned partitions and process while swapping");
  wait_progress(a, 200, &swap_a, 3, "A to go on after B joined");

  /* B leaves while it swaps: its threads leave mid-swap. */
  weir_app_stop(b);
  assert_int_equal(weir_app_join(b), 0);
  swapper_stop(&swap_b, swap_b_tid);
  weir_app_free(b);
  weir_topology_free(tb);
  wait_progress(a, 400, &swap_a, 3, "A to take B's partitions back while swapping");

  atomic_store(&feeder.stop, 1);
  pthread_join(feeder_tid, NULL);
  if (feeder.failed_at >= 0)
    fail_msg("the feeder could not produce input %d", feeder.failed_at);
  done_t done = {bootstrap, &feeder};
  wait_for(all_committed, &done, "every input to be committed");
  int swaps = atomic_load(&swap_a.swaps) + atomic_load(&swap_b.swaps);
  int loaded = atomic_load(&swap_a.loaded_swaps) + atomic_load(&swap_b.loaded_swaps);
  check_output(bootstrap, atomic_load(&feeder.sent), swaps);
  fprintf(stderr, "it: %d of the swaps had records processed since the one before\n", loaded);

  /* A stops while it swaps: the swaps after its threads left go through. */
  weir_app_stop(a);
  assert_int_equal(weir_app_join(a), 0);
  wait_counted(a, 0, &swap_a.swaps, 2, "swaps after A's threads stopped");
  swapper_stop(&swap_a, swap_a_tid);
  weir_app_free(a);
  weir_topology_free(ta);
  it_expect_no_staging();
}

int main(void) {
  const struct CMUnitTest tests[] = {IT_TEST(test_swaps_while_rebalancing)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
