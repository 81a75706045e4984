/* delivery — the delivery-report protocol between a task's produces and the
 * thread that serves their reports: what a produce's msg_opaque carries and
 * how a report is read back. Its one home: sinks and changelog writes encode
 * here, the producer's delivery callback decodes here.
 *
 * A msg_opaque is one 64-bit word (no allocation per record):
 *   bit 63 set        a changelog record: the rest is its weir_task_store_t*
 *                     (user-space pointers leave bit 63 clear);
 *   exactly bit 62    an output no input owns (an operator's flush()): the
 *                     commit waits for every acknowledgement instead;
 *   otherwise         an output of the input being processed: the tracker's
 *                     slot in bits 40..61, the low 40 bits of its sequence.
 * 2^22 slots and 2^40 records in flight per tracker are far beyond use.
 */
#ifndef WEIR_TASK_DELIVERY_H
#define WEIR_TASK_DELIVERY_H

#include <stdint.h>

#include "task/offset_tracker.h"

struct weir_task_store;

typedef enum {
  WEIR_DELIVERY_TRACKED,   /* slot and seq40 set */
  WEIR_DELIVERY_CHANGELOG, /* store set */
  WEIR_DELIVERY_UNTRACKED
} weir_delivery_kind_t;

typedef struct weir_delivery {
  weir_delivery_kind_t kind;
  uint32_t slot;
  uint64_t seq40; /* the low 40 bits: weir_delivery_seq_expand gives it back whole */
  struct weir_task_store *store;
} weir_delivery_t;

void *weir_delivery_tracked(uint32_t slot, uint64_t seq);
void *weir_delivery_changelog(struct weir_task_store *store);
void *weir_delivery_untracked(void);
weir_delivery_t weir_delivery_decode(void *opaque);
/* The full sequence number of a tracked report, from its low 40 bits. */
uint64_t weir_delivery_seq_expand(const weir_offset_tracker_t *t, uint64_t seq40);

#endif
