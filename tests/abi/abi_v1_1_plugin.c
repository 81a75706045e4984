/* A plugin as written in the ABI 1.1 days, compiled only against the frozen
 * 1.1 header (tests/abi/include-1.1): its operator definitions end with
 * flush (no punctuate, no extract_timestamp) and it knows the 1.1 host API
 * only. Its operator "tally" counts records per key in its kv store and
 * forwards "key=count" for each; flush() forwards "flushed:<n>" with the
 * number of records since the last flush. Keep it stable: it stands for
 * every 1.1 plugin in the field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weir/weir.h>

#if WEIR_ABI_MAJOR != 1 || WEIR_ABI_MINOR != 1
#error "abi_v1_1_plugin must be built against the frozen 1.1 header"
#endif

typedef struct tally {
  weir_store_t *store;
  long since_flush;
} tally_t;

static int tally_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  tally_t *t = calloc(1, sizeof *t);
  if (!t)
    return WEIR_ENOMEM;
  t->store = weir_store_get(ctx, NULL);
  if (!t->store) {
    snprintf(errstr, errstr_size, "tally needs a store (store = NAME)");
    free(t);
    return WEIR_EINVAL;
  }
  *self = t;
  return WEIR_OK;
}

static int tally_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  tally_t *t = self;
  const void *v;
  size_t len;
  long long n = 0;
  char out_value[64], key[64];
  size_t key_len = rec->key_len < sizeof key - 1 ? rec->key_len : sizeof key - 1;
  if (weir_kv_get(t->store, rec->key, rec->key_len, &v, &len) == WEIR_OK && len == sizeof n)
    memcpy(&n, v, sizeof n);
  n++;
  int rc = weir_kv_put(t->store, rec->key, rec->key_len, &n, sizeof n);
  if (rc != WEIR_OK)
    return rc;
  memcpy(key, rec->key, key_len);
  key[key_len] = '\0';
  snprintf(out_value, sizeof out_value, "%s=%lld", key, n);
  weir_record_t out = *rec;
  out.value = out_value;
  out.value_len = strlen(out_value);
  t->since_flush++;
  return weir_forward(ctx, &out);
}

static int tally_flush(weir_ctx_t *ctx, void *self) {
  tally_t *t = self;
  char value[48];
  if (!t->since_flush)
    return WEIR_OK;
  snprintf(value, sizeof value, "flushed:%ld", t->since_flush);
  t->since_flush = 0;
  weir_record_t out = WEIR_RECORD_INIT;
  out.key = "f";
  out.key_len = 1;
  out.value = value;
  out.value_len = strlen(value);
  return weir_forward(ctx, &out);
}

static void tally_close(weir_ctx_t *ctx, void *self) {
  (void)ctx;
  free(self);
}

static const weir_operator_def_t tally = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "tally",
    .doc = "counts records per key in its store",
    .init = tally_init,
    .process = tally_process,
    .close = tally_close,
    .flush = tally_flush,
};

WEIR_PLUGIN("abi_v1_1", "1.1.0", "a plugin built against the 1.1 SDK", &tally)
