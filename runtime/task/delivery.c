/* The msg_opaque encoding of delivery.h. */
#include "task/delivery.h"

#include <stddef.h>

#define SEQ_BITS 40
#define SEQ_MASK ((UINT64_C(1) << SEQ_BITS) - 1)
#define CHANGELOG_BIT (UINT64_C(1) << 63)
#define UNTRACKED_WORD (UINT64_C(1) << 62)

void *weir_delivery_tracked(uint32_t slot, uint64_t seq) {
  return (void *)(uintptr_t)(((uint64_t)slot << SEQ_BITS) | (seq & SEQ_MASK));
}

void *weir_delivery_changelog(struct weir_task_store *store) {
  return (void *)(uintptr_t)(CHANGELOG_BIT | (uint64_t)(uintptr_t)store);
}

void *weir_delivery_untracked(void) {
  return (void *)(uintptr_t)UNTRACKED_WORD;
}

weir_delivery_t weir_delivery_decode(void *opaque) {
  uint64_t v = (uint64_t)(uintptr_t)opaque;
  weir_delivery_t d = {WEIR_DELIVERY_TRACKED, 0, 0, NULL};
  if (v & CHANGELOG_BIT) {
    d.kind = WEIR_DELIVERY_CHANGELOG;
    d.store = (struct weir_task_store *)(uintptr_t)(v & ~CHANGELOG_BIT);
  } else if (v == UNTRACKED_WORD) {
    d.kind = WEIR_DELIVERY_UNTRACKED;
  } else {
    d.slot = (uint32_t)(v >> SEQ_BITS);
    d.seq40 = v & SEQ_MASK;
  }
  return d;
}

uint64_t weir_delivery_seq_expand(const weir_offset_tracker_t *t, uint64_t seq40) {
  return t->head_seq + ((seq40 - t->head_seq) & SEQ_MASK);
}
