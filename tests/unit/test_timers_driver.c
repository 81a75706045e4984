/* SDK 1.2 through the test driver (the host's own task code): stream-time
 * and wall-clock punctuators with exact outputs, a jump over several
 * intervals firing once, cancel, failures under processing.error.policy,
 * stores used from punctuate, store enumeration, and the sources'
 * `timestamp =` (json:PATH as a number and as ISO-8601 with a zone, an
 * extractor plugin) with bad timestamps under deserialization.policy. The
 * operators are tests/fixtures/timer_ops.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <weir/test_driver.h>

#define HEAD(policy)                                                                               \
  "[weir]\napplication.id = timers\nbootstrap.servers = embedded\n"                                \
  "dead.letter.topic = dlq\n" policy
#define SOURCE(extra) "[source:in]\ntopic = in\nkey.serde = string\n" extra
#define SINK(input)                                                                                \
  "[sink:out]\ninput = " input "\ntopic = out\nkey.serde = string\nvalue.serde = string\n"
#define TICKER(params) "[operator:tick]\nplugin = timer_ops\ntype = ticker\ninput = in\n" params

static weir_test_driver_t *open_ini(const char *ini) {
  char err[2048] = "";
  weir_test_driver_t *td = weir_test_driver_open(ini, WEIR_TEST_FIXTURE_DIR, err, sizeof err);
  if (!td)
    fail_msg("open: %s", err);
  return td;
}

static int pipe_v(weir_test_driver_t *td, const char *key, const char *value, int64_t ts) {
  return weir_test_driver_pipe(td, "in", key, key ? strlen(key) : 0, value, strlen(value), ts);
}

/* What reached `out` since the last read, as "value@timestamp" joined by
 * spaces (a tick's value already names its punctuation time). */
static const char *outputs(weir_test_driver_t *td, const char *topic) {
  static char buf[4096];
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, topic, &r), used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && used < sizeof buf; i++)
    used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s@%lld", i ? " " : "",
                             r[i].value ? r[i].value : "(tombstone)", (long long)r[i].timestamp);
  return buf;
}

/* Boundaries are multiples of the interval (aligned to 0, as Kafka
 * Streams); the first record reaches the boundary 0; a jump fires once and
 * the next boundary is the first after the new stream time; an out-of-order
 * record moves nothing; advance_stream_time fires too. */
static void test_stream_time_timer(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD("") SOURCE("value.serde = string\n") TICKER("interval = 1000\n") SINK("tick"));
  assert_int_equal(pipe_v(td, "k", "a", 500), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "a@500 1@500#1@500");
  assert_int_equal(pipe_v(td, "k", "b", 999), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "b@999");
  assert_int_equal(pipe_v(td, "k", "c", 1000), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "c@1000 1@1000#2@1000");
  assert_int_equal(pipe_v(td, "k", "d", 4500), WEIR_OK); /* over 2000, 3000 and 4000: once */
  assert_string_equal(outputs(td, "out"), "d@4500 1@4500#3@4500");
  assert_int_equal(pipe_v(td, "k", "e", 3000), WEIR_OK); /* out of order: stream time stays */
  assert_int_equal(pipe_v(td, "k", "f", 4999), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "e@3000 f@4999");
  assert_int_equal(pipe_v(td, "k", "g", 5000), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "g@5000 1@5000#4@5000");
  weir_test_driver_advance_stream_time(td, 2500); /* 7500: once */
  assert_string_equal(weir_test_driver_error(td), "");
  assert_string_equal(outputs(td, "out"), "1@7500#5@7500");
  weir_test_driver_advance_stream_time(td, 499); /* 7999: before 8000 */
  assert_string_equal(outputs(td, "out"), "");
  weir_test_driver_close(td);
}

/* The driver's wall clock starts at 0; the timer is due interval after
 * init, then every interval; a late turn fires once; no record needed. */
static void test_wall_clock_timer(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD("") SOURCE("value.serde = string\n")
                                        TICKER("domain = wall\ninterval = 1000\n") SINK("tick"));
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 999), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "");
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 1), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "1@1000#1@1000");
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 3500), WEIR_OK); /* 4500: once */
  assert_string_equal(outputs(td, "out"), "1@4500#2@4500");
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 499), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "");
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 1), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "1@5000#3@5000");
  /* Records do not fire wall-clock timers, and stream time does not either. */
  assert_int_equal(pipe_v(td, "k", "a", 99000), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "a@99000");
  weir_test_driver_close(td);
}

static void test_cancel_from_punctuate(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD("") SOURCE("value.serde = string\n") TICKER(
      "domain = wall\ninterval = 10\ncancel.after = 2\n") SINK("tick"));
  for (int i = 0; i < 5; i++)
    assert_int_equal(weir_test_driver_advance_wall_clock(td, 10), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "1@10#1@10 1@20#2@20");
  weir_test_driver_close(td);
}

/* punctuate's error follows processing.error.policy. */
static void test_punctuate_error_policy(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD("processing.error.policy = fail\n") SOURCE(
      "value.serde = string\n") TICKER("domain = wall\ninterval = 10\nfail = true\n") SINK("tick"));
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 10), WEIR_EFAIL);
  const char *err = weir_test_driver_error(td);
  if (!strstr(err, "operator 'tick'") || !strstr(err, "timer 1") || !strstr(err, "stopping"))
    fail_msg("error: %s", err);
  weir_test_driver_close(td);

  td = open_ini(HEAD("processing.error.policy = skip\n") SOURCE("value.serde = string\n")
                    TICKER("domain = wall\ninterval = 10\nfail = true\n") SINK("tick"));
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 10), WEIR_OK);
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 10), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "");
  weir_test_driver_close(td);
}

/* punctuate reads and writes a store; the store is found by enumeration. */
static void test_punctuate_uses_store(void **state) {
  (void)state;
  const void *v;
  size_t len;
  int64_t n = 0;
  weir_test_driver_t *td = open_ini(HEAD("") SOURCE("value.serde = string\n") TICKER(
      "domain = wall\ninterval = 100\nstore = ticks\n") "[store:ticks]\ntype = kv\n" SINK("tick"));
  for (int i = 0; i < 3; i++)
    assert_int_equal(weir_test_driver_advance_wall_clock(td, 100), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "1@100#1@100 1@200#2@200 1@300#3@300");
  assert_int_equal(weir_test_driver_commit(td), WEIR_OK);
  assert_int_equal(weir_test_driver_store_get(td, "ticks", "ticks", 5, &v, &len), WEIR_OK);
  assert_int_equal(len, sizeof n);
  memcpy(&n, v, sizeof n);
  assert_int_equal(n, 3);
  weir_test_driver_close(td);
}

static void test_store_enumeration(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD("") SOURCE(
      "value.serde = string\n") "[operator:names]\nplugin = timer_ops\ntype = stores\ninput = in\n"
                                "store = b, a\n[store:a]\ntype = kv\n[store:b]\ntype = kv\n"
                                "[operator:none]\nplugin = timer_ops\ntype = stores\ninput = "
                                "in\n" SINK("names, none"));
  assert_int_equal(pipe_v(td, "k", "x", 1), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "2:b,a,(null)@1 0:(null)@1");
  weir_test_driver_close(td);
}

/* json:PATH: a number of ms, an ISO-8601 string with its zone (+01:00, Z,
 * -05:30 with one fraction digit), a nested member. The record's own
 * timestamp (7) is ignored; outputs carry the extracted one. */
static void test_json_timestamps(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD("") SOURCE("value.serde = json\ntimestamp = json:meta.at\n") SINK("in"));
  assert_int_equal(pipe_v(td, "k", "{\"meta\":{\"at\":1700000000123}}", 7), WEIR_OK);
  assert_int_equal(pipe_v(td, "k", "{\"meta\":{\"at\":\"2026-12-03T10:00:00.123+01:00\"}}", 7),
                   WEIR_OK);
  assert_int_equal(pipe_v(td, "k", "{\"meta\":{\"at\":\"2026-12-03T10:00:00Z\"}}", 7), WEIR_OK);
  assert_int_equal(pipe_v(td, "k", "{\"meta\":{\"at\":\"2024-02-29T23:59:59.9-05:30\"}}", 7),
                   WEIR_OK);
  const weir_test_record_t *r;
  assert_int_equal(weir_test_driver_read(td, "out", &r), 4);
  assert_int_equal(r[0].timestamp, 1700000000123);
  assert_int_equal(r[1].timestamp, 1796288400123);
  assert_int_equal(r[2].timestamp, 1796292000000);
  assert_int_equal(r[3].timestamp, 1709270999900);
  weir_test_driver_close(td);
}

/* The stream time (and so the timers) follows the extracted timestamps. */
static void test_stream_time_from_json(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD("") SOURCE("value.serde = json\ntimestamp = json:t\n")
                                        TICKER("interval = 1000\n") SINK("tick"));
  assert_int_equal(pipe_v(td, "k", "{\"t\":2500}", 999999), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "{\"t\":2500}@2500 1@2500#1@2500");
  assert_int_equal(pipe_v(td, "k", "{\"t\":2900}", 999999), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "{\"t\":2900}@2900");
  weir_test_driver_close(td);
}

/* Missing, negative, unparsable: skip (the default), fail, dead-letter. */
static void test_bad_timestamp_policies(void **state) {
  (void)state;
  static const char *const bad[] = {"{\"x\":1}", "{\"t\":-5}", "{\"t\":\"yesterday\"}",
                                    "{\"t\":\"2026-12-03T10:00:00\"}", "{\"t\":null}"};
  weir_test_driver_t *td =
      open_ini(HEAD("") SOURCE("value.serde = json\ntimestamp = json:t\n") SINK("in"));
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(pipe_v(td, "k", bad[i], 5), WEIR_OK);
  assert_int_equal(pipe_v(td, "k", "{\"t\":9}", 5), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "{\"t\":9}@9");
  weir_test_driver_close(td);

  td = open_ini(HEAD("deserialization.policy = fail\n")
                    SOURCE("value.serde = json\ntimestamp = json:t\n") SINK("in"));
  assert_int_equal(pipe_v(td, "k", "{\"t\":\"yesterday\"}", 5), WEIR_EFAIL);
  const char *err = weir_test_driver_error(td);
  if (!strstr(err, "bad timestamp") || !strstr(err, "json:t") || !strstr(err, "ISO-8601"))
    fail_msg("error: %s", err);
  weir_test_driver_close(td);

  td = open_ini(HEAD("deserialization.policy = dead-letter\n")
                    SOURCE("value.serde = json\ntimestamp = json:t\n") SINK("in"));
  assert_int_equal(pipe_v(td, "k", "{\"x\":1}", 5), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "");
  const weir_test_record_t *r;
  assert_int_equal(weir_test_driver_read(td, "dlq", &r), 1);
  assert_string_equal(r[0].value, "{\"x\":1}");
  int named = 0;
  for (size_t i = 0; i < r[0].header_count; i++)
    named |= r[0].headers[i].value && strstr(r[0].headers[i].value, "json:t") != NULL;
  assert_true(named);
  weir_test_driver_close(td);

  /* The default `record`: a negative record timestamp is bad too. */
  td =
      open_ini(HEAD("deserialization.policy = fail\n") SOURCE("value.serde = string\n") SINK("in"));
  assert_int_equal(pipe_v(td, "k", "v", -1), WEIR_EFAIL);
  if (!strstr(weir_test_driver_error(td), "missing or negative"))
    fail_msg("error: %s", weir_test_driver_error(td));
  weir_test_driver_close(td);
}

/* An extractor plugin, its parameter in the source section; its error
 * follows deserialization.policy. */
static void test_extractor_plugin(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD("") SOURCE("value.serde = string\ntimestamp = extractor:timer_ops.ts-from-key\n"
                               "offset = 5\n") SINK("in"));
  assert_int_equal(pipe_v(td, "1000", "a", 1), WEIR_OK);
  assert_int_equal(pipe_v(td, "x", "b", 1), WEIR_OK);   /* skipped */
  assert_int_equal(pipe_v(td, "-10", "c", 1), WEIR_OK); /* negative: skipped */
  assert_string_equal(outputs(td, "out"), "a@1005");
  weir_test_driver_close(td);

  /* The partition time an extractor is given: -1 before the first, then
   * the largest extracted so far. */
  td = open_ini(HEAD("") SOURCE(
      "value.serde = string\ntimestamp = extractor:timer_ops.ts-from-key\n") SINK("in"));
  assert_int_equal(pipe_v(td, "prev", "a", 1), WEIR_OK); /* -1: skipped */
  assert_int_equal(pipe_v(td, "1000", "b", 1), WEIR_OK);
  assert_int_equal(pipe_v(td, "prev", "c", 1), WEIR_OK);
  assert_int_equal(pipe_v(td, "500", "d", 1), WEIR_OK);
  assert_int_equal(pipe_v(td, "prev", "e", 1), WEIR_OK);
  assert_string_equal(outputs(td, "out"), "b@1000 c@1000 d@500 e@1000");
  weir_test_driver_close(td);

  td = open_ini(HEAD("deserialization.policy = fail\n") SOURCE(
      "value.serde = string\ntimestamp = extractor:timer_ops.ts-from-key\n") SINK("in"));
  assert_int_equal(pipe_v(td, "x", "b", 1), WEIR_EFAIL);
  if (!strstr(weir_test_driver_error(td), "timestamp extractor timer_ops.ts-from-key returned"))
    fail_msg("error: %s", weir_test_driver_error(td));
  weir_test_driver_close(td);
}

static void expect_refused(const char *ini, const char *want1, const char *want2) {
  char err[2048] = "";
  weir_test_driver_t *td = weir_test_driver_open(ini, WEIR_TEST_FIXTURE_DIR, err, sizeof err);
  if (td) {
    weir_test_driver_close(td);
    fail_msg("accepted: %s", ini);
  }
  if (!strstr(err, want1) || !strstr(err, want2))
    fail_msg("error: %s", err);
}

/* Validation: file:line, and what to write instead. */
static void test_timestamp_config_errors(void **state) {
  (void)state;
  /* line 8: the timestamp line (HEAD is 4 lines, then the source section). */
  expect_refused(HEAD("") SOURCE("timestamp = extractor:timer_ops.nope\n") SINK("in"),
                 "test-driver.ini:8", "has no timestamp extractor type 'nope'");
  expect_refused(HEAD("") SOURCE("timestamp = extractor:timer_ops.ticker\n") SINK("in"),
                 "test-driver.ini:8", "its extractors are: ts-from-key");
  expect_refused(HEAD("") SOURCE("timestamp = extractor:nosuchplugin.x\n") SINK("in"),
                 "test-driver.ini:8", "cannot load plugin 'nosuchplugin'");
  expect_refused(HEAD("") SOURCE("timestamp = extractor:timer_ops\n") SINK("in"),
                 "test-driver.ini:8", "extractor:PLUGIN.TYPE");
  expect_refused(HEAD("") SOURCE("timestamp = wallclock\n") SINK("in"), "test-driver.ini:8",
                 "expected record, json:PATH");
  expect_refused(HEAD("") SOURCE("offset = 5\n") SINK("in"), "test-driver.ini:8", "offset");
  /* A typo next to an extractor: one line, listing the extractor's keys. */
  char err[2048] = "";
  const char *typo =
      HEAD("") SOURCE("timestamp = extractor:timer_ops.ts-from-key\nofset = 5\n") SINK("in");
  assert_null(weir_test_driver_open(typo, WEIR_TEST_FIXTURE_DIR, err, sizeof err));
  const char *first = strstr(err, "unknown key 'ofset'");
  if (!first || strstr(first + 1, "unknown key 'ofset'") || !strstr(err, "offset"))
    fail_msg("error: %s", err);
  expect_refused(HEAD("") SOURCE("") "[operator:x]\nplugin = timer_ops\ntype = ts-from-key\n"
                                     "input = in\n" SINK("x"),
                 "is a timestamp extractor, not an operator", "timestamp = extractor:");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream_time_timer),       cmocka_unit_test(test_wall_clock_timer),
      cmocka_unit_test(test_cancel_from_punctuate),   cmocka_unit_test(test_punctuate_error_policy),
      cmocka_unit_test(test_punctuate_uses_store),    cmocka_unit_test(test_store_enumeration),
      cmocka_unit_test(test_json_timestamps),         cmocka_unit_test(test_stream_time_from_json),
      cmocka_unit_test(test_bad_timestamp_policies),  cmocka_unit_test(test_extractor_plugin),
      cmocka_unit_test(test_timestamp_config_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
