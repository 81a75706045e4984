/* kv_iter — an iterator over one store-partition as its task sees it: the
 * write cache's entries that RocksDB does not hold yet, laid over RocksDB's
 * rows, in memcmp order of the keys. A cached value replaces RocksDB's row of
 * the same key, a cached delete hides it. So a range read needs no early
 * write to RocksDB (the commit stays the only writer).
 *
 * Both parts are as of the moment the iterator is made: the cache's part is
 * copied, RocksDB's iterator reads its implicit snapshot; puts made while it
 * is open are not seen.
 * Key and value pointers from next() are valid until the next next() or
 * close(). Not thread-safe, like the store it reads.
 */
#ifndef WEIR_STATE_KV_ITER_H
#define WEIR_STATE_KV_ITER_H

#include <stddef.h>

#include "state/kv_store.h"

typedef struct weir_kv_iter weir_kv_iter_t;

/* Keys with from <= key < to (NULL = unbounded). NULL on out of memory. */
weir_kv_iter_t *weir_kv_iter_range(weir_kv_store_t *s, const void *from, size_t from_len,
                                   const void *to, size_t to_len);
/* Keys that start with `prefix`. NULL on out of memory. */
weir_kv_iter_t *weir_kv_iter_prefix(weir_kv_store_t *s, const void *prefix, size_t prefix_len);
/* As weir_kv_iter_range and weir_kv_iter_prefix over the cache's unwritten
 * entries alone (deletes skipped), without RocksDB: for a caller that knows RocksDB holds no row it
 * wants (a window store reading windows newer than any it has written), which then skips making and
 * seeking a RocksDB iterator, most of such a read's cost. */
weir_kv_iter_t *weir_kv_iter_range_unwritten(weir_kv_store_t *s, const void *from, size_t from_len,
                                             const void *to, size_t to_len);
weir_kv_iter_t *weir_kv_iter_prefix_unwritten(weir_kv_store_t *s, const void *prefix,
                                              size_t prefix_len);
/* 1 and the row, 0 past the end, -1 on a RocksDB error (weir_kv_iter_error). */
int weir_kv_iter_next(weir_kv_iter_t *it, const void **key, size_t *key_len, const void **value,
                      size_t *value_len);
const char *weir_kv_iter_error(const weir_kv_iter_t *it);
void weir_kv_iter_close(weir_kv_iter_t *it);

#endif
