/* client_errors: a non-fatal Kafka client error is warned once per episode
 * (issue 12, item 9a). */
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kafka/client_errors.h"
#include "support/tmpdir.h"
#include "thread/thread_internal.h"
#include "util/log.h"

enum { AUTHZ = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, SSL = RD_KAFKA_RESP_ERR__SSL };

/* An authorization failure retried every 100 ms for 50 s: one warning. */
static void test_one_warning_per_episode(void **state) {
  (void)state;
  weir_client_errors_t e = {0};
  int logged = 0;
  for (int64_t now = 0; now < 50000; now += 100)
    logged += weir_client_errors_note(&e, AUTHZ, now);
  assert_int_equal(logged, 1);
  assert_int_equal(weir_client_errors_repeats(&e, AUTHZ), 499);
}

/* Another code is its own episode. */
static void test_codes_apart(void **state) {
  (void)state;
  weir_client_errors_t e = {0};
  assert_int_equal(weir_client_errors_note(&e, AUTHZ, 0), 1);
  assert_int_equal(weir_client_errors_note(&e, SSL, 10), 1);
  assert_int_equal(weir_client_errors_note(&e, AUTHZ, 20), 0);
  assert_int_equal(weir_client_errors_note(&e, SSL, 30), 0);
}

/* The client worked (a delivery, a commit): the next failure warns again. */
static void test_clear_ends_the_episode(void **state) {
  (void)state;
  weir_client_errors_t e = {0};
  assert_int_equal(weir_client_errors_note(&e, AUTHZ, 0), 1);
  assert_int_equal(weir_client_errors_clear(&e), 1);
  assert_int_equal(weir_client_errors_clear(&e), 0);
  assert_int_equal(weir_client_errors_note(&e, AUTHZ, 100), 1);
}

/* Silence ends an episode; a condition that lasts is recalled now and then. */
static void test_time_windows(void **state) {
  (void)state;
  weir_client_errors_t e = {0};
  assert_int_equal(weir_client_errors_note(&e, SSL, 0), 1);
  assert_int_equal(weir_client_errors_note(&e, SSL, WEIR_CLIENT_ERROR_QUIET_MS + 1), 1);
  int logged = 0;
  int64_t start = WEIR_CLIENT_ERROR_QUIET_MS + 1;
  for (int64_t now = start + 1000; now <= start + WEIR_CLIENT_ERROR_REWARN_MS; now += 1000)
    logged += weir_client_errors_note(&e, SSL, now);
  assert_int_equal(logged, 1); /* the reminder, at REWARN_MS */
}

/* More codes than slots: every new one still warns, none crashes. */
static void test_many_codes(void **state) {
  (void)state;
  weir_client_errors_t e = {0};
  for (int err = 1; err <= 3 * WEIR_CLIENT_ERROR_CODES; err++)
    assert_int_equal(weir_client_errors_note(&e, -err, err), 1);
  assert_int_equal(e.count, WEIR_CLIENT_ERROR_CODES);
}

static void test_hints(void **state) {
  (void)state;
  assert_non_null(strstr(weir_client_error_hint(AUTHZ), "ACL"));
  assert_non_null(strstr(weir_client_error_hint(SSL), "ssl."));
  assert_non_null(strstr(weir_client_error_hint(RD_KAFKA_RESP_ERR__AUTHENTICATION), "sasl."));
  assert_non_null(
      strstr(weir_client_error_hint(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN), "bootstrap.servers"));
}

/* Lines of `path` holding both strings. */
static int count_lines(const char *path, const char *a, const char *b) {
  char line[4096];
  int n = 0;
  FILE *f = fopen(path, "r");
  while (f && fgets(line, sizeof line, f))
    n += strstr(line, a) && strstr(line, b);
  if (f)
    fclose(f);
  return n;
}

/* The stream thread's error callback, given what librdkafka reports while
 * an ACL is missing: an authorization failure, again and again. Before, it
 * dropped every such code without a line; now one warning names the client
 * and what to do. */
static void test_thread_warns_authorization_once(void **state) {
  (void)state;
  char why[256], dir[512], path[600];
  assert_non_null(weir_test_tmpdir(dir, sizeof dir, "weir-unit-errlog"));
  snprintf(path, sizeof path, "%s/stderr.log", dir);
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", "authz-StreamThread-1", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  assert_non_null(rk);
  weir_stream_thread_t *t = calloc(1, sizeof *t);
  assert_non_null(t);
  t->producer = rk;
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600), saved = dup(2);
  assert_true(fd >= 0 && saved >= 0);
  fflush(stderr);
  dup2(fd, 2);
  for (int i = 0; i < 5; i++)
    weir_thread_on_error(rk, AUTHZ, "Topic out: Broker: Topic authorization failed", t);
  weir_thread_on_error(rk, RD_KAFKA_RESP_ERR__AUTHENTICATION, "SASL authentication failed", t);
  weir_thread_on_error(rk, RD_KAFKA_RESP_ERR__AUTHENTICATION, "SASL authentication failed", t);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fd);
  int authz = count_lines(path, "Kafka producer authz-StreamThread-1", "ACLs");
  int authn = count_lines(path, "Kafka producer authz-StreamThread-1", "sasl.");
  int warns = count_lines(path, "WARN", "Kafka producer");
  weir_rm_rf(dir);
  free(t);
  rd_kafka_destroy(rk);
  assert_int_equal(authz, 1);
  assert_int_equal(authn, 1);
  assert_int_equal(warns, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_warning_per_episode),
      cmocka_unit_test(test_codes_apart),
      cmocka_unit_test(test_clear_ends_the_episode),
      cmocka_unit_test(test_time_windows),
      cmocka_unit_test(test_many_codes),
      cmocka_unit_test(test_hints),
      cmocka_unit_test(test_thread_warns_authorization_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
