/* The fake host that operator tests run on: what it captures and returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "support/fake_host.h"

static void params_and_defaults(void **state) {
  const weir_param_def_t defs[] = {WEIR_PARAM_STR("s", "dflt", "doc"),
                                   WEIR_PARAM_INT("n", "7", 0, 10, "doc"),
                                   WEIR_PARAM_BOOL("b", "on", "doc"),
                                   WEIR_PARAM_DOUBLE("d", "0.25", 0, 1, "doc"), WEIR_PARAM_END};
  fake_host_t h;
  fake_host_init(&h);
  weir_ctx_t *ctx = fake_host_ctx(&h);
  assert_null(weir_param_str(ctx, "s"));
  fake_host_use_defs(&h, defs);
  assert_string_equal(weir_param_str(ctx, "s"), "dflt");
  assert_int_equal(weir_param_int(ctx, "n"), 7);
  assert_int_equal(weir_param_bool(ctx, "b"), 1);
  assert_true(weir_param_double(ctx, "d") == 0.25);
  assert_null(weir_param_str(ctx, "undeclared"));
  assert_int_equal(weir_param_int(ctx, "undeclared"), 0);
  assert_int_equal(fake_host_set_param(&h, "s", "one"), 0);
  assert_int_equal(fake_host_set_param(&h, "s", "two"), 0);
  assert_int_equal(fake_host_set_param(&h, "b", "False"), 0);
  assert_string_equal(weir_param_str(ctx, "s"), "two");
  assert_int_equal(weir_param_bool(ctx, "b"), 0);
  assert_int_equal(fake_host_add_param(&h, "m", "a"), 0);
  assert_int_equal(fake_host_add_param(&h, "m", "b"), 0);
  assert_string_equal(weir_param_str(ctx, "m"), "a\nb");
  fake_host_free(&h);
}

static void forwarding_copies(void **state) {
  fake_host_t h;
  char key[] = "key", value[] = "value";
  weir_header_t hdr = {"trace", NULL, 0};
  weir_record_t rec = WEIR_RECORD_INIT;
  fake_host_init(&h);
  weir_ctx_t *ctx = fake_host_ctx(&h);
  assert_int_equal(fake_host_add_child(&h, "errors"), 0);
  rec.key = key;
  rec.key_len = 3;
  rec.value = value;
  rec.value_len = 5;
  rec.timestamp = 99;
  rec.headers = &hdr;
  rec.header_count = 1;
  assert_int_equal(weir_forward(ctx, &rec), WEIR_OK);
  memset(value, 'x', 5); /* the capture is a copy */
  assert_int_equal(weir_forward_to(ctx, "errors", &rec), WEIR_OK);
  assert_int_equal(weir_forward_to(ctx, "nobody", &rec), WEIR_ENOENT);
  h.forward_rc = WEIR_EFAIL;
  assert_int_equal(weir_forward(ctx, &rec), WEIR_EFAIL);
  h.forward_rc = WEIR_OK;
  rec.struct_size = 8; /* below the 1.0 record: refused, as the real host does */
  assert_int_equal(weir_forward(ctx, &rec), WEIR_EINVAL);
  rec.struct_size = (uint32_t)sizeof rec;
  assert_int_equal(h.record_count, 3);
  assert_null(h.records[0].child);
  assert_string_equal(h.records[0].key, "key");
  assert_string_equal(h.records[0].value, "value");
  assert_int_equal(h.records[0].timestamp, 99);
  assert_string_equal(h.records[0].headers[0].name, "trace");
  assert_null(h.records[0].headers[0].value);
  assert_string_equal(h.records[1].child, "errors");
  assert_string_equal(h.records[1].value, "xxxxx");
  assert_int_equal(weir_child_count(ctx), 1);
  assert_string_equal(weir_child_name(ctx, 0), "errors");
  assert_null(weir_child_name(ctx, 1));
  fake_host_clear(&h);
  assert_int_equal(h.record_count, 0);
  fake_host_free(&h);
}

static void logs_metrics_origin(void **state) {
  fake_host_t h;
  fake_host_init(&h);
  weir_ctx_t *ctx = fake_host_ctx(&h);
  weir_log(ctx, WEIR_LOG_DEBUG, "seen %d", 3);
  h.log_level = WEIR_LOG_WARN;
  weir_log(ctx, WEIR_LOG_INFO, "hidden");
  assert_int_equal(h.log_count, 1);
  assert_non_null(fake_host_find_log(&h, "seen 3"));
  assert_null(fake_host_find_log(&h, "hidden"));
  weir_metric_add(ctx, "n", 2);
  weir_metric_add(ctx, "n", 3);
  assert_int_equal(fake_host_metric(&h, "n"), 5);
  assert_int_equal(fake_host_metric(&h, "other"), 0);
  assert_null(weir_origin(ctx)->topic);
  assert_int_equal(fake_host_set_origin(&h, "in", 2, 40), 0);
  assert_string_equal(weir_origin(ctx)->topic, "in");
  assert_int_equal(weir_origin(ctx)->partition, 2);
  assert_int_equal(weir_origin(ctx)->offset, 40);
  assert_string_equal(weir_node_name(ctx), "node");
  assert_string_equal(weir_task_id(ctx), "0_0");
  assert_int_equal(fake_host_set_node(&h, "words", "1_3"), 0);
  assert_string_equal(weir_node_name(ctx), "words");
  assert_string_equal(weir_task_id(ctx), "1_3");
  h.stream_time = 1234;
  assert_int_equal(weir_stream_time(ctx), 1234);
  fake_host_free(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(params_and_defaults),
      cmocka_unit_test(forwarding_copies),
      cmocka_unit_test(logs_metrics_origin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
