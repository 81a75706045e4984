#include "task/offset_tracker.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_CAPACITY 1024u

int weir_offset_tracker_init(weir_offset_tracker_t *t) {
  memset(t, 0, sizeof *t);
  t->ring = calloc(INITIAL_CAPACITY, sizeof *t->ring);
  if (!t->ring)
    return -1;
  t->mask = INITIAL_CAPACITY - 1;
  t->next_offset = -1;
  t->committed = -1;
  return 0;
}

void weir_offset_tracker_free(weir_offset_tracker_t *t) {
  free(t->ring);
  memset(t, 0, sizeof *t);
}

static weir_offset_entry_t *entry(const weir_offset_tracker_t *t, uint64_t seq) {
  return &t->ring[seq & t->mask];
}

/* Double the ring, keeping each live entry at seq & new_mask. */
static int grow(weir_offset_tracker_t *t) {
  uint64_t cap = (t->mask + 1) * 2;
  weir_offset_entry_t *ring = calloc(cap, sizeof *ring);
  if (!ring)
    return -1;
  for (uint64_t s = t->head_seq; s < t->tail_seq; s++)
    ring[s & (cap - 1)] = *entry(t, s);
  free(t->ring);
  t->ring = ring;
  t->mask = cap - 1;
  return 0;
}

/* Drop finished entries from the front: their offsets are committable. */
static void advance(weir_offset_tracker_t *t) {
  while (t->head_seq < t->tail_seq) {
    const weir_offset_entry_t *e = entry(t, t->head_seq);
    if (e->pending > 0 || e->failed)
      break;
    t->head_seq++;
  }
}

uint64_t weir_offset_tracker_begin(weir_offset_tracker_t *t, int64_t offset) {
  if (t->tail_seq - t->head_seq > t->mask && grow(t))
    return UINT64_MAX;
  weir_offset_entry_t *e = entry(t, t->tail_seq);
  e->offset = offset;
  e->pending = 1;
  e->failed = 0;
  t->next_offset = offset + 1;
  return t->tail_seq++;
}

static int live(const weir_offset_tracker_t *t, uint64_t seq) {
  return seq >= t->head_seq && seq < t->tail_seq;
}

void weir_offset_tracker_add(weir_offset_tracker_t *t, uint64_t seq) {
  if (live(t, seq))
    entry(t, seq)->pending++;
}

void weir_offset_tracker_ack(weir_offset_tracker_t *t, uint64_t seq, int failed) {
  if (!live(t, seq))
    return;
  weir_offset_entry_t *e = entry(t, seq);
  e->pending--;
  if (failed)
    e->failed = 1;
  if (seq == t->head_seq)
    advance(t);
}

void weir_offset_tracker_end(weir_offset_tracker_t *t, uint64_t seq) {
  weir_offset_tracker_ack(t, seq, 0);
}

void weir_offset_tracker_hold(weir_offset_tracker_t *t, uint64_t seq) {
  if (live(t, seq))
    entry(t, seq)->failed = 1;
}

int64_t weir_offset_tracker_position(const weir_offset_tracker_t *t) {
  if (t->head_seq < t->tail_seq)
    return entry(t, t->head_seq)->offset;
  return t->next_offset;
}

uint64_t weir_offset_tracker_in_flight(const weir_offset_tracker_t *t) {
  return t->tail_seq - t->head_seq;
}
