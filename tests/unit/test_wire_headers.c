/* kafka/wire_headers: a consumed value's record bytes tell "no headers" only
 * for a v2 record with a header count of 0; v0/v1 records, records with
 * headers and bytes that read as both formats are left to librdkafka. Each
 * record is built at the very end of its own allocation, so that a read past
 * it is an error under ASan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kafka/wire_headers.h"

/* A record in a buffer of its exact size; *value: where its value starts. */
typedef struct rec {
  unsigned char *buf;
  size_t len;
} rec_t;

static unsigned char *put_varint(unsigned char *p, uint64_t z) {
  for (;; z >>= 7) {
    *p++ = (unsigned char)((z & 0x7f) | (z > 0x7f ? 0x80 : 0));
    if (z <= 0x7f)
      return p;
  }
}

static int64_t zigzag(int64_t v) {
  return (int64_t)(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* A v2 record: length, attributes, timestamp and offset deltas, key (NULL
 * when key_len < 0), value, then `headers` headers of one byte each. */
static rec_t v2(const char *key, int key_len, size_t value_len, int headers,
                const unsigned char **value) {
  unsigned char *tmp = malloc(value_len + 64), *p = tmp + 5;
  *p++ = 0;             /* attributes */
  p = put_varint(p, 0); /* timestamp delta */
  p = put_varint(p, 0); /* offset delta */
  p = put_varint(p, (uint64_t)zigzag(key_len));
  if (key_len > 0) {
    memcpy(p, key, (size_t)key_len);
    p += key_len;
  }
  p = put_varint(p, (uint64_t)zigzag((int64_t)value_len));
  size_t at = (size_t)(p - tmp);
  memset(p, 'v', value_len);
  p += value_len;
  p = put_varint(p, (uint64_t)zigzag(headers));
  for (int h = 0; h < headers; h++) {
    p = put_varint(p, (uint64_t)zigzag(1));
    *p++ = 'h';
    p = put_varint(p, (uint64_t)zigzag(1));
    *p++ = 'x';
  }
  size_t body = (size_t)(p - tmp) - 5;
  /* The length goes first: the body moves up to just after it. */
  size_t lead = (size_t)(put_varint(tmp, (uint64_t)zigzag((int64_t)body)) - tmp);
  memmove(tmp + lead, tmp + 5, body);
  at = at - 5 + lead;
  rec_t r = {malloc(lead + body), lead + body};
  memcpy(r.buf, tmp, r.len);
  free(tmp);
  *value = r.buf + at;
  return r;
}

/* A v1 message (offset, size, crc, magic, attributes, timestamp, key, value)
 * ending its buffer: nothing follows the value. */
static rec_t v1(const char *key, int key_len, size_t value_len, const unsigned char **value) {
  size_t len = 8 + 4 + 4 + 1 + 1 + 8 + 4 + (key_len > 0 ? (size_t)key_len : 0) + 4 + value_len;
  rec_t r = {calloc(1, len), len};
  unsigned char *p = r.buf + 8 + 4 + 4;
  *p++ = 1; /* magic */
  p += 1 + 8;
  uint32_t k = (uint32_t)key_len;
  for (int b = 3; b >= 0; b--)
    *p++ = (unsigned char)(k >> (8 * b));
  if (key_len > 0) {
    memcpy(p, key, (size_t)key_len);
    p += key_len;
  }
  for (int b = 3; b >= 0; b--)
    *p++ = (unsigned char)(value_len >> (8 * b));
  *value = p;
  memset(p, 0, value_len);
  return r;
}

static void test_v2_without_headers(void **state) {
  static const size_t sizes[] = {0, 1, 2, 63, 64, 100, 300, 8191, 8192, 70000};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    const unsigned char *value;
    rec_t r = v2(NULL, -1, sizes[i], 0, &value);
    assert_int_equal(weir_wire_no_headers(value, sizes[i]), 1);
    free(r.buf);
    r = v2("key", 3, sizes[i], 0, &value);
    assert_int_equal(weir_wire_no_headers(value, sizes[i]), 1);
    free(r.buf);
  }
}

static void test_v2_with_headers(void **state) {
  static const size_t sizes[] = {0, 2, 64, 300};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    for (int h = 1; h <= 2; h++) {
      const unsigned char *value;
      rec_t r = v2("k", 1, sizes[i], h, &value);
      assert_int_equal(weir_wire_no_headers(value, sizes[i]), 0);
      free(r.buf);
    }
}

/* A v1 value ends its buffer and is followed by no header count: never read
 * past it (ASan), never "no headers" from the bytes. */
static void test_v1_is_left_to_librdkafka(void **state) {
  static const size_t sizes[] = {0, 1, 5, 64, 300};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    const unsigned char *value;
    rec_t r = v1(NULL, -1, sizes[i], &value);
    assert_int_equal(weir_wire_no_headers(value, sizes[i]), 0);
    free(r.buf);
    r = v1("key", 3, sizes[i], &value);
    assert_int_equal(weir_wire_no_headers(value, sizes[i]), 0);
    free(r.buf);
  }
}

/* A v2 empty value after a key ending in three zero bytes: the bytes before
 * it read as the varint 0 and as the int32 0 alike, so it is not told. */
static void test_ambiguous_bytes_are_left_to_librdkafka(void **state) {
  const unsigned char *value;
  rec_t r = v2("a\0\0\0", 4, 0, 0, &value);
  assert_int_equal(weir_wire_no_headers(value, 0), 0);
  free(r.buf);
}

static void test_message_without_value(void **state) {
  rd_kafka_message_t m = {0};
  assert_int_equal(weir_message_no_headers(&m), 0);
  const unsigned char *value;
  rec_t r = v2("k", 1, 10, 0, &value);
  m.payload = (void *)value;
  m.len = 10;
  assert_int_equal(weir_message_no_headers(&m), 1);
  free(r.buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v2_without_headers),
      cmocka_unit_test(test_v2_with_headers),
      cmocka_unit_test(test_v1_is_left_to_librdkafka),
      cmocka_unit_test(test_ambiguous_bytes_are_left_to_librdkafka),
      cmocka_unit_test(test_message_without_value),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
