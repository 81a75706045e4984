#include "http/forward.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"

enum {
  FORWARD_TIMEOUT_MS = 5000,
  ANSWER_MAX = 16 * 1024 * 1024,
  KEPT_MAX = 8,        /* idle connections kept, over all owners */
  KEPT_IDLE_MS = 5000, /* under the owner's own idle close (server.c IDLE_S) */
  ADDR_MAX = 128
};

typedef struct kept {
  char addr[ADDR_MAX];
  int fd;
  long long idle_since;
} kept_t;

struct weir_forward_pool {
  pthread_mutex_t mu;
  kept_t kept[KEPT_MAX];
  size_t n;
};

/* Wait until fd is ready for `events` or the deadline passes. */
static int ready(int fd, short events, long long deadline) {
  struct pollfd p = {.fd = fd, .events = events};
  long long left = deadline - weir_now_ms();
  return left > 0 && poll(&p, 1, (int)left) == 1;
}

/* A non-blocking connection to addr, made by the deadline; -1 otherwise. */
static int connect_by(const char *addr, long long deadline) {
  char host[256];
  const char *colon = strrchr(addr, ':');
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host)
    return -1;
  if (addr[0] == '[')
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr) - 2, addr + 1);
  else
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
  if (getaddrinfo(host, colon + 1, &hints, &res) || !res)
    return -1;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (fd >= 0 && rc != 0 && !(errno == EINPROGRESS && ready(fd, POLLOUT, deadline))) {
    close(fd);
    return -1;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (fd >= 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* A kept connection the owner closed meanwhile: nothing came back. */
enum { EXCHANGED = 0, EXCHANGE_FAILED = -1, EXCHANGE_STALE = -2 };

/* The answer's whole length once its head is in `resp` (head + its
 * Content-Length), 0 while the head is incomplete, SIZE_MAX when it has no
 * length (then it ends when the owner closes). `closes`: the owner said it
 * will close. */
static size_t answer_length(const weir_out_t *resp, int *closes) {
  char *end = resp->data ? strstr(resp->data, "\r\n\r\n") : NULL;
  if (!end)
    return 0;
  size_t head = (size_t)(end + 4 - resp->data);
  char saved = end[2];
  end[2] = '\0'; /* the header search stays inside the head */
  const char *cl = strcasestr(resp->data, "\r\nContent-Length:");
  const char *conn = strcasestr(resp->data, "\r\nConnection: close");
  *closes = conn != NULL || strncmp(resp->data, "HTTP/1.0", 8) == 0;
  size_t total = cl ? head + (size_t)strtoull(cl + 17, NULL, 10) : SIZE_MAX;
  end[2] = saved;
  return total;
}

/* Send all of `req`, then read one answer: up to its Content-Length, or to
 * the owner's close when it has none. `reusable`: the connection can carry
 * the next query. */
static int exchange(int fd, const weir_out_t *req, weir_out_t *resp, long long deadline,
                    int *reusable) {
  char buf[16384];
  size_t total = 0;
  int closes = 1;
  *reusable = 0;
  for (size_t sent = 0; sent < req->len;) {
    if (!ready(fd, POLLOUT, deadline))
      return EXCHANGE_FAILED;
    ssize_t n = send(fd, req->data + sent, req->len - sent, MSG_NOSIGNAL);
    if (n <= 0 && errno != EAGAIN)
      return sent == 0 && (errno == EPIPE || errno == ECONNRESET) ? EXCHANGE_STALE
                                                                  : EXCHANGE_FAILED;
    sent += n > 0 ? (size_t)n : 0;
  }
  for (;;) {
    if (!ready(fd, POLLIN, deadline))
      return EXCHANGE_FAILED;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0 && (n == 0 || errno != EAGAIN)) {
      if (resp->len == 0)
        return EXCHANGE_STALE;
      return total == SIZE_MAX ? EXCHANGED : EXCHANGE_FAILED;
    }
    if (n > 0)
      weir_out_bytes(resp, buf, (size_t)n);
    if (resp->failed || resp->len > ANSWER_MAX)
      return EXCHANGE_FAILED;
    if (!total)
      total = answer_length(resp, &closes);
    if (total && total != SIZE_MAX && resp->len >= total) {
      *reusable = !closes && resp->len == total;
      return EXCHANGED;
    }
  }
}

static void relay(const weir_out_t *resp, weir_http_resp_t *r) {
  static _Thread_local char type[128];
  char *end = resp->data ? strstr(resp->data, "\r\n\r\n") : NULL;
  int status = end && strncmp(resp->data, "HTTP/1.", 7) == 0 ? atoi(resp->data + 9) : 0;
  if (status < 100 || status > 599) {
    weir_http_error(r, 502, "the owner answered something that is not HTTP");
    return;
  }
  r->status = status;
  const char *ct = strcasestr(resp->data, "\r\nContent-Type:");
  type[0] = '\0';
  if (ct && ct < end) {
    ct += 15;
    ct += strspn(ct, " ");
    snprintf(type, sizeof type, "%.*s", (int)strcspn(ct, "\r"), ct);
    r->content_type = type;
  }
  const char *ra = strcasestr(resp->data, "\r\nRetry-After:");
  if (ra && ra < end)
    r->retry_after = atoi(ra + 14);
  weir_out_str(&r->body, end + 4);
}

/* An idle kept connection to addr, or -1. Connections idle too long are
 * closed on the way: the owner closes them itself after its idle limit. */
static int pool_take(weir_forward_pool_t *pool, const char *addr) {
  int fd = -1;
  if (!pool)
    return -1;
  pthread_mutex_lock(&pool->mu);
  long long now = weir_now_ms();
  for (size_t i = pool->n; i-- > 0;) {
    kept_t *k = &pool->kept[i];
    int stale = now - k->idle_since >= KEPT_IDLE_MS;
    if (!stale && (fd >= 0 || strcmp(k->addr, addr) != 0))
      continue;
    if (stale)
      close(k->fd);
    else
      fd = k->fd;
    pool->kept[i] = pool->kept[--pool->n];
  }
  pthread_mutex_unlock(&pool->mu);
  return fd;
}

static void pool_keep(weir_forward_pool_t *pool, const char *addr, int fd) {
  if (!pool || strlen(addr) >= ADDR_MAX) {
    close(fd);
    return;
  }
  pthread_mutex_lock(&pool->mu);
  if (pool->n == KEPT_MAX) { /* the oldest kept one makes room */
    close(pool->kept[0].fd);
    memmove(pool->kept, pool->kept + 1, --pool->n * sizeof pool->kept[0]);
  }
  kept_t *k = &pool->kept[pool->n++];
  snprintf(k->addr, sizeof k->addr, "%s", addr);
  k->fd = fd;
  k->idle_since = weir_now_ms();
  pthread_mutex_unlock(&pool->mu);
}

weir_forward_pool_t *weir_forward_pool_new(void) {
  weir_forward_pool_t *pool = calloc(1, sizeof *pool);
  if (pool && pthread_mutex_init(&pool->mu, NULL)) {
    free(pool);
    return NULL;
  }
  return pool;
}

void weir_forward_pool_free(weir_forward_pool_t *pool) {
  if (!pool)
    return;
  for (size_t i = 0; i < pool->n; i++)
    close(pool->kept[i].fd);
  pthread_mutex_destroy(&pool->mu);
  free(pool);
}

/* One try: on a kept connection when the pool has one, else a new one. */
static int forward_once(weir_forward_pool_t *pool, const char *addr, const weir_out_t *req,
                        weir_out_t *resp, long long deadline, int *was_kept) {
  int reusable = 0;
  int fd = pool_take(pool, addr);
  *was_kept = fd >= 0;
  if (fd < 0)
    fd = connect_by(addr, deadline);
  if (fd < 0)
    return EXCHANGE_FAILED;
  int rc = exchange(fd, req, resp, deadline, &reusable);
  if (rc == EXCHANGED && reusable)
    pool_keep(pool, addr, fd);
  else
    close(fd);
  return rc;
}

void weir_forward_get(weir_forward_pool_t *pool, const char *addr, const char *path,
                      const char *token, const char *self, weir_http_resp_t *r) {
  long long deadline = weir_now_ms() + FORWARD_TIMEOUT_MS;
  weir_out_t req = {0}, resp = {0};
  int was_kept = 0;
  weir_out_printf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\n%s%s: %s\r\n", path, addr,
                  pool ? "" : "Connection: close\r\n", WEIR_FORWARD_HEADER, self ? self : "?");
  if (token)
    weir_out_printf(&req, "Authorization: Bearer %s\r\n", token);
  weir_out_str(&req, "\r\n");
  int rc =
      req.failed ? EXCHANGE_FAILED : forward_once(pool, addr, &req, &resp, deadline, &was_kept);
  /* A GET is safe to send again: a kept connection that turned out closed
   * gets one more try, on a new connection. */
  while (rc == EXCHANGE_STALE && was_kept) {
    weir_out_free(&resp);
    rc = forward_once(pool, addr, &req, &resp, deadline, &was_kept);
  }
  if (rc != EXCHANGED) {
    weir_http_error(r, 502, "the owner of this key, %s, did not answer within %d ms", addr,
                    FORWARD_TIMEOUT_MS);
    r->retry_after = 1;
  } else {
    relay(&resp, r);
  }
  weir_out_free(&req);
  weir_out_free(&resp);
}
