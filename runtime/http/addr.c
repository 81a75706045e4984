#include "http/addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Split host:port ([v6]:port too) into host and port. 0 or -1. */
static int split(const char *text, char *host, size_t host_size, long *port) {
  const char *colon = strrchr(text, ':');
  if (!colon || colon == text)
    return -1;
  const char *h = text;
  size_t n = (size_t)(colon - text);
  if (*h == '[') {
    if (n < 2 || h[n - 1] != ']')
      return -1;
    h++;
    n -= 2;
  }
  if (n == 0 || n >= host_size)
    return -1;
  memcpy(host, h, n);
  host[n] = '\0';
  char *end;
  *port = strtol(colon + 1, &end, 10);
  return *end || end == colon + 1 || *port < 0 || *port > 65535 ? -1 : 0;
}

int weir_http_addr_check(const char *text, char *why, size_t why_size) {
  char host[256];
  long port;
  if (split(text, host, sizeof host, &port) == 0)
    return 0;
  snprintf(why, why_size,
           "expected host:port (e.g. 127.0.0.1:8080, [::1]:8080), port 0-65535, 0 = any free port");
  return -1;
}

int weir_http_addr_loopback(const char *text) {
  char host[256];
  long port;
  struct in_addr a4;
  struct in6_addr a6;
  if (split(text, host, sizeof host, &port))
    return 0;
  if (strcmp(host, "localhost") == 0)
    return 1;
  if (inet_pton(AF_INET, host, &a4) == 1)
    return (ntohl(a4.s_addr) >> 24) == 127;
  return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int weir_http_addr_resolve(const char *text, struct sockaddr_storage *out, char *why,
                           size_t why_size) {
  char host[256], service[8];
  long port;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
  if (split(text, host, sizeof host, &port)) {
    snprintf(why, why_size, "expected host:port");
    return -1;
  }
  snprintf(service, sizeof service, "%ld", port);
  int rc = getaddrinfo(host, service, &hints, &res);
  if (rc || !res) {
    snprintf(why, why_size, "cannot resolve '%s': %s", host, gai_strerror(rc));
    return -1;
  }
  memset(out, 0, sizeof *out);
  memcpy(out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return 0;
}
