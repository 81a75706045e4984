/* Client configurations: a [kafka] key reaches only the clients it is for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kafka/kafka_conf.h"

static const weir_kafka_prop_t props[] = {
    {"session.timeout.ms", "30000", 6},     /* consumer only */
    {"linger.ms", "50", 7},                 /* producer only */
    {"socket.keepalive.enable", "true", 8}, /* every client */
};
static const weir_kafka_settings_t settings = {"t.ini", "app", props, 3, 0};

/* The value `role`'s conf from `s` holds for `key`, as librdkafka reports it. */
static const char *value_in(const weir_kafka_settings_t *s, weir_client_role_t role,
                            const char *key, char *buf, size_t size) {
  char err[512];
  rd_kafka_conf_t *conf = weir_kafka_conf_new(s, "127.0.0.1:9", role, "t", err, sizeof err);
  if (!conf)
    fail_msg("weir_kafka_conf_new: %s", err);
  size_t n = size;
  if (rd_kafka_conf_get(conf, key, buf, &n) != RD_KAFKA_CONF_OK)
    fail_msg("no %s in the conf", key);
  rd_kafka_conf_destroy(conf);
  return buf;
}

static const char *value_for(weir_client_role_t role, const char *key, char *buf, size_t size) {
  return value_in(&settings, role, key, buf, size);
}

/* The admin client (a producer-type handle) warned "is a consumer property
 * and will be ignored" for every consumer-only key on every start. */
static void test_admin_takes_no_client_only_keys(void **state) {
  (void)state;
  char buf[64];
  assert_string_not_equal(value_for(WEIR_CLIENT_ADMIN, "session.timeout.ms", buf, sizeof buf),
                          "30000");
  assert_string_not_equal(value_for(WEIR_CLIENT_ADMIN, "linger.ms", buf, sizeof buf), "50");
  assert_string_equal(value_for(WEIR_CLIENT_ADMIN, "socket.keepalive.enable", buf, sizeof buf),
                      "true");
}

static void test_each_client_takes_its_own_keys(void **state) {
  (void)state;
  char buf[64];
  assert_string_equal(value_for(WEIR_CLIENT_CONSUMER, "session.timeout.ms", buf, sizeof buf),
                      "30000");
  assert_string_not_equal(value_for(WEIR_CLIENT_CONSUMER, "linger.ms", buf, sizeof buf), "50");
  assert_string_equal(value_for(WEIR_CLIENT_PRODUCER, "linger.ms", buf, sizeof buf), "50");
  assert_string_not_equal(value_for(WEIR_CLIENT_PRODUCER, "session.timeout.ms", buf, sizeof buf),
                          "30000");
  assert_string_equal(value_for(WEIR_CLIENT_RESTORE, "session.timeout.ms", buf, sizeof buf),
                      "30000");
  assert_string_equal(value_for(WEIR_CLIENT_PRODUCER, "socket.keepalive.enable", buf, sizeof buf),
                      "true");
  assert_string_equal(value_for(WEIR_CLIENT_CONSUMER, "group.id", buf, sizeof buf), "app");
}

/* A key librdkafka does not know goes to it, and its refusal names the line. */
static void test_unknown_key_refused_with_line(void **state) {
  (void)state;
  static const weir_kafka_prop_t bad[] = {{"no.such.key", "1", 9}};
  const weir_kafka_settings_t s = {"t.ini", "app", bad, 1, 0};
  char err[512];
  assert_null(weir_kafka_conf_new(&s, "127.0.0.1:9", WEIR_CLIENT_ADMIN, "t", err, sizeof err));
  assert_non_null(strstr(err, "t.ini:9: [kafka] librdkafka rejected no.such.key=1"));
}

/* A consumer key's weir default is `fallback`, and a [kafka] value `user` wins. */
static void default_then_user_value_of(weir_client_role_t role, const char *key,
                                       const char *fallback, const char *user) {
  char buf[64];
  assert_string_equal(value_for(role, key, buf, sizeof buf), fallback);
  const weir_kafka_prop_t set[] = {{(char *)key, (char *)user, 5}};
  const weir_kafka_settings_t s = {"t.ini", "app", set, 1, 0};
  assert_string_equal(value_in(&s, role, key, buf, sizeof buf), user);
}

static void default_then_user_value(const char *key, const char *fallback, const char *user) {
  default_then_user_value_of(WEIR_CLIENT_CONSUMER, key, fallback, user);
}

/* The consumer's Fetch is bounded as a whole (fetch.max.bytes): one
 * response of 1 MiB per partition landed ~3,500,000 small records at once. */
static void test_fetch_bounded_by_default_and_settable(void **state) {
  (void)state;
  default_then_user_value("fetch.max.bytes", "2097152", "8388608");
}

/* A resumed partition waits for the Fetch in flight: a long poll of at most
 * 100 ms, not librdkafka's 500 (kafka_conf.c). The restore consumer's own
 * 10 ms is restore.c's. */
static void test_long_poll_short_by_default(void **state) {
  (void)state;
  default_then_user_value("fetch.wait.max.ms", "100", "500");
}

/* The producer's queue is bounded where the broker acknowledges more slowly
 * than weir produces: at weir's first default, 1,000,000 records, a passthrough's
 * peak RSS followed it to 88 MiB (kafka_conf.c); a user may raise it. */
static void test_producer_queue_bounded_by_default_and_settable(void **state) {
  (void)state;
  default_then_user_value_of(WEIR_CLIENT_PRODUCER, "queue.buffering.max.messages", "50000",
                             "1000000");
  default_then_user_value_of(WEIR_CLIENT_PRODUCER, "queue.buffering.max.kbytes", "32768",
                             "1048576");
}

/* The queue is small where weir wakes the fetchers (kafka/fetch_wake.h), and
 * as large as before with the in-process mock, which it does not wake. */
static void test_consumer_queue_by_broker(void **state) {
  (void)state;
  const char *keys[] = {"queued.min.messages", "max.partition.fetch.bytes", "session.timeout.ms"};
  const char *want[2][3] = {{"20000", "65536", "45000"}, {"200000", "1048576", "6000"}};
  for (int embedded = 0; embedded < 2; embedded++) {
    const weir_kafka_settings_t s = {"t.ini", "app", NULL, 0, embedded};
    char buf[64];
    for (int k = 0; k < 3; k++)
      assert_string_equal(value_in(&s, WEIR_CLIENT_RESTORE, keys[k], buf, sizeof buf),
                          want[embedded][k]);
  }
}

/* A [kafka] value still wins over an embedded default. */
static void test_user_value_beats_embedded_default(void **state) {
  (void)state;
  const weir_kafka_settings_t s = {"t.ini", "app", props, 3, 1};
  char buf[64];
  assert_string_equal(value_in(&s, WEIR_CLIENT_CONSUMER, "session.timeout.ms", buf, sizeof buf),
                      "30000");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_admin_takes_no_client_only_keys),
      cmocka_unit_test(test_each_client_takes_its_own_keys),
      cmocka_unit_test(test_unknown_key_refused_with_line),
      cmocka_unit_test(test_fetch_bounded_by_default_and_settable),
      cmocka_unit_test(test_long_poll_short_by_default),
      cmocka_unit_test(test_producer_queue_bounded_by_default_and_settable),
      cmocka_unit_test(test_consumer_queue_by_broker),
      cmocka_unit_test(test_user_value_beats_embedded_default),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
