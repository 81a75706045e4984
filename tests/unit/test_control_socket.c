/* The `weir reload` socket when several instances of one stateless
 * application share a state.dir on one host (nothing else locks it): the
 * first owns the socket, the others run without it (one warning each), a
 * later one's stop leaves the owner's socket in place, and after the owner
 * stops a new instance takes it over, stale file and all. Before the lock,
 * instances unlinked each other's sockets and one started in the race
 * failed with EADDRINUSE (a CI run of e2e/test_multi_instance). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "reload/control.h"
#include "reload/reload.h"
#include "reload/swap.h"
#include "support/tmpdir.h"
#include "topology/topology.h"
#include "util/log.h"

enum { RACERS = 8 };

typedef struct fixture {
  weir_test_tmpenv_t env;
  weir_cfg_t *cfg;
  weir_topology_t *topo;
  weir_swap_t swap;
  weir_reloader_t *reloader;
  char sock[256];
} fixture_t;

static int warnings;     /* the warnings naming the shared socket */
static int holder_named; /* those naming its holder too (a racer may not have written it yet) */
static char sock_seen[256], holder_seen[32];

static void count_warnings(void *user, int level, const char *thread, const char *task,
                           const char *node, const char *message) {
  (void)user, (void)thread, (void)task, (void)node;
  if (level == WEIR_LOG_WARN && strstr(message, "already serves `weir reload`") &&
      strstr(message, sock_seen) && !strchr(message, '\n')) {
    __atomic_add_fetch(&warnings, 1, __ATOMIC_SEQ_CST);
    if (strstr(message, holder_seen))
      __atomic_add_fetch(&holder_named, 1, __ATOMIC_SEQ_CST);
  }
}

static int setup(void **state) {
  fixture_t *fx = calloc(1, sizeof *fx);
  char ini[1024], path[600], err[512];
  if (!fx || weir_test_tmpenv_enter(&fx->env, "weir-test-control"))
    return -1;
  snprintf(path, sizeof path, "%s/t.ini", fx->env.path);
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = ctl\nbootstrap.servers = embedded\nplugin.dir = %s\n"
           "state.dir = %s/state\n[source:in]\ntopic = in\n[operator:f]\nplugin = std\n"
           "type = filter\ninput = in\npattern = a\n[sink:out]\ninput = f\ntopic = out\n",
           WEIR_TEST_PLUGIN_DIR, fx->env.path);
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fputs(ini, f);
  fclose(f);
  weir_diag_t d = {0};
  fx->cfg = weir_cfg_load(path, &d);
  fx->topo = fx->cfg ? weir_topology_build(fx->cfg, NULL, &d) : NULL;
  weir_diag_print(&d, stderr);
  weir_diag_free(&d);
  if (!fx->topo || weir_swap_init(&fx->swap, fx->topo))
    return -1;
  fx->reloader = weir_reloader_new(fx->topo, NULL, 0, &fx->swap, NULL, err, sizeof err);
  if (!fx->reloader)
    return -1;
  const weir_settings_t *s = &fx->topo->settings;
  if (weir_control_socket_path(s->state_dir, s->application_id, fx->sock, sizeof fx->sock))
    return -1;
  snprintf(sock_seen, sizeof sock_seen, "%s", fx->sock);
  snprintf(holder_seen, sizeof holder_seen, "(pid %ld)", (long)getpid()); /* one process here */
  warnings = holder_named = 0;
  weir_log_set_sink(count_warnings, NULL);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture_t *fx = *state;
  weir_log_set_sink(NULL, NULL);
  weir_reloader_free(fx->reloader);
  weir_swap_destroy(&fx->swap);
  weir_topology_free(fx->topo);
  weir_cfg_free(fx->cfg);
  int rc = weir_test_tmpenv_leave(&fx->env);
  free(fx);
  return rc;
}

static void expect_answered(const char *sock) {
  char report[1024] = "";
  int rc = weir_control_request(sock, report, sizeof report);
  if (rc != 0 || strncmp(report, "ok: ", 4) != 0)
    fail_msg("expected an instance to answer on %s, got %d: %s", sock, rc, report);
}

static void expect_nobody(const char *sock) {
  char report[1024] = "";
  assert_int_equal(weir_control_request(sock, report, sizeof report), 1);
  assert_non_null(strstr(report, "no weir instance listens on"));
}

static void test_second_instance_leaves_the_socket_alone(void **state) {
  fixture_t *fx = *state;
  char err[512] = "";
  weir_control_t *first = weir_control_start(fx->reloader, fx->sock, err, sizeof err);
  assert_non_null(first);
  weir_control_t *second = weir_control_start(fx->reloader, fx->sock, err, sizeof err);
  if (!second)
    fail_msg("a second instance on a shared state.dir failed to start: %s", err);
  assert_int_equal(warnings, 1);
  assert_int_equal(holder_named, 1);
  expect_answered(fx->sock);

  weir_control_stop(second); /* must not remove the first one's socket */
  expect_answered(fx->sock);
  weir_control_stop(first);
  expect_nobody(fx->sock);

  weir_control_t *third = weir_control_start(fx->reloader, fx->sock, err, sizeof err);
  assert_non_null(third); /* the lock went with the first */
  expect_answered(fx->sock);
  weir_control_stop(third);
  assert_int_equal(warnings, 1);
}

/* A socket file left by a process that is gone (SIGKILL): nobody listens
 * on it, and the next instance replaces it. */
static void test_stale_socket_replaced(void **state) {
  fixture_t *fx = *state;
  char err[512] = "";
  weir_control_t *c = weir_control_start(fx->reloader, fx->sock, err, sizeof err);
  assert_non_null(c);
  weir_control_stop(c);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", fx->sock);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
  close(fd); /* the file stays, nobody listens */
  expect_nobody(fx->sock);
  c = weir_control_start(fx->reloader, fx->sock, err, sizeof err);
  if (!c)
    fail_msg("a stale socket file stopped the next instance: %s", err);
  expect_answered(fx->sock);
  weir_control_stop(c);
  assert_int_equal(warnings, 0);
}

typedef struct racer {
  fixture_t *fx;
  pthread_barrier_t *go;
  weir_control_t *c;
  char err[512];
} racer_t;

static void *race(void *arg) {
  racer_t *r = arg;
  pthread_barrier_wait(r->go);
  r->c = weir_control_start(r->fx->reloader, r->fx->sock, r->err, sizeof r->err);
  return NULL;
}

/* Instances started at once: every one starts, one owns the socket. */
static void test_instances_started_at_once(void **state) {
  fixture_t *fx = *state;
  pthread_barrier_t go;
  pthread_t tid[RACERS];
  racer_t racers[RACERS];
  pthread_barrier_init(&go, NULL, RACERS);
  for (int i = 0; i < RACERS; i++) {
    racers[i] = (racer_t){.fx = fx, .go = &go};
    assert_int_equal(pthread_create(&tid[i], NULL, race, &racers[i]), 0);
  }
  for (int i = 0; i < RACERS; i++)
    pthread_join(tid[i], NULL);
  pthread_barrier_destroy(&go);
  for (int i = 0; i < RACERS; i++)
    if (!racers[i].c)
      fail_msg("instance %d of %d started at once failed: %s", i, RACERS, racers[i].err);
  assert_int_equal(warnings, RACERS - 1);
  expect_answered(fx->sock);
  for (int i = 0; i < RACERS; i++)
    weir_control_stop(racers[i].c);
  expect_nobody(fx->sock);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_second_instance_leaves_the_socket_alone, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
      cmocka_unit_test_setup_teardown(test_instances_started_at_once, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
