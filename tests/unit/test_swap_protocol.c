/* The hot swap's protocol (reload/swap.h) with hand-driven members: a
 * phase waits for every member present and only for them; a reply to an
 * earlier phase is not taken for the current one; a commit is never given
 * up, and says which thread it waits for; a member joining after the last
 * phase has nothing to serve. The waits end on observable events (a
 * member's reply, a warning line), never on elapsed time. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "reload/swap.h"
#include "topology/topology.h"

static weir_topology_t *topo(void) {
  weir_diag_t d = {0};
  weir_cfg_t *cfg =
      weir_cfg_load_string("t.ini",
                           "[weir]\napplication.id = p\nbootstrap.servers = embedded\n"
                           "[source:in]\ntopic = in\n[sink:out]\ninput = in\ntopic = out\n",
                           &d);
  weir_topology_t *t = cfg ? weir_topology_build(cfg, NULL, &d) : NULL;
  weir_diag_print(&d, stderr);
  weir_diag_free(&d);
  weir_cfg_free(cfg);
  assert_non_null(t);
  return t;
}

/* The coordinator, on its own thread. */
typedef struct coord {
  weir_swap_t *s;
  unsigned id;
  int phase, last, give_up_ms;
  atomic_int done;
  int rc;
} coord_t;

static void *run(void *arg) {
  coord_t *c = arg;
  c->rc = weir_swap_run_phase(c->s, c->id, c->phase, c->last, c->give_up_ms, 20);
  atomic_store(&c->done, 1);
  return NULL;
}

/* The bound on every wait for another thread's event: generous, so that a
 * slow or loaded machine only makes the test slower; it is never reached
 * when the test passes. */
enum { WAIT_MS = 60000 };

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Serve whatever phase is published, as a stream thread's loop does. */
static int serve(weir_swap_t *s, weir_swap_member_t *m) {
  weir_swap_phase_t ph;
  int phase = weir_swap_begin(s, m, &ph);
  if (phase != WEIR_SWAP_IDLE)
    weir_swap_done(s, m, 0);
  return phase;
}

/* Wait until the member sees `phase` published, serving nothing. */
static void await_phase(weir_swap_t *s, int phase) {
  for (long long deadline = now_ms() + WAIT_MS; now_ms() < deadline; sleep_ms(1))
    if ((int)(atomic_load(&s->generation) & 3) == phase)
      return;
  fail_msg("phase %d not published within %d ms", phase, WAIT_MS);
}

/* stderr into a file, so the test can wait for the coordinator's warning. */
static char log_path[512];
static int saved_stderr = -1;

static void capture_stderr(void) {
  const char *base = getenv("TMPDIR");
  snprintf(log_path, sizeof log_path, "%s/weir-test-swap-log-XXXXXX",
           base && *base ? base : "/tmp");
  int fd = mkstemp(log_path);
  assert_true(fd >= 0);
  fflush(stderr);
  saved_stderr = dup(2);
  dup2(fd, 2);
  close(fd);
}

static void restore_stderr(void) {
  fflush(stderr);
  dup2(saved_stderr, 2);
  close(saved_stderr);
  unlink(log_path);
}

static int log_count(const char *needle) {
  char line[1024];
  int n = 0;
  FILE *f = fopen(log_path, "r");
  while (f && fgets(line, sizeof line, f))
    n += strstr(line, needle) != NULL;
  if (f)
    fclose(f);
  return n;
}

static void await_log(const char *needle, int times) {
  for (long long deadline = now_ms() + WAIT_MS; now_ms() < deadline; sleep_ms(1))
    if (log_count(needle) >= times)
      return;
  fail_msg("not logged %d time(s) within %d ms: %s", times, WAIT_MS, needle);
}

static void test_commit_waits_for_every_member(void **state) {
  (void)state;
  weir_topology_t *t = topo();
  weir_swap_t s;
  weir_swap_member_t a = {0}, b = {0};
  pthread_t tid;
  assert_int_equal(weir_swap_init(&s, t), 0);
  weir_swap_join(&s, &a, 0);
  weir_swap_join(&s, &b, 1);
  unsigned id = weir_swap_start(&s, NULL);

  /* PREPARE: both answer. */
  coord_t prep = {.s = &s, .id = id, .phase = WEIR_SWAP_PREPARE, .give_up_ms = WAIT_MS};
  pthread_create(&tid, NULL, run, &prep);
  await_phase(&s, WEIR_SWAP_PREPARE);
  assert_int_equal(serve(&s, &a), WEIR_SWAP_PREPARE);
  assert_int_equal(serve(&s, &a), WEIR_SWAP_IDLE); /* served once */
  assert_int_equal(serve(&s, &b), WEIR_SWAP_PREPARE);
  pthread_join(tid, NULL);
  assert_int_equal(prep.rc, 0);

  /* COMMIT: b does not answer; b's reply to PREPARE does not count. */
  capture_stderr();
  coord_t commit = {.s = &s, .id = id, .phase = WEIR_SWAP_COMMIT, .last = 1};
  pthread_create(&tid, NULL, run, &commit);
  await_phase(&s, WEIR_SWAP_COMMIT);
  assert_int_equal(serve(&s, &a), WEIR_SWAP_COMMIT);
  await_log("stream thread(s) 1 to serve the commit phase", 2);
  assert_int_equal(log_count("stream thread(s) 0"), 0);
  assert_false(atomic_load(&commit.done)); /* warned twice, still waiting */
  assert_int_equal(serve(&s, &b), WEIR_SWAP_COMMIT);
  pthread_join(tid, NULL);
  restore_stderr();
  assert_int_equal(commit.rc, 0);

  /* After the last phase, idle: a member that joins has nothing to serve. */
  weir_swap_member_t late = {0};
  weir_swap_join(&s, &late, 2);
  assert_int_equal(serve(&s, &late), WEIR_SWAP_IDLE);
  assert_int_equal(serve(&s, &a), WEIR_SWAP_IDLE);
  weir_swap_leave(&s, &late);
  weir_swap_leave(&s, &a);
  weir_swap_leave(&s, &b);
  weir_swap_destroy(&s);
  weir_topology_free(t);
}

static void test_member_leaving_is_not_waited_for(void **state) {
  (void)state;
  weir_topology_t *t = topo();
  weir_swap_t s;
  weir_swap_member_t a = {0}, b = {0};
  pthread_t tid;
  assert_int_equal(weir_swap_init(&s, t), 0);
  weir_swap_join(&s, &a, 0);
  weir_swap_join(&s, &b, 1);
  unsigned id = weir_swap_start(&s, NULL);
  coord_t abort_ = {.s = &s, .id = id, .phase = WEIR_SWAP_ABORT, .last = 1};
  pthread_create(&tid, NULL, run, &abort_);
  await_phase(&s, WEIR_SWAP_ABORT);
  assert_int_equal(serve(&s, &a), WEIR_SWAP_ABORT);
  weir_swap_leave(&s, &b); /* a thread stopping mid-swap */
  pthread_join(tid, NULL);
  assert_int_equal(abort_.rc, 0);

  /* A prepare nobody answers is given up, naming the thread. */
  id = weir_swap_start(&s, NULL);
  assert_int_equal(weir_swap_run_phase(&s, id, WEIR_SWAP_PREPARE, 0, 1, 1000), -1);
  assert_true(weir_swap_failed(&s));
  assert_non_null(strstr(s.why, "stream thread(s) 0 did not answer the prepare phase"));
  weir_swap_leave(&s, &a);
  assert_int_equal(weir_swap_run_phase(&s, id, WEIR_SWAP_ABORT, 1, 0, 1000), 0);
  weir_swap_destroy(&s);
  weir_topology_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_commit_waits_for_every_member),
      cmocka_unit_test(test_member_leaving_is_not_waited_for),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
