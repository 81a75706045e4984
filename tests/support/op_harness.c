/* A plugin's operators driven through the fake host, for the plugins' unit
 * tests: load the .so through the host's loader, open an operator with
 * parameters and children, push records, and check exactly what came out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/op_harness.h"

static weir_plugin_t *g_plugin;
static const char *g_path;
const weir_plugin_desc_t *g_desc;

int op_harness_load(const char *path, const char *ref) {
  char err[512] = "";
  g_path = path;
  g_plugin = weir_plugin_load_file(path, ref, err, sizeof err);
  if (!g_plugin)
    fprintf(stderr, "cannot load %s: %s\n", path, err);
  assert_non_null(g_plugin);
  g_desc = &g_plugin->desc;
  return 0;
}

int op_harness_unload(void) {
  weir_plugin_close(g_plugin);
  return 0;
}

const weir_operator_def_t *find_op(const char *type) {
  const weir_op_info_t *op = weir_plugin_find_op(g_plugin, type);
  if (!op)
    fail_msg("%s has no operator '%s'", g_path, type);
  return &op->def;
}

static int t_seen_before(const char *const *params, size_t i) {
  for (size_t j = 0; j < i; j += 2)
    if (strcmp(params[j], params[i]) == 0)
      return 1;
  return 0;
}

/* params: "name", "value", ..., NULL; a repeated name is appended as the
 * host does for MULTI parameters; declared defaults fill the rest.
 * children: names, NULL-terminated, or NULL for none. */
t_op_t *t_open(const char *type, const char *const *params, const char *const *children) {
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

int t_push_rec(t_op_t *t, const weir_record_t *rec) {
  return fake_host_process(&t->h, t->def, t->self, rec);
}

/* key/value: C strings, or NULL for no key / a tombstone. The bytes are
 * copied to exact-size heap blocks with no terminator, so ASan catches an
 * operator that reads past them. */
int t_push(t_op_t *t, const char *key, const char *value, int64_t ts) {
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

size_t t_count(t_op_t *t) {
  return t->h.record_count;
}

const fake_record_t *t_out(t_op_t *t, size_t i) {
  assert_true(i < t->h.record_count);
  return &t->h.records[i];
}

void t_set_forward_rc(t_op_t *t, int rc) {
  t->h.forward_rc = rc;
}

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
void t_expect(t_op_t *t, size_t i, const char *child, const char *key, const char *value,
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

void t_close(t_op_t *t) {
  if (t->init_rc == WEIR_OK && t->def->close)
    t->def->close(fake_host_ctx(&t->h), t->self);
  fake_host_free(&t->h);
  free(t);
}

int64_t t_dropped(t_op_t *t) {
  return fake_host_metric(&t->h, "dropped");
}

const char *t_log(t_op_t *t, size_t i) {
  assert_true(i < t->h.log_count);
  assert_int_equal(t->h.logs[i].level, WEIR_LOG_INFO);
  return t->h.logs[i].message;
}

size_t t_log_count(t_op_t *t) {
  return t->h.log_count;
}
