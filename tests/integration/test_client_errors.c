/* Integration: a Kafka client error that librdkafka retries (here: the only
 * broker goes down) is warned once per episode, naming the client, however
 * often it repeats (issue 12, item 9a). Before, on_error logged these two
 * codes at every report and dropped every other code (authentication, TLS,
 * authorization) without a line. The log (stderr) goes to a file the test
 * reads; the repeats are seen in weir's debug lines, so the test waits for
 * events, never for a time. */
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_support.h"
#include "util/log.h"

typedef struct {
  rd_kafka_t *rk; /* the mock cluster lives in a client */
  rd_kafka_mock_cluster_t *mc;
  char bootstrap[256];
  char log_path[600]; /* inside the test's own TMPDIR (it_tmp) */
  int saved_stderr;
} cluster_t;

static int setup(void **state) {
  static cluster_t c;
  char why[256];
  if (weir_test_tmpenv_enter(&it_tmp, "weir-it"))
    return -1;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
  c.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  c.mc = c.rk ? rd_kafka_mock_cluster_new(c.rk, 1) : NULL;
  if (!c.mc)
    return -1;
  snprintf(c.bootstrap, sizeof c.bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(c.mc));
  /* The log to a file. */
  snprintf(c.log_path, sizeof c.log_path, "%s/stderr.log", it_tmp.path);
  int fd = open(c.log_path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
  fflush(stderr);
  c.saved_stderr = dup(2);
  if (fd < 0 || c.saved_stderr < 0 || dup2(fd, 2) < 0)
    return -1;
  close(fd);
  weir_log_set_level(WEIR_LOG_DEBUG);
  *state = &c;
  return 0;
}

static int teardown(void **state) {
  cluster_t *c = *state;
  rd_kafka_mock_cluster_destroy(c->mc);
  rd_kafka_destroy(c->rk);
  fflush(stderr);
  dup2(c->saved_stderr, 2);
  close(c->saved_stderr);
  /* What the clients said, for whoever reads a failure. */
  char line[4096];
  FILE *f = fopen(c->log_path, "r");
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, "Kafka ") && !strstr(line, "DEBUG"))
      fputs(line, stderr);
  if (f)
    fclose(f);
  return weir_test_tmpenv_leave(&it_tmp);
}

/* Lines of the log holding every one of the (up to 3) strings. */
static int count_lines(const char *path, const char *a, const char *b, const char *c) {
  char line[4096];
  int n = 0;
  fflush(stderr);
  FILE *f = fopen(path, "r");
  while (f && fgets(line, sizeof line, f))
    n += strstr(line, a) && (!b || strstr(line, b)) && (!c || strstr(line, c));
  if (f)
    fclose(f);
  return n;
}

typedef struct {
  const char *path;
  const char *a, *b, *c;
  int want;
} lines_t;

static int lines_reached(void *arg) {
  lines_t *l = arg;
  return count_lines(l->path, l->a, l->b, l->c) >= l->want;
}

/* Fast reconnects: many reports of the same error in little time. */
static const char ini_fmt[] = "[weir]\napplication.id = ce\nbootstrap.servers = %s\n"
                              "[kafka]\nreconnect.backoff.ms = 10\nreconnect.backoff.max.ms = 50\n"
                              "[source:in]\ntopic = ce-in\n"
                              "[sink:out]\ninput = in\ntopic = ce-out\n";

static void send_one(const char *bootstrap) {
  rd_kafka_t *p = it_producer(bootstrap);
  assert_int_equal(it_send(p, "ce-in", 0, "k", "v", 1, 1700000000000, NULL, NULL), 0);
  assert_int_equal(rd_kafka_flush(p, 10000), 0);
  rd_kafka_destroy(p);
}

/* The only broker goes down: each client warns once, naming itself and
 * what to do; once the broker is back and a record goes through, the
 * producer says it works again, which ends the episode. */
static void test_broker_down_warned_once_until_it_works(void **state) {
  cluster_t *c = *state;
  char ini[1024], err[1024];
  snprintf(ini, sizeof ini, ini_fmt, c->bootstrap);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ce-in", 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ce-out", 1, 1), 0);
  weir_topology_t *t = it_topology(ini);
  assert_non_null(t);
  weir_app_options_t opts = {.shutdown_timeout_ms = 5000, .no_control = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  send_one(c->bootstrap);
  assert_int_equal(it_wait_processed(app, 1, IT_WAIT_MS), 0);

  rd_kafka_mock_broker_set_down(c->mc, 1);
  lines_t down = {c->log_path, "WARN", "Kafka producer ce-StreamThread-1", "bootstrap.servers", 1};
  int waited_down = it_wait_until(lines_reached, &down, IT_WAIT_MS);
  rd_kafka_mock_broker_set_up(c->mc, 1);
  send_one(c->bootstrap);
  lines_t back = {c->log_path, "INFO", "Kafka producer ce-StreamThread-1", "works again", 1};
  int waited_back = it_wait_until(lines_reached, &back, IT_WAIT_MS);
  weir_app_stop(app);
  weir_app_join(app);
  weir_app_free(app);
  weir_topology_free(t);
  it_expect_no_staging();
  it_records_free(NULL, 0); /* it_support.h's: every includer uses it */
  assert_int_equal(waited_down, 0);
  assert_int_equal(waited_back, 0);
  /* One warning per code and client, however often librdkafka reported it. */
  assert_int_equal(
      count_lines(c->log_path, "WARN", "Kafka producer", "(Local: Broker transport failure)"), 1);
  assert_in_range(
      count_lines(c->log_path, "WARN", "Kafka consumer", "(Local: Broker transport failure)"), 0,
      1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_broker_down_warned_once_until_it_works, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
