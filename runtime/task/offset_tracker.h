/* offset_tracker — which input offsets of one partition are safe to commit.
 *
 * At-least-once means an input offset is committed only after every record
 * produced from it has been acknowledged. Each input record gets an entry in
 * a ring; each produce made while processing it adds one to the entry's
 * pending count and its delivery report takes one off. The commit position
 * is the offset of the oldest entry still pending, or one past the last
 * processed record when nothing is pending.
 *
 * Entries are addressed by a sequence number that never repeats, so a late
 * delivery report can find its entry even after the ring grows. Not
 * thread-safe: one stream thread owns it (delivery reports are served on the
 * same thread by rd_kafka_poll).
 */
#ifndef WEIR_TASK_OFFSET_TRACKER_H
#define WEIR_TASK_OFFSET_TRACKER_H

#include <stdint.h>

typedef struct weir_offset_entry {
  int64_t offset;
  int32_t pending; /* produces in flight, +1 while the record is processed */
  int32_t failed;  /* a produce for it failed: never commit past it */
} weir_offset_entry_t;

typedef struct weir_offset_tracker {
  weir_offset_entry_t *ring;
  uint64_t mask;       /* capacity - 1; capacity is a power of two */
  uint64_t head_seq;   /* oldest live entry */
  uint64_t tail_seq;   /* next entry to hand out */
  int64_t next_offset; /* one past the last record begun; -1 before the first */
  int64_t committed;   /* last offset committed (or -1) */
} weir_offset_tracker_t;

int weir_offset_tracker_init(weir_offset_tracker_t *t);
void weir_offset_tracker_free(weir_offset_tracker_t *t);

/* A record at `offset` starts processing; returns its sequence number, or
 * UINT64_MAX when out of memory. */
uint64_t weir_offset_tracker_begin(weir_offset_tracker_t *t, int64_t offset);
/* A produce was made for record `seq`. */
void weir_offset_tracker_add(weir_offset_tracker_t *t, uint64_t seq);
/* A produce for record `seq` was acknowledged (failed = 0) or failed. */
void weir_offset_tracker_ack(weir_offset_tracker_t *t, uint64_t seq, int failed);
/* Processing of `seq` finished (its produces may still be in flight). */
void weir_offset_tracker_end(weir_offset_tracker_t *t, uint64_t seq);
/* Processing of `seq` failed for good: hold the commit position before it. */
void weir_offset_tracker_hold(weir_offset_tracker_t *t, uint64_t seq);

/* The offset to commit (the next record to read after a restart), or -1
 * when nothing has been processed. */
int64_t weir_offset_tracker_position(const weir_offset_tracker_t *t);
/* Records begun but not fully acknowledged. */
uint64_t weir_offset_tracker_in_flight(const weir_offset_tracker_t *t);

#endif
