/* addr — the host:port of http.listen and http.advertise. */
#ifndef WEIR_HTTP_ADDR_H
#define WEIR_HTTP_ADDR_H

#include <netinet/in.h>
#include <stddef.h>

/* 0 when `text` is host:port (host a name, an IPv4 address or [IPv6];
 * port 0-65535, 0 = any free one), else -1 with the reason in why. */
int weir_http_addr_check(const char *text, char *why, size_t why_size);
/* 1 when the host is a loopback address or "localhost". */
int weir_http_addr_loopback(const char *text);
/* Resolve `text` to an address to bind. 0, or -1 with why. */
int weir_http_addr_resolve(const char *text, struct sockaddr_storage *out, char *why,
                           size_t why_size);

#endif
