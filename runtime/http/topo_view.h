/* topo_view — GET /v1/topology: the running topology as JSON (nodes with
 * kind, sub-topology, inputs, topics and stores; stores with type and
 * serdes), or Graphviz dot with ?format=dot (as `weir describe --dot`). */
#ifndef WEIR_HTTP_TOPO_VIEW_H
#define WEIR_HTTP_TOPO_VIEW_H

#include "http/server.h"

void weir_topo_view_handle(const weir_http_env_t *env, const weir_http_req_t *req,
                           weir_http_resp_t *r);

#endif
