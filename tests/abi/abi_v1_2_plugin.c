/* A plugin as written in the ABI 1.2 days, compiled only against the frozen
 * 1.2 header (tests/abi/include-1.2): its weir_origin_t ends with offset
 * (1.3 appended `input`) and its host API with iter_window. Its operator
 * "where" forwards each record with the value "<topic>/<partition>@<offset>
 * size=<origin struct_size>" and keeps the last one per key in a window
 * store. Keep it stable: it stands for every 1.2 plugin in the field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weir/weir.h>

#if WEIR_ABI_MAJOR != 1 || WEIR_ABI_MINOR != 2
#error "abi_v1_2_plugin must be built against the frozen 1.2 header"
#endif

static int where_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  weir_store_t *store = weir_store_get(ctx, weir_store_name(ctx, 0));
  if (!store || weir_store_kind(store) != WEIR_STORE_WINDOW) {
    snprintf(errstr, errstr_size, "where needs a window store (store = NAME)");
    return WEIR_EINVAL;
  }
  *self = store;
  return WEIR_OK;
}

static int where_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  const weir_origin_t *o = weir_origin(ctx);
  char value[256];
  /* A 1.2 plugin knows the fields up to offset; the host's struct may be
   * larger (it only ever appends). */
  snprintf(value, sizeof value, "%s/%d@%lld size>=%d", o->topic ? o->topic : "-", (int)o->partition,
           (long long)o->offset, o->struct_size >= sizeof(weir_origin_t) ? 1 : 0);
  int rc = weir_window_put(self, rec->key, rec->key_len, rec->timestamp, value, strlen(value));
  if (rc != WEIR_OK)
    return rc;
  weir_record_t out = *rec;
  out.value = value;
  out.value_len = strlen(value);
  return weir_forward(ctx, &out);
}

static const weir_operator_def_t where_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "where",
    .doc = "Forward where each record came from (1.2 origin)",
    .init = where_init,
    .process = where_process,
};

WEIR_PLUGIN("abi_v1_2", "1.2.0", "A plugin frozen at ABI 1.2", &where_op)
