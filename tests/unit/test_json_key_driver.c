/* group.by = json:PATH keys by the canonical form of the member (issue 12
 * item 10): records whose members are equal but written differently —
 * "a\u0062" and "ab", 1, 1.0 and 1e0 — get one key after the repartition,
 * so they reach the same partition and task and are counted together.
 * Through the test driver, as a plugin author tests a topology. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <weir/test_driver.h>

static int64_t be64(const char *v, size_t len) {
  uint64_t x = 0;
  assert_int_equal(len, 8);
  for (int i = 0; i < 8; i++)
    x = x << 8 | (unsigned char)v[i];
  return (int64_t)x;
}

static const char topology[] =
    "[weir]\napplication.id = td-json-key\nbootstrap.servers = embedded\n"
    "commit.interval.ms = 1000\n"
    "[source:in]\ntopic = in\nvalue.serde = json\n"
    "[operator:count]\nplugin = std\ntype = count\ninput = in\ngroup.by = json:k\n"
    "store = counts\n[store:counts]\ntype = kv\n"
    "[sink:out]\ninput = count\ntopic = out\nkey.serde = string\nvalue.serde = int64\n";

static void test_equal_members_share_a_key(void **state) {
  (void)state;
  static const char *const values[] = {"{\"k\":\"a\\u0062\"}", "{\"k\":\"ab\"}", "{\"k\":1}",
                                       "{\"k\":1.0}", "{\"k\":1e0}"};
  char err[2048] = "";
  const weir_test_record_t *out;
  weir_test_driver_t *td = weir_test_driver_open(topology, WEIR_TEST_PLUGIN_DIR, err, sizeof err);
  if (!td)
    fail_msg("open: %s", err);
  for (size_t i = 0; i < sizeof values / sizeof *values; i++)
    assert_int_equal(
        weir_test_driver_pipe(td, "in", NULL, 0, values[i], strlen(values[i]), (int64_t)i + 1),
        WEIR_OK);
  assert_int_equal(weir_test_driver_commit(td), WEIR_OK);
  size_t n = weir_test_driver_read(td, "out", &out);
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, "out: key '%.*s' count %lld\n", (int)out[i].key_len, out[i].key,
            (long long)be64(out[i].value, out[i].value_len));
  assert_int_equal(n, 2);
  assert_int_equal(out[0].key_len, 2);
  assert_memory_equal(out[0].key, "ab", 2);
  assert_int_equal(be64(out[0].value, out[0].value_len), 2);
  assert_int_equal(out[1].key_len, 1);
  assert_memory_equal(out[1].key, "1", 1);
  assert_int_equal(be64(out[1].value, out[1].value_len), 3);
  weir_test_driver_close(td);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_equal_members_share_a_key)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
