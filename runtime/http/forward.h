/* forward — hand a query to the instance that owns its partition and relay
 * its answer (status, type and body; the owner's own "served_by" names it).
 * The request carries X-Weir-Forwarded, so the owner never forwards it
 * again: a partition moving between the two makes a 503, never a loop.
 * Bounded: FORWARD_TIMEOUT_MS for the connection and the whole answer. */
#ifndef WEIR_HTTP_FORWARD_H
#define WEIR_HTTP_FORWARD_H

#include "http/server.h"

#define WEIR_FORWARD_HEADER "X-Weir-Forwarded"

/* GET `path` (already URL-encoded) from `addr` (host:port) with the token
 * (NULL: none) into `r`. On no answer, `r` is a 502 saying so. */
void weir_forward_get(const char *addr, const char *path, const char *token, const char *self,
                      weir_http_resp_t *r);

#endif
