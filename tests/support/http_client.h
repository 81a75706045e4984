/* A minimal HTTP/1.1 client for the tests: sends bytes as given (so a test
 * can send malformed requests too) and reads the answer until the server
 * closes. No libcurl: the tests need exact control of what goes out. */
#ifndef WEIR_TESTS_HTTP_CLIENT_H
#define WEIR_TESTS_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct http_answer {
  int status; /* 0: no answer (connection refused, closed, timed out) */
  char head[4096];
  char *body; /* malloc'd, NUL-terminated */
  size_t body_len;
} http_answer_t;

static __attribute__((unused)) void http_answer_free(http_answer_t *a) {
  free(a->body);
  a->body = NULL;
}

/* A connected socket to 127.0.0.1:port, or -1. */
static __attribute__((unused)) int http_connect(int port) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
    return fd;
  if (fd >= 0)
    close(fd);
  return -1;
}

/* Send `len` raw bytes and read the answer (up to timeout_ms of silence). */
static __attribute__((unused)) int http_raw(int port, const void *req, size_t len, int timeout_ms,
                                            http_answer_t *a) {
  memset(a, 0, sizeof *a);
  int fd = http_connect(port);
  if (fd < 0)
    return -1;
  size_t sent = 0;
  while (sent < len) {
    ssize_t n = send(fd, (const char *)req + sent, len - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break; /* the server may close early (an oversized request): read its answer */
    sent += (size_t)n;
  }
  size_t cap = 65536, got = 0;
  char *buf = malloc(cap + 1);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (buf && poll(&p, 1, timeout_ms) > 0) {
    if (got == cap) {
      char *grown = realloc(buf, cap * 2 + 1);
      if (!grown)
        break;
      buf = grown;
      cap *= 2;
    }
    ssize_t n = recv(fd, buf + got, cap - got, 0);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  if (!buf)
    return -1;
  buf[got] = '\0';
  char *end = strstr(buf, "\r\n\r\n");
  if (strncmp(buf, "HTTP/1.", 7) != 0 || !end) {
    free(buf);
    return -1;
  }
  a->status = atoi(buf + 9);
  size_t head_len = (size_t)(end - buf);
  snprintf(a->head, sizeof a->head, "%.*s", (int)head_len, buf);
  a->body_len = got - head_len - 4;
  a->body = malloc(a->body_len + 1);
  if (a->body) {
    memcpy(a->body, end + 4, a->body_len);
    a->body[a->body_len] = '\0';
  }
  free(buf);
  return 0;
}

/* GET `path` with an optional Authorization header value; the status, or
 * 0 when there was no answer. */
static __attribute__((unused)) int http_get(int port, const char *path, const char *auth,
                                            http_answer_t *a) {
  char req[8192];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s\r\n", path,
                   auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
  if (http_raw(port, req, (size_t)n, 30000, a))
    return 0;
  return a->status;
}

/* The value of header `name` in the answer (case-insensitive name), into
 * out; 0 when present. */
static __attribute__((unused)) int http_header(const http_answer_t *a, const char *name, char *out,
                                               size_t size) {
  size_t n = strlen(name);
  for (const char *line = strstr(a->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':') {
      const char *v = line + 3 + n;
      while (*v == ' ')
        v++;
      size_t len = strcspn(v, "\r");
      snprintf(out, size, "%.*s", (int)len, v);
      return 0;
    }
  }
  return -1;
}

#endif
