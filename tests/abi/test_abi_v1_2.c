/* A plugin built against the frozen 1.2 header (its weir_origin_t ends
 * with offset, its host API with iter_window) runs on the 1.3 host, which
 * appended the input index to the origin and input_count/input_name to the
 * API: it reads the origin fields it knows, uses its window store, and
 * reads two inputs as one stream, as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <weir/test_driver.h>

#define INI                                                                                        \
  "[weir]\napplication.id = abi-v1-2\nbootstrap.servers = embedded\n"                              \
  "[source:a]\ntopic = ta\n[source:b]\ntopic = tb\n"                                               \
  "[operator:where]\nplugin = abi_v1_2\ntype = where\ninput = a, b\nstore = w\n"                   \
  "[store:w]\ntype = window\nwindow.size.ms = 1\n"                                                 \
  "[sink:out]\ninput = where\ntopic = out\n"

static void test_v1_2_on_v1_3_host(void **state) {
  (void)state;
  char err[2048] = "";
  weir_test_driver_t *td = weir_test_driver_open(INI, WEIR_TEST_FIXTURE_DIR, err, sizeof err);
  if (!td)
    fail_msg("open: %s", err);
  assert_int_equal(weir_test_driver_pipe(td, "ta", "k", 1, "x", 1, 1000), 0);
  assert_int_equal(weir_test_driver_pipe(td, "tb", "k", 1, "y", 1, 2000), 0);
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, "out", &r);
  assert_int_equal(n, 2);
  assert_string_equal(r[0].value, "ta/0@0 size>=1");
  assert_string_equal(r[1].value, "tb/0@0 size>=1");
  weir_test_driver_close(td);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v1_2_on_v1_3_host),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
