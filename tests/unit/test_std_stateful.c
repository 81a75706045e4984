/* Unit tests for the stateful standard operators (count, aggregate, latest,
 * table, dedupe) and the fake host's in-memory stores they run on. Loads the
 * built std.so through the host's loader and checks exactly what comes out,
 * what the store holds, and when (process or flush). */
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
#include "support/op_harness.h"

#define PLUGIN_PATH WEIR_TEST_PLUGIN_DIR "/std.so"
#define PLUGIN_REF "std"

static int load_plugin(void **state) {
  return op_harness_load(PLUGIN_PATH, PLUGIN_REF);
}
static int unload_plugin(void **state) {
  return op_harness_unload();
}

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})
#define S(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_PARAMS NULL

/* ---------------------------------------------------------------- helpers */

/* As t_open, with stores added (in order) before init. */
static t_op_t *open_stores(const char *type, const char *const *params, const char *const *stores) {
  t_op_t *t = calloc(1, sizeof *t);
  assert_non_null(t);
  t->def = find_op(type);
  fake_host_init(&t->h);
  fake_host_use_defs(&t->h, t->def->params);
  for (size_t i = 0; params && params[i]; i += 2)
    assert_int_equal(fake_host_set_param(&t->h, params[i], params[i + 1]), 0);
  for (size_t i = 0; stores && stores[i]; i++)
    assert_non_null(fake_host_add_store(&t->h, stores[i]));
  assert_int_equal(fake_host_set_node(&t->h, "agg", "0_1"), 0);
  t->init_rc = t->def->init(fake_host_ctx(&t->h), &t->self, t->err, sizeof t->err);
  return t;
}

static t_op_t *open_ok(const char *type, const char *const *params) {
  t_op_t *t = open_stores(type, params, S("st"));
  if (t->init_rc != WEIR_OK)
    fail_msg("init of %s failed: %s", type, t->err);
  return t;
}

static void done(t_op_t *t) {
  assert_int_equal(t->h.leaked_iters, 0);
  t_close(t);
}

static int flush(t_op_t *t) {
  return fake_host_flush(&t->h, t->def, t->self);
}

static weir_store_t *store(t_op_t *t) {
  return fake_host_store(&t->h, NULL);
}

static void be64(int64_t v, unsigned char out[8]) {
  for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8))
    out[i] = (unsigned char)((uint64_t)v & 0xFF);
}

static int64_t from_be64(const void *p) {
  const unsigned char *b = p;
  uint64_t u = 0;
  for (int i = 0; i < 8; i++)
    u = u << 8 | b[i];
  return (int64_t)u;
}

/* Push (key, 8-byte BE n) in exact-size heap blocks. */
static int push_i64(t_op_t *t, const char *key, int64_t n, int64_t ts) {
  size_t kl = key ? strlen(key) : 0;
  void *k = key ? malloc(kl ? kl : 1) : NULL;
  unsigned char *v = malloc(8);
  if (kl)
    memcpy(k, key, kl);
  be64(n, v);
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.key = k;
  rec.key_len = kl;
  rec.value = v;
  rec.value_len = 8;
  rec.timestamp = ts;
  int rc = t_push_rec(t, &rec);
  free(k);
  free(v);
  return rc;
}

/* Output i is (key, int64 BE n, ts) from weir_forward. */
static void expect_i64(t_op_t *t, size_t i, const char *key, int64_t n, int64_t ts) {
  const fake_record_t *o = t_out(t, i);
  assert_null(o->child);
  assert_non_null(o->key);
  assert_int_equal(o->key_len, strlen(key));
  assert_memory_equal(o->key, key, o->key_len);
  assert_non_null(o->value);
  assert_int_equal(o->value_len, 8);
  if (from_be64(o->value) != n)
    fail_msg("output %zu (%s): count %lld, expected %lld", i, key, (long long)from_be64(o->value),
             (long long)n);
  assert_int_equal(o->timestamp, ts);
}

/* The store's int64 for key, or -1 when absent. */
static int64_t stored_i64(t_op_t *t, const char *key) {
  const void *v;
  size_t len;
  if (weir_kv_get(store(t), key, strlen(key), &v, &len) == WEIR_ENOENT)
    return -1;
  assert_int_equal(len, 8);
  return from_be64(v);
}

/* The store's value for key as text in buf, or NULL when absent. */
static const char *stored_text(t_op_t *t, const char *key, char *buf, size_t size) {
  const void *v;
  size_t len;
  if (weir_kv_get(store(t), key, strlen(key), &v, &len) == WEIR_ENOENT)
    return NULL;
  assert_true(len < size);
  memcpy(buf, v, len);
  buf[len] = '\0';
  return buf;
}

static void expect_log(t_op_t *t, const char *needle) {
  if (!fake_host_find_log(&t->h, needle))
    fail_msg("no log line contains '%s'", needle);
}

/* ---------------------------------------------------------------- plugin */

static void test_descriptor(void **state) {
  const char *types[] = {"count", "aggregate", "latest", "table", "dedupe"};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    const weir_operator_def_t *op = find_op(types[i]);
    assert_non_null(op->doc);
    assert_non_null(op->flush);
    assert_non_null(op->close);
    int has_store_name = 0;
    for (const weir_param_def_t *p = op->params; p && p->name; p++) {
      assert_non_null(p->doc);
      has_store_name |= strcmp(p->name, "store.name") == 0;
    }
    assert_true(has_store_name);
  }
  assert_non_null(strstr(g_desc->doc, "dedupe"));
}

/* ---------------------------------------------------------------- stores */

static void test_store_required(void **state) {
  const char *types[] = {"count", "aggregate", "latest", "table", "dedupe"};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    const char *const *params = strcmp(types[i], "aggregate") == 0 ? P("function", "sum")
                                : strcmp(types[i], "dedupe") == 0  ? P("within.ms", "10")
                                                                   : NO_PARAMS;
    t_op_t *t = open_stores(types[i], params, NULL);
    assert_int_equal(t->init_rc, WEIR_ENOENT);
    char want[200];
    snprintf(want, sizeof want,
             "%s needs a store: add `store = NAME` and a [store:NAME] section with type = kv",
             types[i]);
    assert_string_equal(t->err, want);
    t_close(t);
  }
}

static void test_store_name(void **state) {
  t_op_t *t = open_stores("count", P("store.name", "nope"), S("a", "b"));
  assert_int_equal(t->init_rc, WEIR_ENOENT);
  assert_string_equal(t->err, "store.name: 'nope' is not a store of this node: list it in "
                              "`store =` and add a [store:nope] section with type = kv");
  t_close(t);

  /* store.name picks one; unset takes the first. */
  t = open_stores("count", P("store.name", "b", "emit", "update"), S("a", "b"));
  assert_int_equal(t->init_rc, WEIR_OK);
  t_push(t, "k", "v", 1);
  assert_int_equal(fake_store_size(fake_host_store(&t->h, "a")), 0);
  assert_int_equal(fake_store_size(fake_host_store(&t->h, "b")), 1);
  done(t);
  t = open_stores("count", P("emit", "update"), S("a", "b"));
  assert_int_equal(t->init_rc, WEIR_OK);
  t_push(t, "k", "v", 1);
  assert_int_equal(fake_store_size(fake_host_store(&t->h, "a")), 1);
  assert_int_equal(fake_store_size(fake_host_store(&t->h, "b")), 0);
  done(t);
}

static void test_old_host_has_no_stores(void **state) {
  /* A 1.0 host's table ends before store_get. */
  t_op_t *t = calloc(1, sizeof *t);
  t->def = find_op("latest");
  fake_host_init(&t->h);
  fake_host_use_defs(&t->h, t->def->params);
  assert_non_null(fake_host_add_store(&t->h, "st"));
  t->h.api.struct_size = (uint32_t)offsetof(weir_host_api_t, store_get);
  t->h.api.abi_minor = 0;
  t->init_rc = t->def->init(fake_host_ctx(&t->h), &t->self, t->err, sizeof t->err);
  assert_int_equal(t->init_rc, WEIR_ENOTSUP);
  assert_string_equal(t->err, "latest needs state stores, which this host (ABI 1.0) lacks");
  t_close(t);
}

/* ---------------------------------------------------------------- count */

static void test_count_update(void **state) {
  t_op_t *t = open_ok("count", P("emit", "update"));
  assert_int_equal(t_push(t, "a", "x", 10), WEIR_OK);
  assert_int_equal(t_push(t, "b", "y", 11), WEIR_OK);
  assert_int_equal(t_push(t, "a", "", 12), WEIR_OK);   /* an empty value counts */
  assert_int_equal(t_push(t, NULL, "z", 13), WEIR_OK); /* no key: skipped */
  assert_int_equal(t_push(t, "a", NULL, 14), WEIR_OK); /* tombstone: skipped */
  assert_int_equal(t_push(t, "", "e", 15), WEIR_OK);   /* the empty key is a key */
  assert_int_equal(t_push(t, "a", "w", 16), WEIR_OK);
  assert_int_equal(t_count(t), 5);
  expect_i64(t, 0, "a", 1, 10);
  expect_i64(t, 1, "b", 1, 11);
  expect_i64(t, 2, "a", 2, 12);
  expect_i64(t, 3, "", 1, 15);
  expect_i64(t, 4, "a", 3, 16);
  assert_int_equal(fake_host_metric(&t->h, "skipped.null.key"), 1);
  assert_int_equal(fake_host_metric(&t->h, "skipped.null.value"), 1);
  assert_int_equal(stored_i64(t, "a"), 3);
  assert_int_equal(stored_i64(t, "b"), 1);
  assert_int_equal(stored_i64(t, ""), 1);
  assert_int_equal(fake_store_size(store(t)), 3);
  assert_int_equal(flush(t), WEIR_OK); /* update mode holds nothing back */
  assert_int_equal(t_count(t), 5);
  done(t);
}

static void test_count_tombstones_option(void **state) {
  t_op_t *t = open_ok("count", P("emit", "update", "tombstones", "true"));
  t_push(t, "a", NULL, 1);
  t_push(t, "a", "x", 2);
  assert_int_equal(t_count(t), 2);
  expect_i64(t, 0, "a", 1, 1);
  expect_i64(t, 1, "a", 2, 2);
  done(t);
}

static void test_count_commit(void **state) {
  t_op_t *t = open_ok("count", NO_PARAMS); /* emit = commit is the default */
  t_push(t, "a", "x", 5);
  t_push(t, "b", "x", 3);
  t_push(t, "a", "x", 4); /* out of order: the key's LAST input's ts is kept */
  t_push(t, "c", "x", 9);
  t_push(t, NULL, "x", 9);
  assert_int_equal(t_count(t), 0); /* nothing before the commit */
  assert_int_equal(stored_i64(t, "a"), 2);
  assert_int_equal(flush(t), WEIR_OK);
  /* One output per key, in first-update order, with its latest count. */
  assert_int_equal(t_count(t), 3);
  expect_i64(t, 0, "a", 2, 4);
  expect_i64(t, 1, "b", 1, 3);
  expect_i64(t, 2, "c", 1, 9);
  assert_int_equal(flush(t), WEIR_OK); /* nothing new */
  assert_int_equal(t_count(t), 3);
  t_push(t, "c", "x", 20);
  t_push(t, "a", "x", 21);
  t_push(t, "c", "x", 22);
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(t_count(t), 5);
  expect_i64(t, 3, "c", 3, 22);
  expect_i64(t, 4, "a", 3, 21);
  assert_int_equal(fake_host_metric(&t->h, "skipped.null.key"), 1);
  done(t);
}

static void test_count_commit_many_keys(void **state) {
  /* Enough keys to grow the pending set several times; order and counts
   * stay exact. */
  t_op_t *t = open_ok("count", NO_PARAMS);
  char key[16];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "k%d", i % 300);
    assert_int_equal(t_push(t, key, "v", i), WEIR_OK);
  }
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(t_count(t), 300);
  for (int k = 0; k < 300; k++) {
    snprintf(key, sizeof key, "k%d", k);
    int n = k < 100 ? 4 : 3;
    expect_i64(t, (size_t)k, key, n, k + 300 * (n - 1));
  }
  done(t);
}

static void test_count_emit_max_pending(void **state) {
  t_op_t *t = open_ok("count", P("emit.max.pending", "2"));
  t_push(t, "a", "x", 1);
  t_push(t, "a", "x", 2);
  assert_int_equal(t_count(t), 0); /* still one key pending */
  t_push(t, "b", "x", 3);          /* two: forwarded at once */
  assert_int_equal(t_count(t), 2);
  expect_i64(t, 0, "a", 2, 2);
  expect_i64(t, 1, "b", 1, 3);
  assert_int_equal(fake_host_metric(&t->h, "emit.early"), 1);
  t_push(t, "a", "x", 4);
  assert_int_equal(t_count(t), 2);
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(t_count(t), 3);
  expect_i64(t, 2, "a", 3, 4);
  done(t);
}

static void test_count_foreign_store_value(void **state) {
  t_op_t *t = open_ok("count", P("emit", "update"));
  assert_int_equal(weir_kv_put(store(t), "a", 1, "abc", 3), WEIR_OK);
  assert_int_equal(t_push(t, "a", "x", 1), WEIR_EFAIL);
  expect_log(t, "3-byte value");
  assert_int_equal(t_count(t), 0);
  done(t);
}

static void test_count_flush_forward_error(void **state) {
  t_op_t *t = open_ok("count", NO_PARAMS);
  t_push(t, "a", "x", 1);
  t_set_forward_rc(t, WEIR_EFAIL);
  assert_int_equal(flush(t), WEIR_EFAIL);
  t_set_forward_rc(t, WEIR_OK);
  assert_int_equal(flush(t), WEIR_OK); /* kept pending: forwarded again */
  assert_int_equal(t_count(t), 2);
  expect_i64(t, 1, "a", 1, 1);
  done(t);
}

/* ---------------------------------------------------------------- aggregate (int64) */

/* Push 5, -3, 10 for "k" and 7 for "j"; expect the outputs for k. */
static void run_int64(const char *fn, const int64_t want[3]) {
  t_op_t *t = open_ok("aggregate", P("function", fn, "emit", "update"));
  assert_int_equal(push_i64(t, "k", 5, 1), WEIR_OK);
  assert_int_equal(push_i64(t, "j", 7, 2), WEIR_OK);
  assert_int_equal(push_i64(t, "k", -3, 3), WEIR_OK);
  assert_int_equal(push_i64(t, "k", 10, 4), WEIR_OK);
  assert_int_equal(t_count(t), 4);
  expect_i64(t, 0, "k", want[0], 1);
  expect_i64(t, 1, "j", 7, 2);
  expect_i64(t, 2, "k", want[1], 3);
  expect_i64(t, 3, "k", want[2], 4);
  done(t);
}

static void test_aggregate_int64_sum_min_max(void **state) {
  run_int64("sum", (const int64_t[]){5, 2, 12});
  run_int64("min", (const int64_t[]){5, -3, -3});
  run_int64("max", (const int64_t[]){5, 5, 10});
}

static void test_aggregate_int64_avg(void **state) {
  t_op_t *t = open_ok("aggregate", P("function", "avg", "emit", "update"));
  push_i64(t, "k", 5, 1);
  push_i64(t, "k", -3, 2);
  push_i64(t, "k", 10, 3);
  push_i64(t, "k", 0, 4);
  push_i64(t, "z", 10, 5);
  push_i64(t, "z", 0, 6);
  push_i64(t, "z", 0, 7);
  assert_int_equal(t_count(t), 7);
  t_expect(t, 0, NULL, "k", "5", 1);
  t_expect(t, 1, NULL, "k", "1", 2);
  t_expect(t, 2, NULL, "k", "4", 3);
  t_expect(t, 3, NULL, "k", "3", 4);
  t_expect(t, 4, NULL, "z", "10", 5);
  t_expect(t, 5, NULL, "z", "5", 6);
  t_expect(t, 6, NULL, "z", "3.3333333333333335", 7);
  done(t);
}

static void test_aggregate_commit(void **state) {
  t_op_t *t = open_ok("aggregate", P("function", "sum"));
  push_i64(t, "b", 1, 1);
  push_i64(t, "a", 2, 2);
  push_i64(t, "b", 3, 3);
  assert_int_equal(t_count(t), 0);
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(t_count(t), 2);
  expect_i64(t, 0, "b", 4, 3);
  expect_i64(t, 1, "a", 2, 2);
  done(t);
}

static void test_aggregate_int64_bad_input(void **state) {
  t_op_t *t = open_ok("aggregate", P("function", "sum", "emit", "update"));
  assert_int_equal(t_push(t, "k", "123", 1), WEIR_EINVAL);
  expect_log(t, "the value is 3 bytes, not an int64 (8 bytes big-endian)");
  assert_int_equal(t_push(t, "k", "", 2), WEIR_EINVAL);
  assert_int_equal(t_count(t), 0);
  assert_int_equal(fake_store_size(store(t)), 0);     /* nothing written */
  assert_int_equal(t_push(t, "k", NULL, 3), WEIR_OK); /* tombstone: skipped */
  assert_int_equal(t_push(t, NULL, "12345678", 3), WEIR_OK);
  assert_int_equal(fake_host_metric(&t->h, "skipped.null.value"), 1);
  assert_int_equal(fake_host_metric(&t->h, "skipped.null.key"), 1);
  /* An overflowing sum is an error and leaves the state alone. */
  assert_int_equal(push_i64(t, "k", INT64_MAX, 4), WEIR_OK);
  assert_int_equal(push_i64(t, "k", 1, 5), WEIR_ERANGE);
  expect_log(t, "overflows an int64");
  assert_int_equal(push_i64(t, "k", -1, 6), WEIR_OK);
  assert_int_equal(t_count(t), 2);
  expect_i64(t, 1, "k", INT64_MAX - 1, 6);
  done(t);
}

/* ---------------------------------------------------------------- aggregate (JSON) */

static void run_json(const char *fn, const char *const want[3]) {
  t_op_t *t = open_ok("aggregate", P("function", fn, "field", "order.total", "emit", "update"));
  assert_int_equal(t_push(t, "k", "{\"id\":1,\"order\":{\"total\":10}}", 1), WEIR_OK);
  assert_int_equal(t_push(t, "k", "{\"order\":{\"items\":[{\"total\":99}],\"total\":2.5}}", 2),
                   WEIR_OK);
  assert_int_equal(t_push(t, "k", " { \"order\" : { \"total\" : -1e2 } } ", 3), WEIR_OK);
  assert_int_equal(t_count(t), 3);
  t_expect(t, 0, NULL, "k", want[0], 1);
  t_expect(t, 1, NULL, "k", want[1], 2);
  t_expect(t, 2, NULL, "k", want[2], 3);
  done(t);
}

static void test_aggregate_json(void **state) {
  run_json("sum", (const char *const[]){"10", "12.5", "-87.5"});
  run_json("min", (const char *const[]){"10", "2.5", "-100"});
  run_json("max", (const char *const[]){"10", "10", "10"});
  run_json("avg", (const char *const[]){"10", "6.25", "-29.166666666666668"});
}

static void test_aggregate_json_number_text(void **state) {
  t_op_t *t = open_ok("aggregate", P("function", "sum", "field", "v", "emit", "update"));
  t_push(t, "a", "{\"v\":0.1}", 1);
  t_push(t, "a", "{\"v\":0.2}", 2);
  t_push(t, "b", "{\"v\":1e20}", 3);
  t_push(t, "c", "{\"v\":-0.5}", 4);
  t_push(t, "c", "{\"v\":0.5}", 5);
  t_push(t, "d", "{\"v\":123456789012}", 6);
  assert_int_equal(t_count(t), 6);
  t_expect(t, 0, NULL, "a", "0.1", 1);
  t_expect(t, 1, NULL, "a", "0.30000000000000004", 2);
  t_expect(t, 2, NULL, "b", "1e+20", 3);
  t_expect(t, 3, NULL, "c", "-0.5", 4);
  t_expect(t, 4, NULL, "c", "0", 5);
  t_expect(t, 5, NULL, "d", "123456789012", 6);
  done(t);
}

static void test_aggregate_json_bad_input(void **state) {
  t_op_t *t = open_ok("aggregate", P("function", "max", "field", "a.b", "emit", "update"));
  assert_int_equal(t_push(t, "k", "{\"a\":{\"c\":1}}", 1), WEIR_EINVAL);
  expect_log(t, "the value has no field 'a.b'");
  assert_int_equal(t_push(t, "k", "{\"a\":{\"b\":\"7\"}}", 2), WEIR_EINVAL);
  expect_log(t, "field 'a.b' is a string, not a number");
  assert_int_equal(t_push(t, "k", "{\"a\":{\"b\":null}}", 3), WEIR_EINVAL);
  expect_log(t, "field 'a.b' is null, not a number");
  assert_int_equal(t_push(t, "k", "{\"a\":{\"b\":[1]}}", 4), WEIR_EINVAL);
  expect_log(t, "is an array");
  assert_int_equal(t_push(t, "k", "{\"a\":{\"b\":1e999}}", 5), WEIR_EINVAL);
  expect_log(t, "field 'a.b': 1e999 is out of range");
  assert_int_equal(t_push(t, "k", "{\"a\":{\"b\":", 6), WEIR_EINVAL);
  expect_log(t, "the value is not valid JSON (looking for 'a.b')");
  assert_int_equal(t_push(t, "k", "not json", 7), WEIR_EINVAL);
  assert_int_equal(t_push(t, "k", "{\"a\":7}", 8), WEIR_EINVAL); /* a is no object */
  assert_int_equal(t_count(t), 0);
  assert_int_equal(fake_store_size(store(t)), 0);
  assert_int_equal(t_push(t, "k", "{\"a\":{\"b\":3}}", 9), WEIR_OK);
  assert_int_equal(t_count(t), 1);
  t_expect(t, 0, NULL, "k", "3", 9);
  done(t);
}

static void test_aggregate_changed_input_kind(void **state) {
  /* The store keeps int64 state; reopened over a JSON field, the key's
   * state is refused instead of misread. */
  t_op_t *t = open_ok("aggregate", P("function", "sum", "emit", "update"));
  push_i64(t, "k", 5, 1);
  t->def->close(fake_host_ctx(&t->h), t->self);
  assert_int_equal(fake_host_set_param(&t->h, "field", "v"), 0);
  t->init_rc = t->def->init(fake_host_ctx(&t->h), &t->self, t->err, sizeof t->err);
  assert_int_equal(t->init_rc, WEIR_OK);
  assert_int_equal(t_push(t, "k", "{\"v\":1}", 2), WEIR_EFAIL);
  expect_log(t, "use a new store when changing `field`");
  assert_int_equal(t_push(t, "other", "{\"v\":1}", 3), WEIR_OK);
  done(t);
}

/* ---------------------------------------------------------------- latest */

static void test_latest_commit(void **state) {
  t_op_t *t = open_ok("latest", NO_PARAMS); /* emit = commit */
  t_push(t, "a", "1", 1);
  t_push(t, "b", "2", 2);
  t_push(t, "a", "3", 3);
  t_push(t, "b", NULL, 4); /* deletes b */
  t_push(t, "c", "", 5);   /* empty, not a tombstone */
  t_push(t, NULL, "x", 6);
  t_push(t, "d", "4", 7);
  t_push(t, "d", NULL, 8);
  t_push(t, "d", "5", 9); /* back again */
  assert_int_equal(t_count(t), 0);
  char buf[16];
  assert_string_equal(stored_text(t, "a", buf, sizeof buf), "3");
  assert_null(stored_text(t, "b", buf, sizeof buf));
  assert_string_equal(stored_text(t, "c", buf, sizeof buf), "");
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(t_count(t), 4);
  t_expect(t, 0, NULL, "a", "3", 3);
  t_expect(t, 1, NULL, "b", NULL, 4); /* a tombstone */
  t_expect(t, 2, NULL, "c", "", 5);
  t_expect(t, 3, NULL, "d", "5", 9);
  assert_int_equal(fake_host_metric(&t->h, "skipped.null.key"), 1);
  assert_int_equal(fake_store_size(store(t)), 3);
  done(t);
}

static void test_latest_update(void **state) {
  t_op_t *t = open_ok("latest", P("emit", "update"));
  t_push(t, "a", "1", 1);
  t_push(t, "a", "1", 2); /* the same again: latest forwards it */
  t_push(t, "a", NULL, 3);
  t_push(t, "a", NULL, 4); /* deleting an absent key forwards a tombstone too */
  assert_int_equal(t_count(t), 4);
  t_expect(t, 0, NULL, "a", "1", 1);
  t_expect(t, 1, NULL, "a", "1", 2);
  t_expect(t, 2, NULL, "a", NULL, 3);
  t_expect(t, 3, NULL, "a", NULL, 4);
  assert_int_equal(fake_store_size(store(t)), 0);
  done(t);
}

/* ---------------------------------------------------------------- table */

static void test_table_update(void **state) {
  t_op_t *t = open_ok("table", NO_PARAMS); /* emit = update */
  t_push(t, "a", "1", 1);
  t_push(t, "a", "1", 2); /* unchanged: nothing */
  t_push(t, "a", "2", 3);
  t_push(t, "b", NULL, 4); /* deleting an absent key: nothing */
  t_push(t, "a", NULL, 5);
  t_push(t, "a", "", 6);
  t_push(t, "a", "", 7); /* unchanged */
  t_push(t, NULL, "x", 8);
  t_push(t, "c", "12", 9);
  t_push(t, "c", "1", 10); /* a prefix of the old value is a change */
  assert_int_equal(t_count(t), 6);
  t_expect(t, 0, NULL, "a", "1", 1);
  t_expect(t, 1, NULL, "a", "2", 3);
  t_expect(t, 2, NULL, "a", NULL, 5);
  t_expect(t, 3, NULL, "a", "", 6);
  t_expect(t, 4, NULL, "c", "12", 9);
  t_expect(t, 5, NULL, "c", "1", 10);
  assert_int_equal(fake_host_metric(&t->h, "skipped.unchanged"), 3);
  assert_int_equal(fake_host_metric(&t->h, "skipped.null.key"), 1);
  char buf[16];
  assert_string_equal(stored_text(t, "a", buf, sizeof buf), "");
  assert_string_equal(stored_text(t, "c", buf, sizeof buf), "1");
  assert_null(stored_text(t, "b", buf, sizeof buf));
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(t_count(t), 6);
  done(t);
}

static void test_table_commit(void **state) {
  t_op_t *t = open_ok("table", P("emit", "commit"));
  t_push(t, "a", "1", 1);
  t_push(t, "b", "1", 2);
  t_push(t, "a", "2", 3);
  assert_int_equal(t_count(t), 0);
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "a", "2", 3);
  t_expect(t, 1, NULL, "b", "1", 2);
  t_push(t, "a", "2", 4); /* unchanged: not pending */
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(t_count(t), 2);
  t_push(t, "b", NULL, 5);
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(t_count(t), 3);
  t_expect(t, 2, NULL, "b", NULL, 5);
  done(t);
}

/* ---------------------------------------------------------------- dedupe */

static void test_dedupe_window(void **state) {
  t_op_t *t = open_ok("dedupe", P("within.ms", "100"));
  assert_int_equal(t_push(t, "a", "1", 1000), WEIR_OK);  /* first: forwarded */
  assert_int_equal(t_push(t, "a", "2", 1050), WEIR_OK);  /* 50 ms later: dropped */
  assert_int_equal(t_push(t, "a", "3", 1149), WEIR_OK);  /* 99 ms after 1050: dropped */
  assert_int_equal(t_push(t, "a", "4", 1249), WEIR_OK);  /* exactly 100 after: forwarded */
  assert_int_equal(t_push(t, "b", "5", 1000), WEIR_OK);  /* another key: forwarded */
  assert_int_equal(t_push(t, "a", "6", 1200), WEIR_OK);  /* late, 49 before 1249: dropped */
  assert_int_equal(t_push(t, "a", NULL, 1300), WEIR_OK); /* keys only: dropped */
  assert_int_equal(t_push(t, NULL, "7", 1300), WEIR_OK); /* no key: forwarded */
  assert_int_equal(t_push(t, "", "8", 1300), WEIR_OK);   /* the empty key: first */
  assert_int_equal(t_push(t, "", "9", 1301), WEIR_OK);
  assert_int_equal(t_count(t), 5);
  t_expect(t, 0, NULL, "a", "1", 1000);
  t_expect(t, 1, NULL, "a", "4", 1249);
  t_expect(t, 2, NULL, "b", "5", 1000);
  t_expect(t, 3, NULL, NULL, "7", 1300);
  t_expect(t, 4, NULL, "", "8", 1300);
  assert_int_equal(t_dropped(t), 5);
  assert_int_equal(fake_host_metric(&t->h, "forwarded.null.key"), 1);
  /* The store has each key's newest sighting (the late 1200 moved nothing). */
  assert_int_equal(stored_i64(t, "a"), 1300);
  assert_int_equal(stored_i64(t, "b"), 1000);
  assert_int_equal(stored_i64(t, ""), 1301);
  done(t);
}

static void test_dedupe_keeps_record_as_is(void **state) {
  t_op_t *t = open_ok("dedupe", P("within.ms", "10"));
  weir_header_t hdr[1] = {{"trace", "t1", 2}};
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.key = "k";
  rec.key_len = 1;
  rec.value = "v";
  rec.value_len = 1;
  rec.timestamp = 5;
  rec.headers = hdr;
  rec.header_count = 1;
  assert_int_equal(t_push_rec(t, &rec), WEIR_OK);
  assert_int_equal(t_count(t), 1);
  t_expect(t, 0, NULL, "k", "v", 5);
  assert_int_equal(t_out(t, 0)->header_count, 1);
  assert_string_equal(t_out(t, 0)->headers[0].name, "trace");
  t_set_forward_rc(t, WEIR_EFAIL); /* the child's error is returned */
  rec.key = "j";
  assert_int_equal(t_push_rec(t, &rec), WEIR_EFAIL);
  done(t);
}

static void test_dedupe_purge_at_flush(void **state) {
  t_op_t *t = open_ok("dedupe", P("within.ms", "100"));
  t_push(t, "b", "x", 1000);
  t_push(t, "c", "x", 1300); /* exactly at the cutoff: expires */
  t_push(t, "d", "x", 1301);
  t_push(t, "a", "x", 1400); /* stream time 1400, cutoff 1300 */
  assert_int_equal(t->h.stream_time, 1400);
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(fake_host_metric(&t->h, "purged"), 2);
  assert_int_equal(fake_store_size(store(t)), 2);
  assert_int_equal(stored_i64(t, "b"), -1);
  assert_int_equal(stored_i64(t, "c"), -1);
  assert_int_equal(stored_i64(t, "d"), 1301);
  assert_int_equal(stored_i64(t, "a"), 1400);
  /* Documented: a late record whose sighting was purged passes again. */
  t_push(t, "b", "late", 1010);
  assert_int_equal(t_count(t), 5);
  t_expect(t, 4, NULL, "b", "late", 1010);
  assert_int_equal(flush(t), WEIR_OK); /* b@1010 expires again */
  assert_int_equal(fake_host_metric(&t->h, "purged"), 3);
  done(t);
}

static void test_dedupe_purge_many(void **state) {
  /* Deleting while iterating, with keys to keep between keys to delete. */
  t_op_t *t = open_ok("dedupe", P("within.ms", "100"));
  char key[16];
  for (int i = 0; i < 200; i++) {
    snprintf(key, sizeof key, "k%03d", i);
    t_push(t, key, "x", i % 2 ? 1000 + i : i); /* odd keys are recent */
  }
  t_push(t, "zz", "x", 1250);
  assert_int_equal(flush(t), WEIR_OK); /* cutoff 1150: evens and odd < 151 go */
  int64_t kept = 0;
  weir_iter_t *it = weir_kv_range(store(t), NULL, 0, NULL, 0);
  const void *k, *v;
  size_t kl, vl;
  while (weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK) {
    assert_true(from_be64(v) > 1150);
    kept++;
  }
  weir_iter_close(it);
  assert_int_equal(kept, 25 + 1); /* k151..k199 odd, and zz */
  assert_int_equal(fake_host_metric(&t->h, "purged"), 200 - 25);
  done(t);
}

static void test_dedupe_purge_interval(void **state) {
  t_op_t *t = open_ok("dedupe", P("within.ms", "10", "purge.interval.ms", "500"));
  t_push(t, "a", "x", 100);
  t_push(t, "b", "x", 200);
  assert_int_equal(flush(t), WEIR_OK); /* the first flush scans: a goes */
  assert_int_equal(fake_store_size(store(t)), 1);
  t_push(t, "c", "x", 650);
  assert_int_equal(flush(t), WEIR_OK); /* 450 ms since the last scan: none */
  assert_int_equal(fake_store_size(store(t)), 2);
  t_push(t, "d", "x", 700);
  assert_int_equal(flush(t), WEIR_OK); /* 500: scan, b and c go */
  assert_int_equal(fake_store_size(store(t)), 1);
  assert_int_equal(stored_i64(t, "d"), 700);
  done(t);
}

static void test_dedupe_errors(void **state) {
  t_op_t *t = open_stores("dedupe", P("within.ms", "0"), S("st"));
  assert_int_equal(t->init_rc, WEIR_EINVAL);
  assert_string_equal(t->err, "within.ms: must be > 0, got 0");
  t_close(t);
  t = open_ok("dedupe", P("within.ms", "5"));
  assert_int_equal(weir_kv_put(store(t), "k", 1, "x", 1), WEIR_OK);
  assert_int_equal(t_push(t, "k", "v", 1), WEIR_EFAIL);
  expect_log(t, "1-byte value");
  assert_int_equal(flush(t), WEIR_OK); /* a foreign value is left alone */
  assert_int_equal(fake_store_size(store(t)), 1);
  done(t);
}

static void test_dedupe_extreme_timestamps(void **state) {
  /* Window arithmetic near the int64 edges neither overflows nor wraps. */
  t_op_t *t = open_ok("dedupe", P("within.ms", "9000000000000000000"));
  t_push(t, "a", "x", INT64_MIN + 1);
  t_push(t, "a", "x", INT64_MAX); /* far more than within.ms apart */
  t_push(t, "a", "x", INT64_MAX - 5);
  assert_int_equal(t_count(t), 2);
  assert_int_equal(flush(t), WEIR_OK);
  assert_int_equal(fake_store_size(store(t)), 1);
  done(t);
}

/* ---------------------------------------------------------------- the fake store */

static void test_fake_store_basics(void **state) {
  fake_host_t h;
  fake_host_init(&h);
  weir_ctx_t *ctx = fake_host_ctx(&h);
  assert_null(weir_store_get(ctx, NULL)); /* none yet */
  weir_store_t *a = fake_host_add_store(&h, "a");
  weir_store_t *b = fake_host_add_store(&h, "b");
  assert_ptr_equal(weir_store_get(ctx, NULL), a);
  assert_ptr_equal(weir_store_get(ctx, "b"), b);
  assert_null(weir_store_get(ctx, "c"));
  const void *v;
  size_t len;
  assert_int_equal(weir_kv_get(a, "k", 1, &v, &len), WEIR_ENOENT);
  assert_int_equal(weir_kv_put(a, "k", 1, "v1", 2), WEIR_OK);
  assert_int_equal(weir_kv_put(a, "k", 1, "v22", 3), WEIR_OK); /* replaces */
  assert_int_equal(weir_kv_put(a, "e", 1, NULL, 0), WEIR_OK);  /* empty value */
  assert_int_equal(weir_kv_put(a, "", 0, "root", 4), WEIR_OK); /* empty key */
  assert_int_equal(weir_kv_put(a, NULL, 0, "x", 1), WEIR_OK);  /* also the empty key */
  assert_int_equal(weir_kv_put(a, "k", 1, NULL, 1), WEIR_EINVAL);
  assert_int_equal(fake_store_size(a), 3);
  assert_int_equal(fake_store_size(b), 0);
  assert_int_equal(weir_kv_get(a, "k", 1, &v, &len), WEIR_OK);
  assert_int_equal(len, 3);
  assert_memory_equal(v, "v22", 3);
  assert_int_equal(weir_kv_get(a, "e", 1, &v, &len), WEIR_OK);
  assert_non_null(v);
  assert_int_equal(len, 0);
  assert_int_equal(weir_kv_get(a, "", 0, &v, &len), WEIR_OK);
  assert_memory_equal(v, "x", 1);
  assert_int_equal(weir_kv_delete(a, "k", 1), WEIR_OK);
  assert_int_equal(weir_kv_delete(a, "k", 1), WEIR_OK); /* absent: still OK */
  assert_int_equal(weir_kv_get(a, "k", 1, &v, &len), WEIR_ENOENT);
  assert_int_equal(fake_store_size(a), 2);
  size_t calls = h.store_calls;
  weir_kv_get(a, "e", 1, &v, &len);
  assert_int_equal(h.store_calls, calls + 1);
  fake_host_free(&h);
}

/* Collect "k1,k2,..." of an iterator and close it. */
static void iter_keys(weir_iter_t *it, char *out, size_t size) {
  const void *k, *v;
  size_t kl, vl, used = 0;
  assert_non_null(it);
  out[0] = '\0';
  while (weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK) {
    int w = snprintf(out + used, size - used, "%s%.*s", used ? "," : "", (int)kl, (const char *)k);
    used += (size_t)w;
  }
  weir_iter_close(it);
}

static void test_fake_store_order_and_ranges(void **state) {
  fake_host_t h;
  fake_host_init(&h);
  weir_store_t *s = fake_host_add_store(&h, "s");
  const char *keys[] = {"b", "ab", "a", "abc", "ac", "c"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    assert_int_equal(weir_kv_put(s, keys[i], strlen(keys[i]), "v", 1), WEIR_OK);
  char got[128];
  iter_keys(weir_kv_range(s, NULL, 0, NULL, 0), got, sizeof got);
  assert_string_equal(got, "a,ab,abc,ac,b,c"); /* memcmp, shorter first */
  iter_keys(weir_kv_range(s, "ab", 2, "b", 1), got, sizeof got);
  assert_string_equal(got, "ab,abc,ac"); /* from inclusive, to exclusive */
  iter_keys(weir_kv_range(s, "abb", 3, NULL, 0), got, sizeof got);
  assert_string_equal(got, "abc,ac,b,c");
  iter_keys(weir_kv_range(s, NULL, 0, "ab", 2), got, sizeof got);
  assert_string_equal(got, "a");
  iter_keys(weir_kv_range(s, "x", 1, NULL, 0), got, sizeof got);
  assert_string_equal(got, "");
  iter_keys(weir_kv_prefix(s, "ab", 2), got, sizeof got);
  assert_string_equal(got, "ab,abc");
  iter_keys(weir_kv_prefix(s, "a", 1), got, sizeof got);
  assert_string_equal(got, "a,ab,abc,ac");
  iter_keys(weir_kv_prefix(s, "", 0), got, sizeof got);
  assert_string_equal(got, "a,ab,abc,ac,b,c");
  iter_keys(weir_kv_prefix(s, "d", 1), got, sizeof got);
  assert_string_equal(got, "");
  /* Binary keys: 0xff sorts after ASCII, and an embedded NUL is a byte. */
  assert_int_equal(weir_kv_put(s, "a\0z", 3, "v", 1), WEIR_OK);
  assert_int_equal(weir_kv_put(s, "\xff", 1, "v", 1), WEIR_OK);
  const void *k, *v;
  size_t kl, vl;
  weir_iter_t *it = weir_kv_prefix(s, "a\0", 2);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_int_equal(kl, 3);
  assert_memory_equal(k, "a\0z", 3);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_ENOENT);
  weir_iter_close(it);
  it = weir_kv_range(s, "c", 1, NULL, 0);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_int_equal(kl, 1);
  assert_memory_equal(k, "\xff", 1);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_ENOENT);
  weir_iter_close(it);
  assert_int_equal(h.open_iters, 0);
  fake_host_free(&h);
}

static void test_fake_store_writes_while_iterating(void **state) {
  fake_host_t h;
  fake_host_init(&h);
  weir_store_t *s = fake_host_add_store(&h, "s");
  const char *keys[] = {"a", "b", "c", "d"};
  for (size_t i = 0; i < 4; i++)
    weir_kv_put(s, keys[i], 1, "v", 1);
  weir_iter_t *it = weir_kv_range(s, NULL, 0, NULL, 0);
  const void *k, *v;
  size_t kl, vl;
  char seen[16] = "";
  size_t n = 0;
  while (weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK) {
    char c = *(const char *)k;
    seen[n++] = c;
    if (c == 'a')
      weir_kv_delete(s, "a", 1); /* the current key */
    if (c == 'b') {
      weir_kv_delete(s, "c", 1);       /* one ahead: not seen */
      weir_kv_put(s, "bb", 2, "v", 1); /* put ahead: seen */
      weir_kv_put(s, "0", 1, "v", 1);  /* put behind: not seen */
    }
  }
  weir_iter_close(it);
  assert_string_equal(seen, "abbd");       /* a, b, bb, d */
  assert_int_equal(fake_store_size(s), 4); /* 0, b, bb, d */
  fake_host_free(&h);
}

static void test_fake_host_counts_leaked_iterators(void **state) {
  /* An operator that leaves an iterator open: the fake counts it. */
  t_op_t *t = open_ok("count", NO_PARAMS);
  weir_kv_range(store(t), NULL, 0, NULL, 0); /* opened outside a callback */
  assert_int_equal(t_push(t, "a", "x", 1), WEIR_OK);
  assert_int_equal(t->h.leaked_iters, 0); /* not the operator's */
  assert_int_equal(t->h.open_iters, 1);
  t_close(t); /* fake_host_free frees it */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor),
      cmocka_unit_test(test_store_required),
      cmocka_unit_test(test_store_name),
      cmocka_unit_test(test_old_host_has_no_stores),
      cmocka_unit_test(test_count_update),
      cmocka_unit_test(test_count_tombstones_option),
      cmocka_unit_test(test_count_commit),
      cmocka_unit_test(test_count_commit_many_keys),
      cmocka_unit_test(test_count_emit_max_pending),
      cmocka_unit_test(test_count_foreign_store_value),
      cmocka_unit_test(test_count_flush_forward_error),
      cmocka_unit_test(test_aggregate_int64_sum_min_max),
      cmocka_unit_test(test_aggregate_int64_avg),
      cmocka_unit_test(test_aggregate_commit),
      cmocka_unit_test(test_aggregate_int64_bad_input),
      cmocka_unit_test(test_aggregate_json),
      cmocka_unit_test(test_aggregate_json_number_text),
      cmocka_unit_test(test_aggregate_json_bad_input),
      cmocka_unit_test(test_aggregate_changed_input_kind),
      cmocka_unit_test(test_latest_commit),
      cmocka_unit_test(test_latest_update),
      cmocka_unit_test(test_table_update),
      cmocka_unit_test(test_table_commit),
      cmocka_unit_test(test_dedupe_window),
      cmocka_unit_test(test_dedupe_keeps_record_as_is),
      cmocka_unit_test(test_dedupe_purge_at_flush),
      cmocka_unit_test(test_dedupe_purge_many),
      cmocka_unit_test(test_dedupe_purge_interval),
      cmocka_unit_test(test_dedupe_errors),
      cmocka_unit_test(test_dedupe_extreme_timestamps),
      cmocka_unit_test(test_fake_store_basics),
      cmocka_unit_test(test_fake_store_order_and_ranges),
      cmocka_unit_test(test_fake_store_writes_while_iterating),
      cmocka_unit_test(test_fake_host_counts_leaked_iterators),
  };
  return cmocka_run_group_tests(tests, load_plugin, unload_plugin);
}
