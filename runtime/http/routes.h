/* routes — which handler answers which path. */
#ifndef WEIR_HTTP_ROUTES_H
#define WEIR_HTTP_ROUTES_H

#include "http/server.h"

/* Answer a GET of req->path into `r`. */
void weir_http_route(const weir_http_env_t *env, const weir_http_req_t *req, weir_http_resp_t *r);

#endif
