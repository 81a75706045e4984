/* hello_op — the smallest plugin, written as a user outside this tree would:
 * it includes only <weir/weir.h> from the installed SDK. Forwards every
 * record with "hello, " put before its value. */
#include <stdlib.h>
#include <string.h>
#include <weir/weir.h>

static int hello_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  (void)ctx, (void)errstr, (void)errstr_size;
  *self = NULL;
  return WEIR_OK;
}

static int hello_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  static const char greeting[] = "hello, ";
  char buf[256];
  weir_record_t out = *rec;
  (void)self;
  if (!rec->value || rec->value_len > sizeof buf - sizeof greeting)
    return weir_forward(ctx, rec);
  memcpy(buf, greeting, sizeof greeting - 1);
  memcpy(buf + sizeof greeting - 1, rec->value, rec->value_len);
  out.value = buf;
  out.value_len = sizeof greeting - 1 + rec->value_len;
  return weir_forward(ctx, &out);
}

static const weir_param_def_t hello_params[] = {
    WEIR_PARAM_STR("name", "world", "Who to greet"),
    WEIR_PARAM_END,
};

static const weir_operator_def_t hello_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "hello-greet",
    .doc = "Put 'hello, ' before each value",
    .params = hello_params,
    .init = hello_init,
    .process = hello_process,
};

WEIR_PLUGIN("hello", "0.0.1", "The out-of-tree SDK test plugin", &hello_op)
