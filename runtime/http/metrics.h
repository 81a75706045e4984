/* metrics — GET /metrics (Prometheus text exposition format 0.0.4), and
 * the orchestrators' GET /health and GET /ready.
 *
 * Everything is read from what the stream threads publish (ownership.h)
 * and from their live processed-records counter: nothing is counted on the
 * record path for this. Operator counters (weir_metric_add), stream time,
 * lag and restore progress are at most a second old.
 */
#ifndef WEIR_HTTP_METRICS_H
#define WEIR_HTTP_METRICS_H

#include "http/server.h"

void weir_metrics_handle(const weir_http_env_t *env, weir_http_resp_t *r);
/* 200 while the process serves at all. */
void weir_health_handle(const weir_http_env_t *env, weir_http_resp_t *r);
/* 200 when every stream thread has its assignment and no task restores;
 * else 503 saying which. */
void weir_ready_handle(const weir_http_env_t *env, weir_http_resp_t *r);

#endif
