/* serde — the built-in formats of keys and values.
 *
 * Records travel through weir as bytes. A serde says what those bytes must
 * be: checked when a record is read from a source (deserialization) and when
 * one is written to a sink (serialization), and used to print them.
 */
#ifndef WEIR_SERDE_SERDE_H
#define WEIR_SERDE_SERDE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum weir_serde {
  WEIR_SERDE_BYTES = 0,  /* anything */
  WEIR_SERDE_STRING = 1, /* UTF-8 text */
  WEIR_SERDE_INT64 = 2,  /* 8 bytes, big-endian two's complement (Kafka's LongSerializer) */
  WEIR_SERDE_JSON = 3    /* one JSON value (RFC 8259), UTF-8 */
} weir_serde_t;

/* "bytes|string|int64|json" -> serde; -1 when unknown. */
int weir_serde_parse(const char *name, weir_serde_t *out);
const char *weir_serde_name(weir_serde_t s);
/* The list for error messages: "bytes, string, int64, json". */
const char *weir_serde_names(void);

/* Check `len` bytes at `data` against the serde. NULL data (no key, or a
 * tombstone value) always passes. 0, or -1 with the reason in errstr
 * ("int64 needs 8 bytes, got 5", "invalid JSON at byte 17: ..."). */
int weir_serde_check(weir_serde_t s, const void *data, size_t len, char *errstr,
                     size_t errstr_size);

/* int64 <-> 8 big-endian bytes. */
void weir_int64_encode(int64_t v, unsigned char out[8]);
int64_t weir_int64_decode(const unsigned char in[8]);

/* Print the bytes readably: int64 as a decimal number, string/json as text
 * (control characters escaped), bytes as text when printable else hex;
 * NULL as "null". */
void weir_serde_print(weir_serde_t s, const void *data, size_t len, FILE *out);

#endif
