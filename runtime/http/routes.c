#include "http/routes.h"

#include <string.h>

#include "http/metrics.h"
#include "http/query.h"
#include "http/status_page.h"
#include "http/tasks_view.h"
#include "http/topo_view.h"

void weir_http_route(const weir_http_env_t *env, const weir_http_req_t *req, weir_http_resp_t *r) {
  const char *path = req->path;
  if (strcmp(path, "/") == 0)
    weir_status_page_handle(r);
  else if (strcmp(path, "/v1/tasks") == 0)
    weir_tasks_view_handle(env, r);
  else if (strcmp(path, "/health") == 0)
    weir_health_handle(env, r);
  else if (strcmp(path, "/ready") == 0)
    weir_ready_handle(env, r);
  else if (strcmp(path, "/metrics") == 0)
    weir_metrics_handle(env, r);
  else if (strcmp(path, "/v1/topology") == 0)
    weir_topo_view_handle(env, req, r);
  else if (strncmp(path, "/v1/stores", 10) == 0 && (path[10] == '\0' || path[10] == '/'))
    weir_query_handle(env, req, path + 10, r);
  else
    weir_http_error(r, 404,
                    "no such endpoint: try /v1/stores, /v1/stores/NAME/keys/KEY, "
                    "/v1/stores/NAME/range, /v1/stores/NAME/windows, /v1/topology, /v1/tasks, /, "
                    "/metrics, /health, /ready");
}
