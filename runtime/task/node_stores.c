/* Host API 1.2 store enumeration: the stores a node lists in `store =`, in
 * that order, so a plugin need not guess names for weir_store_get(). */
#include "task/task.h"

size_t weir_api_store_count(weir_ctx_t *ctx) {
  return ((weir_node_inst_t *)ctx)->node->store_count;
}

const char *weir_api_store_name(weir_ctx_t *ctx, size_t index) {
  const weir_node_t *node = ((weir_node_inst_t *)ctx)->node;
  return index < node->store_count ? node->stores[index] : NULL;
}
