/* passthrough — forwards every record unchanged (a placeholder node, or a
 * fan-out point: all of its children get each record). */
#include "std_ops.h"

static int passthrough_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  *self = NULL; /* stateless */
  return WEIR_OK;
}

static int passthrough_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  return weir_forward(ctx, rec);
}

const weir_operator_def_t std_passthrough_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "passthrough",
    .doc = "Forward every record unchanged",
    .params = NULL,
    .init = passthrough_init,
    .process = passthrough_process,
};
