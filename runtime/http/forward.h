/* forward — hand a query to the instance that owns its partition and relay
 * its answer (status, type and body; the owner's own "served_by" names it).
 * The request carries X-Weir-Forwarded, so the owner never forwards it
 * again: a partition moving between the two makes a 503, never a loop.
 * Bounded: FORWARD_TIMEOUT_MS for the connection and the whole answer.
 *
 * Connections to owners are kept open between queries (a pool shared by the
 * HTTP threads): a new TCP connection per forwarded query cost more CPU than
 * the query itself. A kept connection the owner closed meanwhile is noticed
 * before anything was read from it, and the query goes again on a new one.
 * [HTTP threads only.] */
#ifndef WEIR_HTTP_FORWARD_H
#define WEIR_HTTP_FORWARD_H

#include "http/server.h"

#define WEIR_FORWARD_HEADER "X-Weir-Forwarded"

typedef struct weir_forward_pool weir_forward_pool_t;

/* NULL on out of memory. */
weir_forward_pool_t *weir_forward_pool_new(void);
/* Closes every kept connection. */
void weir_forward_pool_free(weir_forward_pool_t *pool);

/* GET `path` (already URL-encoded) from `addr` (host:port) with the token
 * (NULL: none) into `r`, on a connection from `pool` (NULL: a new one, closed
 * after). On no answer, `r` is a 502 saying so. */
void weir_forward_get(weir_forward_pool_t *pool, const char *addr, const char *path,
                      const char *token, const char *self, weir_http_resp_t *r);

#endif
