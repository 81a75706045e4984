/* op_harness — run one plugin's operators in the fake host (see op_harness.c). */
#ifndef WEIR_TESTS_OP_HARNESS_H
#define WEIR_TESTS_OP_HARNESS_H

#include <stdint.h>
#include <weir/weir.h>

#include "plugin/loader.h"
#include "support/fake_host.h"

typedef struct t_op {
  fake_host_t h;
  const weir_operator_def_t *def;
  void *self;
  int init_rc;
  char err[512];
} t_op_t;

extern const weir_plugin_desc_t *g_desc; /* the loaded plugin's descriptor */

/* cmocka group setup/teardown bodies: load (and check) the plugin, unload it. */
int op_harness_load(const char *path, const char *ref);
int op_harness_unload(void);

const weir_operator_def_t *find_op(const char *type);
/* params: "name", "value", ..., NULL (a repeated name is appended as for
 * MULTI parameters; declared defaults fill the rest); children: NULL-ended
 * names or NULL. The instance is node "words", task "1_3", origin in/3@42. */
t_op_t *t_open(const char *type, const char *const *params, const char *const *children);
int t_push_rec(t_op_t *t, const weir_record_t *rec);
/* key/value: C strings or NULL (no key / tombstone), copied to exact-size
 * blocks so ASan catches reads past them. */
int t_push(t_op_t *t, const char *key, const char *value, int64_t ts);
size_t t_count(t_op_t *t);
const fake_record_t *t_out(t_op_t *t, size_t i);
void t_set_forward_rc(t_op_t *t, int rc);
/* Output i: child (NULL = weir_forward), key/value (NULL = absent), ts. */
void t_expect(t_op_t *t, size_t i, const char *child, const char *key, const char *value,
              int64_t ts);
void t_close(t_op_t *t);
int64_t t_dropped(t_op_t *t);
const char *t_log(t_op_t *t, size_t i);
size_t t_log_count(t_op_t *t);

#endif
