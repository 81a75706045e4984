/* record_abi — how the host reads a record a plugin forwards, by weir.h's
 * size rule: a writer's record is at least the ABI 1.0 record; whatever the
 * host knows beyond what the writer wrote reads as zero. */
#ifndef WEIR_TASK_RECORD_ABI_H
#define WEIR_TASK_RECORD_ABI_H

#include <stddef.h>
#include <string.h>
#include <weir/weir.h>

/* The 1.0 record ends with header_count: no released plugin writes less. */
#define WEIR_RECORD_SIZE_1_0 (offsetof(weir_record_t, header_count) + sizeof(size_t))

/* `rec` as a host whose record has `host_size` bytes reads it: rec itself
 * when the writer's is at least that large (the host reads only what it
 * knows); else the writer's bytes copied onto zeros in `full` (host_size
 * bytes, aligned for weir_record_t; struct_size set to host_size), so the
 * fields a later minor appended read as zero. NULL when rec is NULL or
 * smaller than the 1.0 record. No allocation: the record path calls it. */
static inline const weir_record_t *weir_record_import(const weir_record_t *rec, void *full,
                                                      size_t host_size) {
  if (!rec || rec->struct_size < WEIR_RECORD_SIZE_1_0)
    return NULL;
  if (rec->struct_size >= host_size)
    return rec;
  memset(full, 0, host_size);
  memcpy(full, rec, rec->struct_size);
  ((weir_record_t *)full)->struct_size = (uint32_t)host_size;
  return full;
}

#endif
