/* query — interactive queries on key-value stores (window and session
 * stores: window_query.h).
 *
 *   GET /v1/stores                       every store: type, serdes, partitions here
 *   GET /v1/stores/NAME/keys/KEY         one key (404 when absent)
 *   GET /v1/stores/NAME/range?from=&to=&prefix=&limit=&cursor=
 *                                        keys in order, a page at a time
 *
 * What a read sees: RocksDB as of the owning task's last commit. A task's
 * writes go to its write cache and reach RocksDB only after the commit that
 * covers them (state/kv_store.h), and the cache belongs to the stream
 * thread, so a read never looks into it: it takes no lock a stream thread
 * takes, and it never returns a value whose input could still be processed
 * again after a failure. A write is visible at most commit.interval.ms
 * after it was made.
 *
 * A key's partition is the one the default (Java and weir) partitioner
 * gives it: murmur2 of the key's bytes. It is answered only when a task of
 * this process owns it and runs (not restoring); otherwise 503 with
 * Retry-After. A range covers every partition this process runs and names
 * the others in "partitions_elsewhere"; one restoring makes it a 503.
 */
#ifndef WEIR_HTTP_QUERY_H
#define WEIR_HTTP_QUERY_H

#include "http/server.h"

/* The largest page a range answers (limit= beyond is a 400). */
#define WEIR_QUERY_MAX_LIMIT 1000

/* Answer a path under /v1/stores (`rest` is what follows it). */
void weir_query_handle(const weir_http_env_t *env, const weir_http_req_t *req, const char *rest,
                       weir_http_resp_t *r);

#endif
