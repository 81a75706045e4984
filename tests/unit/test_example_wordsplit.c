/* Unit tests for the tutorial plugin plugins/examples/wordsplit: loads the
 * built examples/wordsplit.so through the host's loader, runs split-words in
 * the fake host and checks exactly which records come out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <weir/weir.h>

#include "plugin/loader.h"
#include "support/fake_host.h"

#define PLUGIN_PATH WEIR_TEST_PLUGIN_DIR "/examples/wordsplit.so"
#define PLUGIN_REF "examples/wordsplit"

/* ---------------------------------------------------------------- adapter
 * The only part of this file that knows how the plugin is loaded and how the
 * fake host is driven. */

static weir_plugin_t *g_plugin;
static const weir_plugin_desc_t *g_desc;

static int load_plugin(void **state) {
  char err[512] = "";
  g_plugin = weir_plugin_load_file(PLUGIN_PATH, PLUGIN_REF, err, sizeof err);
  if (!g_plugin)
    fprintf(stderr, "cannot load %s: %s\n", PLUGIN_PATH, err);
  assert_non_null(g_plugin);
  g_desc = &g_plugin->desc;
  return 0;
}

static int unload_plugin(void **state) {
  weir_plugin_close(g_plugin);
  return 0;
}

static const weir_operator_def_t *find_op(const char *type) {
  const weir_op_info_t *op = weir_plugin_find_op(g_plugin, type);
  if (!op)
    fail_msg("%s has no operator '%s'", PLUGIN_PATH, type);
  return &op->def;
}

typedef struct t_op {
  fake_host_t h;
  const weir_operator_def_t *def;
  void *self;
  int init_rc;
  char err[512];
} t_op_t;

static int t_seen_before(const char *const *params, size_t i) {
  for (size_t j = 0; j < i; j += 2)
    if (strcmp(params[j], params[i]) == 0)
      return 1;
  return 0;
}

/* params: "name", "value", ..., NULL; a repeated name is appended as the
 * host does for MULTI parameters; declared defaults fill the rest.
 * children: names, NULL-terminated, or NULL for none. */
static t_op_t *t_open(const char *type, const char *const *params, const char *const *children) {
  t_op_t *t = calloc(1, sizeof *t);
  assert_non_null(t);
  t->def = find_op(type);
  fake_host_init(&t->h);
  fake_host_use_defs(&t->h, t->def->params);
  for (size_t i = 0; params && params[i]; i += 2) {
    int rc = t_seen_before(params, i) ? fake_host_add_param(&t->h, params[i], params[i + 1])
                                      : fake_host_set_param(&t->h, params[i], params[i + 1]);
    assert_int_equal(rc, 0);
  }
  for (size_t i = 0; children && children[i]; i++)
    assert_int_equal(fake_host_add_child(&t->h, children[i]), 0);
  assert_int_equal(fake_host_set_node(&t->h, "words", "1_3"), 0);
  assert_int_equal(fake_host_set_origin(&t->h, "in", 3, 42), 0);
  t->init_rc = t->def->init(fake_host_ctx(&t->h), &t->self, t->err, sizeof t->err);
  return t;
}

static int t_push_rec(t_op_t *t, const weir_record_t *rec) {
  return fake_host_process(&t->h, t->def, t->self, rec);
}

/* key/value: C strings, or NULL for no key / a tombstone. The bytes are
 * copied to exact-size heap blocks with no terminator, so ASan catches an
 * operator that reads past them. */
static int t_push(t_op_t *t, const char *key, const char *value, int64_t ts) {
  size_t kl = key ? strlen(key) : 0, vl = value ? strlen(value) : 0;
  void *k = key ? malloc(kl ? kl : 1) : NULL, *v = value ? malloc(vl ? vl : 1) : NULL;
  if (kl)
    memcpy(k, key, kl);
  if (vl)
    memcpy(v, value, vl);
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.key = k;
  rec.key_len = kl;
  rec.value = v;
  rec.value_len = vl;
  rec.timestamp = ts;
  int rc = t_push_rec(t, &rec);
  free(k);
  free(v);
  return rc;
}

static size_t t_count(t_op_t *t) { return t->h.record_count; }

static const fake_record_t *t_out(t_op_t *t, size_t i) {
  assert_true(i < t->h.record_count);
  return &t->h.records[i];
}

static void t_set_forward_rc(t_op_t *t, int rc) { t->h.forward_rc = rc; }

static void t_expect_bytes(const char *what, const char *got, size_t got_len, const char *want) {
  if (!want) {
    if (got)
      fail_msg("%s: expected none, got '%.*s'", what, (int)got_len, got);
    return;
  }
  if (!got)
    fail_msg("%s: expected '%s', got none", what, want);
  if (got_len != strlen(want) || memcmp(got, want, got_len) != 0)
    fail_msg("%s: expected '%s', got '%.*s'", what, want, (int)got_len, got);
}

/* Output i: child (NULL = weir_forward), key/value (NULL = absent), ts. */
static void t_expect(t_op_t *t, size_t i, const char *child, const char *key, const char *value,
                     int64_t ts) {
  const fake_record_t *o = t_out(t, i);
  if (!child)
    assert_null(o->child);
  else {
    assert_non_null(o->child);
    assert_string_equal(o->child, child);
  }
  t_expect_bytes("key", o->key, o->key_len, key);
  t_expect_bytes("value", o->value, o->value_len, value);
  assert_int_equal(o->timestamp, ts);
}

static void t_close(t_op_t *t) {
  if (t->init_rc == WEIR_OK && t->def->close)
    t->def->close(fake_host_ctx(&t->h), t->self);
  fake_host_free(&t->h);
  free(t);
}

/* ---------------------------------------------------------------- tests */

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_descriptor(void **state) {
  assert_string_equal(g_desc->name, "wordsplit");
  const weir_operator_def_t *op = find_op("split-words");
  assert_non_null(op->params);
  assert_string_equal(op->params[0].name, "min.length");
  assert_string_equal(op->params[0].default_value, "1");
  assert_null(op->params[1].name);
}

static void test_words(void **state) {
  t_op_t *t = t_open("split-words", NULL, NULL);
  assert_int_equal(t->init_rc, WEIR_OK);
  assert_int_equal(t_push(t, "line", "The cat, the HAT!  R2D2 a", 100), WEIR_OK);
  assert_int_equal(t_count(t), 6);
  t_expect(t, 0, NULL, "the", "the", 100);
  t_expect(t, 1, NULL, "cat", "cat", 100);
  t_expect(t, 2, NULL, "the", "the", 100);
  t_expect(t, 3, NULL, "hat", "hat", 100);
  t_expect(t, 4, NULL, "r2d2", "r2d2", 100);
  t_expect(t, 5, NULL, "a", "a", 100);
  t_close(t);
}

static void test_no_words(void **state) {
  t_op_t *t = t_open("split-words", NULL, NULL);
  assert_int_equal(t_push(t, "k", "", 1), WEIR_OK);
  assert_int_equal(t_push(t, "k", " ,.;-- ", 2), WEIR_OK);
  assert_int_equal(t_push(t, "k", NULL, 3), WEIR_OK); /* tombstone */
  assert_int_equal(t_count(t), 0);
  t_close(t);
}

static void test_min_length(void **state) {
  t_op_t *t = t_open("split-words", P("min.length", "3"), NULL);
  assert_int_equal(t->init_rc, WEIR_OK);
  t_push(t, NULL, "a an ant ANTS", 9);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "ant", "ant", 9);
  t_expect(t, 1, NULL, "ants", "ants", 9);
  t_close(t);
}

static void test_non_ascii_and_headers(void **state) {
  t_op_t *t = t_open("split-words", NULL, NULL);
  /* UTF-8 bytes are not ASCII letters, so they separate words. */
  weir_header_t hdr[1] = {{"h", "v", 1}};
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.value = "caf\xc3\xa9 ok";
  rec.value_len = strlen(rec.value);
  rec.timestamp = 5;
  rec.headers = hdr;
  rec.header_count = 1;
  assert_int_equal(t_push_rec(t, &rec), WEIR_OK);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "caf", "caf", 5);
  t_expect(t, 1, NULL, "ok", "ok", 5);
  assert_int_equal(t_out(t, 0)->header_count, 1);
  assert_string_equal(t_out(t, 0)->headers[0].name, "h");
  t_close(t);
}

static void test_child_error_stops(void **state) {
  t_op_t *t = t_open("split-words", NULL, NULL);
  t_set_forward_rc(t, WEIR_EFAIL);
  assert_int_equal(t_push(t, NULL, "one two", 1), WEIR_EFAIL);
  assert_int_equal(t_count(t), 1);
  t_close(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor),
      cmocka_unit_test(test_words),
      cmocka_unit_test(test_no_words),
      cmocka_unit_test(test_min_length),
      cmocka_unit_test(test_non_ascii_and_headers),
      cmocka_unit_test(test_child_error_stops),
  };
  return cmocka_run_group_tests(tests, load_plugin, unload_plugin);
}
