/* secret — which configuration keys hold secrets, so no path that prints a
 * value (describe, logs, errors) ever shows one. */
#ifndef WEIR_UTIL_SECRET_H
#define WEIR_UTIL_SECRET_H

#include <stddef.h>

#define WEIR_SECRET_MASK "***"

/* 1 when `key` (a [weir], [kafka] or operator key, e.g. "sasl.password")
 * names a secret: a password, a client secret, a token, a private key. */
int weir_secret_key(const char *key);

/* `value`, or WEIR_SECRET_MASK when `key` names a secret. */
const char *weir_secret_show(const char *key, const char *value);

/* Replaces every occurrence of `value` in `buf` (a message from a library
 * that quotes what it rejected) with WEIR_SECRET_MASK, in place. */
void weir_secret_scrub(char *buf, size_t size, const char *value);

#endif
