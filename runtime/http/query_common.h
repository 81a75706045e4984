/* query_common — the steps every store query shares (query.h for key-value
 * stores, window_query.h for window and session stores). Each function that
 * can fail fills `r` with the error answer and returns -1 (or NULL). */
#ifndef WEIR_HTTP_QUERY_COMMON_H
#define WEIR_HTTP_QUERY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "http/server.h"

enum { WEIR_QUERY_KEY_MAX = 4096, WEIR_QUERY_RETRY_S = 1 };

/* The store named by `len` bytes of `name`, used by an operator (404
 * otherwise). */
const weir_store_decl_t *weir_query_find_store(const weir_http_env_t *env, const char *name,
                                               size_t len, weir_http_resp_t *r);
/* The bytes a key is stored as, from its text by the store's key serde:
 * int64 a decimal number, anything else the text itself (400 when not).
 * `out` holds WEIR_QUERY_KEY_MAX bytes; `what` names the argument. */
int weir_query_parse_key(const weir_store_decl_t *d, const char *text, unsigned char *out,
                         size_t *len, const char *what, weir_http_resp_t *r);
/* The key's partition, as the default partitioner gives it (503 while the
 * partition count is unknown). */
int weir_query_partition(const weir_http_env_t *env, const weir_store_decl_t *d, const void *key,
                         size_t len, int32_t *p, weir_http_resp_t *r);
/* 0 with the slot's generation when this process runs partition p (503
 * with Retry-After when it restores it or does not own it). */
int weir_query_runs_here(const weir_http_env_t *env, const weir_store_decl_t *d, int32_t p,
                         unsigned *gen, weir_http_resp_t *r);
/* 0 when p's owner and state did not change since `gen` (503 otherwise):
 * asked after a read, so no answer comes from a store that moved. */
int weir_query_still_here(const weir_http_env_t *env, const weir_store_decl_t *d, int32_t p,
                          unsigned gen, weir_http_resp_t *r);
/* {"store":NAME,"served_by":ADVERTISE — the rest of the object follows. */
void weir_query_answer_head(const weir_http_env_t *env, const weir_store_decl_t *d,
                            weir_http_resp_t *r);
/* Partition p is not here: when the group says which instance has it, ask
 * that one for /v1/stores/NAME/keys/TEXT plus `tail` (URL-encoded; NULL:
 * none), once (a forwarded query is not forwarded again). `r` keeps its 503
 * otherwise. */
void weir_query_forward(const weir_http_env_t *env, const weir_http_req_t *req,
                        const weir_store_decl_t *d, int32_t p, const char *text, const char *tail,
                        weir_http_resp_t *r);

/* Read every partition of d this process has (a restoring one included:
 * `read` answers it with a 503) by read(p, arg), listing them in `here` and
 * the others in `elsewhere` ("0,3,4"). 0 when at least one was read; -1
 * when a read failed (it set `r`) or none is here (`r`: a 503). */
typedef int (*weir_query_read_fn)(int32_t p, void *arg);
int weir_query_each_partition(const weir_http_env_t *env, const weir_store_decl_t *d,
                              weir_query_read_fn read, void *arg, char *here, size_t here_size,
                              char *elsewhere, size_t elsewhere_size, weir_http_resp_t *r);

#endif
