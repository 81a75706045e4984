/* Records of other sizes than the host's, from a plugin built against the
 * frozen 1.0 header only (like abi_v1_0_plugin.c):
 *   "short"  forwards a record whose struct_size stops before header_count,
 *            smaller than any released record: the host must refuse it.
 *   "grown"  forwards the record of a later minor that appended a field
 *            after header_count: the host reads the fields it knows.
 * Each copies the input's key, value and timestamp. */
#include <stddef.h>
#include <weir/weir.h>

#if WEIR_ABI_MAJOR != 1 || WEIR_ABI_MINOR != 0
#error "abi_record_sizes_plugin must be built against the frozen 1.0 header"
#endif

/* What a later minor's record looks like to this plugin: 1.0's, then more. */
typedef struct grown_record {
  weir_record_t v1_0;
  const void *appended;
  size_t appended_len;
} grown_record_t;

static int sizes_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  (void)ctx, (void)errstr, (void)errstr_size;
  *self = NULL;
  return WEIR_OK;
}

static void copy_input(weir_record_t *out, const weir_record_t *rec) {
  out->key = rec->key;
  out->key_len = rec->key_len;
  out->value = rec->value;
  out->value_len = rec->value_len;
  out->timestamp = rec->timestamp;
}

static int short_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  weir_record_t out = WEIR_RECORD_INIT;
  (void)self;
  copy_input(&out, rec);
  out.struct_size = (uint32_t)offsetof(weir_record_t, header_count);
  return weir_forward(ctx, &out);
}

static int grown_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  grown_record_t out = {WEIR_RECORD_INIT, "later", 5};
  (void)self;
  copy_input(&out.v1_0, rec);
  out.v1_0.struct_size = (uint32_t)sizeof out;
  return weir_forward(ctx, &out.v1_0);
}

static const weir_operator_def_t short_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "short",
    .doc = "Forward a record smaller than the 1.0 record",
    .init = sizes_init,
    .process = short_process,
};

static const weir_operator_def_t grown_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "grown",
    .doc = "Forward a record larger than the 1.0 record",
    .init = sizes_init,
    .process = grown_process,
};

WEIR_PLUGIN("abi_record_sizes", "1.0.0", "Records smaller and larger than 1.0's", &short_op,
            &grown_op)
