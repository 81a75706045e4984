/* status_page — GET /: one HTML page a person keeps open. It draws the
 * topology itself (inline SVG, from /v1/topology) and a table of this
 * instance's tasks (from /v1/tasks: state, restore progress, lag, rate),
 * refreshed every two seconds. No framework, no external file: the page is
 * a string in the binary. It holds no data, so it is served without the
 * token; its requests for data send the token given as #token=... in the
 * page's address. */
#ifndef WEIR_HTTP_STATUS_PAGE_H
#define WEIR_HTTP_STATUS_PAGE_H

#include "http/server.h"

void weir_status_page_handle(weir_http_resp_t *r);

#endif
