/* key_index — an ordered set of byte keys, for the kv store's range reads
 * over its unwritten entries (kv_store.c).
 *
 * Keys are ordered as RocksDB's bytewise comparator orders user keys
 * (memcmp, a key that is a prefix of another first). The index does not own
 * the key bytes: it holds a pointer to each, which the owner updates with
 * weir_key_index_move when it moves them, and a key must stay unchanged
 * while indexed. A key is known by the id its insertion returned, which
 * stays the same until its removal whatever the index reallocates, so the
 * owner can keep it beside the key and remove or move the key without a
 * search.
 *
 * A treap (a binary search tree whose nodes are also heap-ordered on random
 * priorities, so it stays balanced in expectation whatever the order of
 * inserts) with parent links, its nodes in one array: a seek is O(log n)
 * comparisons, each next O(1) amortised, a removal by id needs no
 * comparison and rotates O(1) times in expectation.
 *
 * Not thread-safe: it belongs to one store.
 */
#ifndef WEIR_STATE_KEY_INDEX_H
#define WEIR_STATE_KEY_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct weir_key_index weir_key_index_t;

/* What one indexed key costs in memory (its node), for the cache's budget. */
#define WEIR_KEY_INDEX_NODE_BYTES 32

/* NULL on out of memory. */
weir_key_index_t *weir_key_index_new(void);
void weir_key_index_free(weir_key_index_t *x);

/* Make room for n more keys, so the next n inserts cannot fail: 0, or -1
 * out of memory (the index is unchanged). */
int weir_key_index_reserve(weir_key_index_t *x, size_t n);
/* Add a key not in the index (room reserved first): its id, never 0. */
uint32_t weir_key_index_insert(weir_key_index_t *x, const void *key, size_t key_len);
void weir_key_index_remove(weir_key_index_t *x, uint32_t id);
/* The key of `id` now lives at `key` (same bytes). */
void weir_key_index_move(weir_key_index_t *x, uint32_t id, const void *key);
size_t weir_key_index_count(const weir_key_index_t *x);

/* The id of the first key >= from (from NULL: the first key), 0 if none. */
uint32_t weir_key_index_seek(const weir_key_index_t *x, const void *from, size_t from_len);
/* The id of the key after `id`'s, 0 if none. */
uint32_t weir_key_index_next(const weir_key_index_t *x, uint32_t id);
const void *weir_key_index_key(const weir_key_index_t *x, uint32_t id, size_t *key_len);

#endif
