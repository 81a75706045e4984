/* A plugin built against the frozen 1.1 header (its operator definitions
 * end with flush, so the host reads punctuate and extract_timestamp as
 * NULL) runs on the 1.2 host with its store and flush, in one topology with
 * a 1.2 plugin whose punctuate fires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <weir/test_driver.h>

#define INI                                                                                        \
  "[weir]\napplication.id = abi-v1-1\nbootstrap.servers = embedded\n"                              \
  "[source:in]\ntopic = in\nkey.serde = string\nvalue.serde = string\n"                            \
  "[operator:tally]\nplugin = abi_v1_1\ntype = tally\ninput = in\nstore = counts\n"                \
  "[store:counts]\ntype = kv\n"                                                                    \
  "[operator:tick]\nplugin = timer_ops\ntype = ticker\ninput = tally\ninterval = 1000\n"           \
  "[sink:out]\ninput = tick\ntopic = out\nkey.serde = string\nvalue.serde = string\n"

static const char *outputs(weir_test_driver_t *td) {
  static char buf[2048];
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, "out", &r), used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && used < sizeof buf; i++)
    used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s@%lld", i ? " " : "", r[i].value,
                             (long long)r[i].timestamp);
  return buf;
}

static int pipe_kv(weir_test_driver_t *td, const char *key, int64_t ts) {
  return weir_test_driver_pipe(td, "in", key, strlen(key), "v", 1, ts);
}

static void test_v1_1_beside_v1_2(void **state) {
  (void)state;
  char err[2048] = "";
  const void *v;
  size_t len;
  long long n = 0;
  weir_test_driver_t *td = weir_test_driver_open(INI, WEIR_TEST_FIXTURE_DIR, err, sizeof err);
  if (!td)
    fail_msg("open: %s", err);
  assert_int_equal(pipe_kv(td, "a", 100), WEIR_OK);
  assert_int_equal(pipe_kv(td, "b", 200), WEIR_OK);
  assert_int_equal(pipe_kv(td, "a", 1200), WEIR_OK);
  /* 1.1 outputs through the 1.2 ticker, whose stream-time timer fires at 0
   * (the first record) and 1000. */
  assert_string_equal(outputs(td), "a=1@100 1@100#1@100 b=1@200 a=2@1200 1@1200#2@1200");
  assert_int_equal(weir_test_driver_commit(td), WEIR_OK); /* the 1.1 flush() */
  assert_string_equal(outputs(td), "flushed:3@1200");
  assert_int_equal(weir_test_driver_store_get(td, "counts", "a", 1, &v, &len), WEIR_OK);
  assert_int_equal(len, sizeof n);
  memcpy(&n, v, sizeof n);
  assert_int_equal(n, 2);
  weir_test_driver_close(td);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v1_1_beside_v1_2),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
