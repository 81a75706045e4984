/* window_query — interactive queries on window and session stores.
 *
 *   GET /v1/stores/NAME/keys/KEY?from=&to=&limit=
 *       one key's windows, by start: for a window store those starting in
 *       [from, to]; for a session store the sessions overlapping it (end >=
 *       from and start <= to). Answered by the instance that runs the key's
 *       partition, forwarded to it like a key-value lookup.
 *   GET /v1/stores/NAME/windows?from=&to=&limit=
 *       every key's windows (or sessions) over the same range, by start
 *       then key, from the partitions this instance runs; the others are
 *       named in "partitions_elsewhere".
 *
 * from and to are epoch ms (default: all). Each window is
 * {"key","start","end","value","partition"}; "truncated": true when more
 * than `limit` (default 100, at most WEIR_QUERY_MAX_LIMIT) matched — narrow
 * the range to see the rest.
 *
 * Like key-value queries they read RocksDB as of the owning task's last
 * commit, and leave out windows past the store's retention by the task's
 * stream time (published once a second), which a store still holds until
 * their segment goes whole. A read scans the segments the range covers.
 */
#ifndef WEIR_HTTP_WINDOW_QUERY_H
#define WEIR_HTTP_WINDOW_QUERY_H

#include "http/server.h"

/* Answer `tail` (what follows /v1/stores/NAME) for the window or session
 * store d. */
void weir_window_query_handle(const weir_http_env_t *env, const weir_http_req_t *req,
                              const weir_store_decl_t *d, const char *tail, weir_http_resp_t *r);

#endif
