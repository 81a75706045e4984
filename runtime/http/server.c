#include "http/server.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http/addr.h"
#include "http/auth.h"
#include "http/forward.h"
#include "http/routes.h"
#include "util/log.h"

enum {
  CONNECTIONS = 64,         /* open at once; more are refused at accept */
  HEADER_BYTES = 16 * 1024, /* request line + headers; beyond: 414/431 */
  IDLE_S = 10,              /* a connection silent this long is closed */
  POLL_THREADS = 2,
  FORWARD_THREADS = 2 /* forwarded queries waiting on their owners at once */
};

/* One request, from its headers to its completion. A forwarded one is
 * suspended (its polling thread serves other connections) until a
 * forwarding thread has the owner's answer in `resp` and resumes it. */
typedef struct call {
  int routed; /* the route ran: `resp` is the answer */
  struct MHD_Connection *conn;
  weir_http_resp_t resp;
  struct call *next; /* in the forwarding queue */
} call_t;

struct weir_http {
  struct MHD_Daemon *daemon;
  weir_http_env_t env;
  pthread_mutex_t mu; /* the forwarding queue */
  pthread_cond_t wake;
  call_t *head, *tail;
  int stopping;
  int forwarders;
  pthread_t forwarder[FORWARD_THREADS];
};

const char *weir_http_arg(const weir_http_req_t *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void weir_http_error(weir_http_resp_t *r, int status, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  weir_out_free(&r->body);
  r->status = status;
  r->content_type = "application/json";
  weir_out_str(&r->body, "{\"error\":");
  weir_out_json_string(&r->body, msg, strlen(msg));
  weir_out_printf(&r->body, ",\"status\":%d}\n", status);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, const weir_http_env_t *env,
                                 weir_http_resp_t *r) {
  if (r->body.failed)
    weir_http_error(r, 500, "out of memory building the answer");
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      r->body.len, r->body.data ? r->body.data : "", MHD_RESPMEM_MUST_COPY);
  if (!resp)
    return MHD_NO;
  MHD_add_response_header(resp, "Content-Type",
                          r->content_type ? r->content_type : "application/json");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  if (env->advertise)
    MHD_add_response_header(resp, "X-Weir-Instance", env->advertise);
  if (r->status == 401)
    MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"weir\"");
  if (r->retry_after > 0) {
    char secs[16];
    snprintf(secs, sizeof secs, "%d", r->retry_after);
    MHD_add_response_header(resp, "Retry-After", secs);
  }
  enum MHD_Result rc = MHD_queue_response(c, (unsigned)r->status, resp);
  MHD_destroy_response(resp);
  return rc;
}

/* What is refused before any route runs: another method, a body, no token. */
static int refuse(struct MHD_Connection *c, const weir_http_env_t *env, const char *url,
                  const char *method, weir_http_resp_t *r) {
  const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
  const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
  /* The status page holds no data: a browser can open it without the token. */
  int open_page = strcmp(url, "/") == 0;
  if (!open_page &&
      !weir_http_authorized(env->topo->settings.http_token,
                            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization")))
    weir_http_error(r, 401, "missing or wrong token: send 'Authorization: Bearer <http.token>'");
  else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    weir_http_error(r, 405, "%s is not served: every endpoint answers GET", method);
  else if ((len && strcmp(len, "0") != 0) || te)
    weir_http_error(r, 413, "a request body is not accepted");
  else
    return 0;
  return 1;
}

static void resp_clear(weir_http_resp_t *r) {
  weir_out_free(&r->body);
  free(r->forward_to);
  free(r->forward_path);
  r->forward_to = r->forward_path = NULL;
}

/* Hand a routed call to the forwarding threads; 0, or -1 when stopping. */
static int forward_later(weir_http_t *h, call_t *call) {
  pthread_mutex_lock(&h->mu);
  int ok = !h->stopping && h->forwarders > 0;
  if (ok) {
    call->next = NULL;
    if (h->tail)
      h->tail->next = call;
    else
      h->head = call;
    h->tail = call;
    MHD_suspend_connection(call->conn);
    pthread_cond_signal(&h->wake);
  }
  pthread_mutex_unlock(&h->mu);
  return ok ? 0 : -1;
}

/* A forwarding thread: ask each queued call's owner, put the answer in the
 * call and resume its connection (libmicrohttpd then calls on_request
 * again, which sends it). When stopping, what is queued is answered 503. */
static void *forwarder_main(void *arg) {
  weir_http_t *h = arg;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    while (!h->head && !h->stopping)
      pthread_cond_wait(&h->wake, &h->mu);
    call_t *call = h->head;
    if (!call)
      break;
    h->head = call->next;
    if (!h->head)
      h->tail = NULL;
    int stopping = h->stopping;
    pthread_mutex_unlock(&h->mu);
    weir_http_resp_t answer = {.status = 200};
    if (stopping) {
      weir_http_error(&answer, 503, "this instance is stopping: ask another");
      answer.retry_after = 1;
    } else {
      weir_forward_get(h->env.forwards, call->resp.forward_to, call->resp.forward_path,
                       h->env.topo->settings.http_token, h->env.advertise, &answer);
    }
    resp_clear(&call->resp);
    call->resp = answer;
    MHD_resume_connection(call->conn);
    pthread_mutex_lock(&h->mu);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

/* libmicrohttpd calls this first with the headers, then again once the
 * request is read (and once more after a forwarded call is resumed). A
 * refusal is answered at once (the connection then closes, so a body is
 * never read); an answer waits for the second call, so the connection
 * stays open for the client's next request. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **state) {
  weir_http_t *h = cls;
  call_t *call = *state;
  weir_http_resp_t refused = {.status = 200};
  (void)version;
  (void)upload_data;
  if (!call) {
    if (refuse(c, &h->env, url, method, &refused)) {
      enum MHD_Result rc = send_resp(c, &h->env, &refused);
      weir_out_free(&refused.body);
      return rc;
    }
    if (!(call = calloc(1, sizeof *call)))
      return MHD_NO;
    call->conn = c;
    call->resp.status = 200;
    *state = call;
    return MHD_YES;
  }
  if (*upload_data_size) {
    *upload_data_size = 0; /* cannot happen (refused above): discarded */
    return MHD_YES;
  }
  if (!call->routed) {
    call->routed = 1;
    weir_http_req_t req = {
        .path = url,
        .conn = c,
        .forwarded = MHD_lookup_connection_value(c, MHD_HEADER_KIND, WEIR_FORWARD_HEADER)};
    weir_http_route(&h->env, &req, &call->resp);
    if (call->resp.forward_to && forward_later(h, call) == 0)
      return MHD_YES;
  }
  return send_resp(c, &h->env, &call->resp);
}

/* Every request ends here, answered or not: its call goes. */
static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why) {
  call_t *call = *state;
  (void)cls;
  (void)c;
  (void)why;
  if (call) {
    resp_clear(&call->resp);
    free(call);
    *state = NULL;
  }
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  line[strcspn(line, "\n")] = '\0';
  WEIR_DEBUG("http: %s", line);
}

/* The forwarding threads stop: what is queued is answered (503) and
 * resumed, a forward under way ends by its timeout. */
static void forwarders_stop(weir_http_t *h) {
  pthread_mutex_lock(&h->mu);
  h->stopping = 1;
  pthread_cond_broadcast(&h->wake);
  pthread_mutex_unlock(&h->mu);
  for (int i = 0; i < h->forwarders; i++)
    pthread_join(h->forwarder[i], NULL);
}

static void http_free(weir_http_t *h) {
  forwarders_stop(h);
  if (h->daemon)
    MHD_stop_daemon(h->daemon);
  weir_forward_pool_free(h->env.forwards);
  pthread_cond_destroy(&h->wake);
  pthread_mutex_destroy(&h->mu);
  free(h);
}

static struct MHD_Daemon *daemon_start(weir_http_t *h, const struct sockaddr_storage *addr) {
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                   MHD_ALLOW_SUSPEND_RESUME;
  if (addr->ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  return MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)IDLE_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_BYTES * 2,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)POLL_THREADS, MHD_OPTION_LISTENING_ADDRESS_REUSE,
      (unsigned)1, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, NULL, MHD_OPTION_END);
}

weir_http_t *weir_http_start(const weir_http_env_t *env, char *errstr, size_t errstr_size) {
  char why[256];
  struct sockaddr_storage addr;
  const char *listen = env->topo->settings.http_listen;
  if (weir_http_addr_resolve(listen, &addr, why, sizeof why)) {
    snprintf(errstr, errstr_size, "%s: http.listen = %s: %s", env->topo->path, listen, why);
    return NULL;
  }
  weir_http_t *h = calloc(1, sizeof *h);
  if (!h) {
    snprintf(errstr, errstr_size, "out of memory starting the HTTP server");
    return NULL;
  }
  h->env = *env;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->wake, NULL);
  h->env.forwards = weir_forward_pool_new();
  for (int i = 0; h->env.forwards && i < FORWARD_THREADS; i++)
    if (pthread_create(&h->forwarder[i], NULL, forwarder_main, h) == 0)
      h->forwarders++;
  if (!h->env.forwards || h->forwarders < FORWARD_THREADS) {
    snprintf(errstr, errstr_size, "out of memory (or threads) starting the HTTP server");
    http_free(h);
    return NULL;
  }
  if (!(h->daemon = daemon_start(h, &addr))) {
    snprintf(errstr, errstr_size,
             "%s: http.listen = %s: cannot listen (address in use, or not this machine's?)",
             env->topo->path, listen);
    http_free(h);
    return NULL;
  }
  WEIR_INFO("http: serving queries and metrics on %s (port %d)%s", listen, weir_http_port(h),
            env->topo->settings.http_token ? " (bearer token required)" : "");
  return h;
}

int weir_http_port(const weir_http_t *h) {
  const union MHD_DaemonInfo *info =
      h ? MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  return info ? (int)info->port : -1;
}

void weir_http_stop(weir_http_t *h) {
  if (h)
    http_free(h);
}
