/* The test driver (sdk/include/weir/test_driver.h), as a plugin author uses
 * it: the std plugin's word count, emit on commit and on update, stores,
 * the wall clock committing, errors and dead letters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "support/td_open.h"
#include <cmocka.h>
#include <weir/test_driver.h>

static int64_t be64(const char *v, size_t len) {
  uint64_t x = 0;
  assert_int_equal(len, 8);
  for (int i = 0; i < 8; i++)
    x = x << 8 | (unsigned char)v[i];
  return (int64_t)x;
}

static void pipe_str(weir_test_driver_t *td, const char *topic, const char *key, const char *value,
                     int64_t ts) {
  assert_int_equal(weir_test_driver_pipe(td, topic, key, key ? strlen(key) : 0, value,
                                         value ? strlen(value) : 0, ts),
                   WEIR_OK);
}

static const char wordcount[] =
    "[weir]\napplication.id = td-wc\nbootstrap.servers = embedded\ncommit.interval.ms = 1000\n"
    "[source:lines]\ntopic = lines\nvalue.serde = string\n"
    "[operator:words]\nplugin = std\ntype = split\ninput = lines\n"
    "[operator:count]\nplugin = std\ntype = count\ninput = words\ngroup.by = value\n"
    "store = counts\n"
    "[store:counts]\ntype = kv\n"
    "[sink:out]\ninput = count\ntopic = out\nkey.serde = string\nvalue.serde = int64\n";

/* Emit on commit: nothing before the commit, then one record per word with
 * its count, keyed by the word (the repartition re-keyed it). */
static void test_wordcount_emits_at_commit(void **state) {
  (void)state;
  const weir_test_record_t *out;
  const void *v;
  size_t len;
  weir_test_driver_t *td = open_ini(wordcount);
  pipe_str(td, "lines", "l1", "b a b", 1000);
  pipe_str(td, "lines", "l2", "c b", 2000);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 0);
  assert_int_equal(weir_test_driver_commit(td), WEIR_OK);
  size_t n = weir_test_driver_read(td, "out", &out);
  assert_int_equal(n, 3);
  /* One per word, in the order each was first counted since the last commit. */
  assert_string_equal(out[0].key, "b");
  assert_int_equal(be64(out[0].value, out[0].value_len), 3);
  assert_string_equal(out[1].key, "a");
  assert_int_equal(be64(out[1].value, out[1].value_len), 1);
  assert_string_equal(out[2].key, "c");
  assert_int_equal(be64(out[2].value, out[2].value_len), 1);
  assert_int_equal(weir_test_driver_store_get(td, "counts", "b", 1, &v, &len), WEIR_OK);
  assert_int_equal(be64(v, len), 3);
  assert_int_equal(weir_test_driver_store_get(td, "counts", "zzz", 3, &v, &len), WEIR_ENOENT);
  /* A second commit with nothing new emits nothing. */
  assert_int_equal(weir_test_driver_commit(td), WEIR_OK);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 0);
  weir_test_driver_close(td);
}

/* The wall clock commits every commit.interval.ms, as `weir run` does. */
static void test_wall_clock_commits(void **state) {
  (void)state;
  const weir_test_record_t *out;
  weir_test_driver_t *td = open_ini(wordcount);
  pipe_str(td, "lines", NULL, "x x", 5);
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 999), WEIR_OK);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 0);
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 1), WEIR_OK);
  assert_int_equal(weir_test_driver_wall_clock(td), 1000);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 1);
  assert_string_equal(out[0].key, "x");
  assert_int_equal(be64(out[0].value, out[0].value_len), 2);
  weir_test_driver_close(td);
}

static const char update_ini[] =
    "[weir]\napplication.id = td-upd\nbootstrap.servers = embedded\n"
    "[source:in]\ntopic = in\n"
    "[operator:count]\nplugin = std\ntype = count\ninput = in\nstore = s\nemit = update\n"
    "[store:s]\ntype = kv\n"
    "[sink:out]\ninput = count\ntopic = out\n";

/* Without group.by the input key counts; emit = update forwards each change
 * at once, with the input's timestamp. */
static void test_count_by_key_on_update(void **state) {
  (void)state;
  const weir_test_record_t *out;
  weir_test_driver_t *td = open_ini(update_ini);
  pipe_str(td, "in", "k", "v1", 10);
  pipe_str(td, "in", "j", "v2", 11);
  pipe_str(td, "in", "k", "v3", 12);
  size_t n = weir_test_driver_read(td, "out", &out);
  assert_int_equal(n, 3);
  assert_string_equal(out[2].key, "k");
  assert_int_equal(be64(out[2].value, out[2].value_len), 2);
  assert_int_equal(out[2].timestamp, 12);
  weir_test_driver_close(td);
}

static const char dead_letter_ini[] =
    "[weir]\napplication.id = td-dl\nbootstrap.servers = embedded\n"
    "deserialization.policy = dead-letter\ndead.letter.topic = dlq\n"
    "[source:in]\ntopic = in\nvalue.serde = json\n"
    "[sink:out]\ninput = in\ntopic = out\n";

/* A record its serde rejects goes to the dead-letter topic with the reason. */
static void test_dead_letter_is_readable(void **state) {
  (void)state;
  const weir_test_record_t *out;
  weir_test_driver_t *td = open_ini(dead_letter_ini);
  pipe_str(td, "in", "a", "{\"ok\":1}", 1);
  pipe_str(td, "in", "b", "{not json", 2);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 1);
  assert_int_equal(weir_test_driver_read(td, "dlq", &out), 1);
  assert_string_equal(out[0].key, "b");
  assert_string_equal(out[0].value, "{not json");
  assert_string_equal(out[0].headers[0].name, "weir.error.reason");
  assert_string_equal(out[0].headers[1].name, "weir.source.topic");
  assert_memory_equal(out[0].headers[1].value, "in", 2);
  weir_test_driver_close(td);
}

/* Configuration errors come back as `weir validate` prints them. */
static void test_open_reports_errors(void **state) {
  (void)state;
  char err[2048] = "";
  const char bad[] = "[weir]\napplication.id = x\n[operator:c]\nplugin = std\ntype = nope\n"
                     "input = missing\n";
  assert_null(weir_test_driver_open(bad, WEIR_TEST_PLUGIN_DIR, err, sizeof err));
  assert_non_null(strstr(err, "test-driver.ini:5: plugin 'std'"));
  assert_non_null(strstr(err, "has no operator type 'nope'"));
  assert_non_null(strstr(err, "test-driver.ini:6: input 'missing'"));
  weir_test_driver_t *td = open_ini(update_ini);
  assert_int_equal(weir_test_driver_pipe(td, "nowhere", NULL, 0, "x", 1, 0), WEIR_ENOENT);
  assert_string_equal(weir_test_driver_error(td), "no source reads topic 'nowhere'");
  weir_test_driver_close(td);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wordcount_emits_at_commit),
      cmocka_unit_test(test_wall_clock_commits),
      cmocka_unit_test(test_count_by_key_on_update),
      cmocka_unit_test(test_dead_letter_is_readable),
      cmocka_unit_test(test_open_reports_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
