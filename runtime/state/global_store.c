/* The rows and checkpoints of a global table (global_store.h). */
#include "state/global_store.h"

void weir_global_store_add(weir_state_batch_t *batch, const char *name, const void *key,
                           size_t key_len, const void *value, size_t value_len) {
  if (key && value)
    weir_state_batch_put(batch, name, WEIR_GLOBAL_PARTITION, key, key_len, value, value_len);
  else if (key)
    weir_state_batch_delete(batch, name, WEIR_GLOBAL_PARTITION, key, key_len);
}

void weir_global_store_checkpoint(weir_state_batch_t *batch, const char *name, int32_t partition,
                                  int64_t next) {
  weir_state_batch_checkpoint(batch, name, partition, next);
}

int weir_global_store_get(weir_state_db_t *db, const char *name, const void *key, size_t key_len,
                          void **value, size_t *value_len, char *errstr, size_t errstr_size) {
  return weir_state_db_get(db, name, WEIR_GLOBAL_PARTITION, key, key_len, value, value_len, errstr,
                           errstr_size);
}

int weir_global_store_drop(weir_state_db_t *db, const char *name, int32_t partitions, char *errstr,
                           size_t errstr_size) {
  if (weir_state_db_drop(db, name, WEIR_GLOBAL_PARTITION, errstr, errstr_size))
    return -1;
  for (int32_t p = 0; p < partitions; p++)
    if (weir_state_db_drop(db, name, p, errstr, errstr_size))
      return -1;
  return 0;
}
