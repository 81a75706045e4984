/* server — the embedded HTTP server (libmicrohttpd): interactive queries,
 * /metrics, /health, /ready and the topology.
 *
 * Off unless http.listen is set. One polling thread of its own serves every
 * connection; handlers only read what the stream threads publish
 * (ownership.h) and RocksDB, so a client can slow the server, never a
 * stream thread. Bounds: CONNECTIONS at once, a request's line and headers
 * within HEADER_BYTES (libmicrohttpd answers 414/431 beyond), no request
 * body (413), IDLE_S seconds of silence per connection, and at most
 * weir_query's row limit per answer. Every error is a 4xx/5xx with a JSON
 * body {"error": "...", "status": N}.
 */
#ifndef WEIR_HTTP_SERVER_H
#define WEIR_HTTP_SERVER_H

#include <stddef.h>

#include "http/out.h"
#include "http/ownership.h"
#include "state/state_db.h"
#include "topology/topology.h"

typedef struct weir_http_env {
  const weir_topology_t *topo;
  weir_ownership_t *owners;
  weir_state_db_t *state_db;                  /* NULL: no stores */
  const char *advertise;                      /* this instance's address, named in every answer */
  unsigned long long (*processed)(void *app); /* records processed by all threads */
  struct weir_directory *directory;           /* who owns what (forwarding); NULL: no forwarding */
  struct weir_forward_pool *forwards;         /* kept connections to owners (set by the server) */
  /* Reloads done and failed (NULL: none counted). */
  void (*reloads)(void *app, unsigned long long *done, unsigned long long *failed);
  void *app;
} weir_http_env_t;

typedef struct weir_http_req {
  const char *path;      /* decoded, without the query string */
  void *conn;            /* the connection, for weir_http_arg */
  const char *forwarded; /* X-Weir-Forwarded: the instance that forwarded it, or NULL */
} weir_http_req_t;

typedef struct weir_http_resp {
  int status;
  const char *content_type; /* default application/json */
  int retry_after;          /* seconds; 0: no Retry-After */
  weir_out_t body;
  /* Set (malloc'd) by a route whose answer is another instance's: the
   * server asks `forward_to` for `forward_path` on a forwarding thread, so
   * the polling thread goes on with other connections meanwhile; `body`
   * etc. then stand for the case nobody answers. */
  char *forward_to, *forward_path;
} weir_http_resp_t;

/* A query-string argument (decoded), or NULL. */
const char *weir_http_arg(const weir_http_req_t *req, const char *name);
/* Make `r` an error: the status and {"error": message, "status": N}. */
void weir_http_error(weir_http_resp_t *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct weir_http weir_http_t;

/* Listen on env->topo's http.listen. NULL with errstr when it cannot. */
weir_http_t *weir_http_start(const weir_http_env_t *env, char *errstr, size_t errstr_size);
void weir_http_stop(weir_http_t *h);
/* The port it listens on (the one chosen when http.listen gave port 0). */
int weir_http_port(const weir_http_t *h);

#endif
