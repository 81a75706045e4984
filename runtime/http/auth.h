/* auth — the bearer token of http.token. */
#ifndef WEIR_HTTP_AUTH_H
#define WEIR_HTTP_AUTH_H

/* 1 when `authorization` (the header's value, may be NULL) is "Bearer
 * <token>" for `token`; always 1 when token is NULL (no token set). The
 * comparison takes the same time wherever the first difference is. */
int weir_http_authorized(const char *token, const char *authorization);

#endif
