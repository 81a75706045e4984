/* A plugin built against the frozen ABI 1.0 header loads on this host and
 * runs through init/process/close with the exact output 1.0 gave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/loader.h"
#include "support/fake_host.h"

typedef struct world {
  weir_plugin_t *plugin;
  const weir_op_info_t *tag;
  fake_host_t host;
  void *self;
} world_t;

static int setup(void **state) {
  static world_t w;
  char err[512] = "";
  memset(&w, 0, sizeof w);
  w.plugin = weir_plugin_load_file(WEIR_TEST_ABI_PLUGIN, "abi_v1_0", err, sizeof err);
  if (!w.plugin) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  w.tag = weir_plugin_find_op(w.plugin, "tag");
  if (!w.tag)
    return -1;
  fake_host_init(&w.host);
  fake_host_use_defs(&w.host, w.tag->def.params);
  *state = &w;
  return 0;
}

static int teardown(void **state) {
  world_t *w = *state;
  fake_host_free(&w->host);
  weir_plugin_close(w->plugin);
  return 0;
}

static void init_op(world_t *w) {
  char err[256] = "";
  int rc = w->tag->def.init(fake_host_ctx(&w->host), &w->self, err, sizeof err);
  if (rc != WEIR_OK)
    fail_msg("init failed (%d): %s", rc, err);
}

static void close_op(world_t *w) {
  w->tag->def.close(fake_host_ctx(&w->host), w->self);
  w->self = NULL;
}

static void descriptor_reads_as_1_0(void **state) {
  world_t *w = *state;
  assert_int_equal(w->plugin->desc.abi_major, 1);
  assert_int_equal(w->plugin->desc.abi_minor, 0);
  assert_string_equal(w->plugin->desc.name, "abi_v1_0");
  assert_string_equal(w->plugin->desc.version, "1.0.0");
  assert_int_equal(w->plugin->op_count, 1);
  assert_int_equal(w->tag->param_count, 3);
  assert_string_equal(w->tag->params[0].name, "prefix");
  assert_string_equal(w->tag->params[0].default_value, "v1:");
  assert_int_equal(w->tag->params[2].type, WEIR_PARAM_INT);
  assert_non_null(w->tag->def.close);
  assert_null(w->tag->def.save);
  assert_null(w->tag->def.load);
}

static void default_prefix(void **state) {
  world_t *w = *state;
  weir_header_t hdr = {"h", "hv", 2};
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.key = "k1";
  rec.key_len = 2;
  rec.value = "hello";
  rec.value_len = 5;
  rec.timestamp = 1700000000123;
  rec.headers = &hdr;
  rec.header_count = 1;

  init_op(w);
  assert_non_null(fake_host_find_log(&w->host, "tag ready: prefix 'v1:', origin off"));
  assert_int_equal(fake_host_process(&w->host, &w->tag->def, w->self, &rec), WEIR_OK);
  assert_int_equal(fake_host_process_kv(&w->host, &w->tag->def, w->self, NULL, "", 7), WEIR_OK);
  assert_int_equal(fake_host_process_kv(&w->host, &w->tag->def, w->self, "gone", NULL, 8), WEIR_OK);
  close_op(w);

  assert_int_equal(w->host.record_count, 3);
  fake_record_t *r = &w->host.records[0];
  assert_null(r->child);
  assert_string_equal(r->key, "k1");
  assert_string_equal(r->value, "v1:hello");
  assert_int_equal(r->value_len, 8);
  assert_int_equal(r->timestamp, 1700000000123);
  assert_int_equal(r->header_count, 1);
  assert_string_equal(r->headers[0].name, "h");
  assert_memory_equal(r->headers[0].value, "hv", 2);
  r = &w->host.records[1];
  assert_null(r->key);
  assert_string_equal(r->value, "v1:");
  r = &w->host.records[2];
  assert_string_equal(r->key, "gone");
  assert_null(r->value); /* a tombstone stays one */
  assert_int_equal(fake_host_metric(&w->host, "tagged"), 2);
}

static void params_and_origin(void **state) {
  world_t *w = *state;
  fake_host_set_param(&w->host, "prefix", "[x] ");
  fake_host_set_param(&w->host, "with_origin", "yes");
  fake_host_set_origin(&w->host, "lines", 3, 42);
  init_op(w);
  assert_int_equal(fake_host_process_kv(&w->host, &w->tag->def, w->self, "a", "b", 1), WEIR_OK);
  fake_host_set_origin(&w->host, "lines", 0, 9000000000);
  assert_int_equal(fake_host_process_kv(&w->host, &w->tag->def, w->self, "a", "c", 2), WEIR_OK);
  close_op(w);
  assert_int_equal(w->host.record_count, 2);
  assert_string_equal(w->host.records[0].value, "[x] b@lines/3/42");
  assert_string_equal(w->host.records[1].value, "[x] c@lines/0/9000000000");
}

static void too_long_is_an_error(void **state) {
  world_t *w = *state;
  fake_host_set_param(&w->host, "max_len", "4");
  init_op(w);
  assert_int_equal(fake_host_process_kv(&w->host, &w->tag->def, w->self, NULL, "abc", 1),
                   WEIR_ERANGE);
  close_op(w);
  assert_int_equal(w->host.record_count, 0);
  assert_non_null(fake_host_find_log(&w->host, "too long for max_len 4"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(descriptor_reads_as_1_0, setup, teardown),
      cmocka_unit_test_setup_teardown(default_prefix, setup, teardown),
      cmocka_unit_test_setup_teardown(params_and_origin, setup, teardown),
      cmocka_unit_test_setup_teardown(too_long_is_an_error, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
