/* tasks_view — GET /v1/tasks: this instance's tasks as JSON (state,
 * stream time, lag, records buffered, restore progress) and the records
 * processed so far, for the status page and scripts. At most a second old
 * (ownership.h). */
#ifndef WEIR_HTTP_TASKS_VIEW_H
#define WEIR_HTTP_TASKS_VIEW_H

#include "http/server.h"

void weir_tasks_view_handle(const weir_http_env_t *env, weir_http_resp_t *r);

#endif
