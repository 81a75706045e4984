/* Plugins built against the frozen 1.0 header, run by the real host (the
 * test driver runs weir run's task code): their records go through
 * weir_forward into other 1.0 operators and sinks. The record size rule of
 * weir.h: a record of at least the 1.0 size is read (what the host knows,
 * the rest zero), a larger one from a later minor too; a smaller one is
 * refused with a line naming the operator and the sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <weir/test_driver.h>

#define HEAD                                                                                       \
  "[weir]\napplication.id = abi-host\nbootstrap.servers = embedded\n"                              \
  "[source:lines]\ntopic = lines\nkey.serde = string\nvalue.serde = string\n"
#define SINK(input)                                                                                \
  "[sink:out]\ninput = " input "\ntopic = out\nkey.serde = string\nvalue.serde = string\n"

static weir_test_driver_t *open_ini(const char *ini) {
  char err[2048] = "";
  weir_test_driver_t *td = weir_test_driver_open(ini, WEIR_TEST_FIXTURE_DIR, err, sizeof err);
  if (!td)
    fail_msg("open: %s", err);
  return td;
}

static int pipe_one(weir_test_driver_t *td, const char *key, const char *value, int64_t ts) {
  weir_header_t hdr = {"h", "hv", 2};
  return weir_test_driver_pipe_headers(td, "lines", key, strlen(key), value, strlen(value), ts,
                                       &hdr, 1);
}

/* 1.0 records forwarded from one 1.0 operator to the next, then produced. */
static void test_v1_0_records_through_host(void **state) {
  (void)state;
  const weir_test_record_t *out;
  weir_test_driver_t *td =
      open_ini(HEAD "[operator:first]\nplugin = abi_v1_0\ntype = tag\ninput = lines\n"
                    "prefix = a:\n"
                    "[operator:second]\nplugin = abi_v1_0\ntype = tag\ninput = first\n"
                    "prefix = b:\n" SINK("second"));
  assert_int_equal(pipe_one(td, "k1", "hello", 1700000000123), WEIR_OK);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 1);
  assert_string_equal(out[0].key, "k1");
  assert_string_equal(out[0].value, "b:a:hello");
  assert_int_equal(out[0].timestamp, 1700000000123);
  assert_int_equal(out[0].header_count, 1);
  assert_string_equal(out[0].headers[0].name, "h");
  assert_memory_equal(out[0].headers[0].value, "hv", 2);
  weir_test_driver_close(td);
}

/* A later minor's record, larger than this host's: the known fields are read. */
static void test_larger_record_read(void **state) {
  (void)state;
  const weir_test_record_t *out;
  weir_test_driver_t *td =
      open_ini(HEAD "[operator:grown]\nplugin = abi_record_sizes\ntype = grown\ninput = lines\n"
                    "[operator:tag]\nplugin = abi_v1_0\ntype = tag\ninput = grown\n" SINK("tag"));
  assert_int_equal(pipe_one(td, "k", "v", 5), WEIR_OK);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 1);
  assert_string_equal(out[0].key, "k");
  assert_string_equal(out[0].value, "v1:v");
  assert_int_equal(out[0].timestamp, 5);
  weir_test_driver_close(td);
}

/* Smaller than the 1.0 record: refused, nothing produced, and the line says
 * which operator, what size, and what to do. */
static void test_smaller_than_1_0_refused(void **state) {
  (void)state;
  const weir_test_record_t *out;
  char want[64];
  weir_test_driver_t *td = open_ini(
      HEAD "[operator:cut]\nplugin = abi_record_sizes\ntype = short\ninput = lines\n" SINK("cut"));
  assert_int_equal(pipe_one(td, "k", "v", 5), WEIR_EFAIL);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 0);
  const char *err = weir_test_driver_error(td);
  snprintf(want, sizeof want, "struct_size %zu", offsetof(weir_record_t, header_count));
  assert_non_null(strstr(err, "operator 'cut'"));
  assert_non_null(strstr(err, want));
  snprintf(want, sizeof want, "ABI 1.0 record (%zu bytes)",
           offsetof(weir_record_t, header_count) + sizeof(size_t));
  assert_non_null(strstr(err, want));
  assert_non_null(strstr(err, "WEIR_RECORD_INIT"));
  weir_test_driver_close(td);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v1_0_records_through_host),
      cmocka_unit_test(test_larger_record_read),
      cmocka_unit_test(test_smaller_than_1_0_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
