#include "http/forward.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { FORWARD_TIMEOUT_MS = 5000, ANSWER_MAX = 16 * 1024 * 1024 };

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static int ready(int fd, short events, long long deadline) {
  struct pollfd p = {.fd = fd, .events = events};
  long long left = deadline - now_ms();
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

/* Send all of `o`, then read until the peer closes; 0 when both ended
 * before the deadline. */
static int exchange(int fd, const weir_out_t *req, weir_out_t *resp, long long deadline) {
  char buf[16384];
  for (size_t sent = 0; sent < req->len;) {
    if (!ready(fd, POLLOUT, deadline))
      return -1;
    ssize_t n = send(fd, req->data + sent, req->len - sent, MSG_NOSIGNAL);
    if (n <= 0 && errno != EAGAIN)
      return -1;
    sent += n > 0 ? (size_t)n : 0;
  }
  for (;;) {
    if (!ready(fd, POLLIN, deadline))
      return -1;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0)
      return 0;
    if (n < 0 && errno != EAGAIN)
      return -1;
    if (n > 0)
      weir_out_bytes(resp, buf, (size_t)n);
    if (resp->failed || resp->len > ANSWER_MAX)
      return -1;
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

void weir_forward_get(const char *addr, const char *path, const char *token, const char *self,
                      weir_http_resp_t *r) {
  long long deadline = now_ms() + FORWARD_TIMEOUT_MS;
  weir_out_t req = {0}, resp = {0};
  weir_out_printf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s: %s\r\n", path,
                  addr, WEIR_FORWARD_HEADER, self ? self : "?");
  if (token)
    weir_out_printf(&req, "Authorization: Bearer %s\r\n", token);
  weir_out_str(&req, "\r\n");
  int fd = req.failed ? -1 : connect_by(addr, deadline);
  if (fd < 0 || exchange(fd, &req, &resp, deadline)) {
    weir_http_error(r, 502, "the owner of this key, %s, did not answer within %d ms", addr,
                    FORWARD_TIMEOUT_MS);
    r->retry_after = 1;
  } else {
    relay(&resp, r);
  }
  if (fd >= 0)
    close(fd);
  weir_out_free(&req);
  weir_out_free(&resp);
}
