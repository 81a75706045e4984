/* wire_headers — see wire_headers.h. Why the bytes can be read: librdkafka
 * hands over a consumed value as a pointer into the batch it fetched (or
 * decompressed), never a copy, so the value sits in its record:
 *
 *   v2 (Kafka 0.11+): ... keyLength varint, key, valueLength varint, value,
 *                     headerCount varint, headers
 *   v0/v1:            ... keyLength int32, key, valueLength int32, value
 *
 * with at least 4 bytes of the record before the value's length in both. A
 * v2 value is preceded by its length as a zigzag varint and followed by the
 * header count; a v0/v1 value by its length as a big-endian int32 and by
 * whatever comes next (the next record, or the end of the buffer), which must
 * not be read. So the byte after the value is read only when the bytes before
 * it are the varint and are not the int32: a v0/v1 record always shows the
 * int32, and a v2 record that happens to show both is left to librdkafka. */
#include "kafka/wire_headers.h"

#include <stdint.h>
#include <string.h>

int weir_wire_no_headers(const void *value, size_t len) {
  const unsigned char *v = value;
  if (!v || len > INT32_MAX)
    return 0;
  unsigned char varint[5];
  size_t n = 0;
  for (uint64_t z = (uint64_t)len << 1;; z >>= 7) { /* zigzag of a length >= 0: 2 * len */
    varint[n++] = (unsigned char)((z & 0x7f) | (z > 0x7f ? 0x80 : 0));
    if (z <= 0x7f)
      break;
  }
  if (memcmp(v - n, varint, n) != 0)
    return 0;
  unsigned char int32[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                            (unsigned char)(len >> 8), (unsigned char)len};
  if (memcmp(v - 4, int32, 4) == 0)
    return 0;
  return v[len] == 0;
}

/* That a value lies in its record is how librdkafka 2.0 works, not what its
 * API promises: the bytes are read only under the minor version it was
 * checked on (Debian 12's 2.0.2); any other asks librdkafka every time. */
static int layout_known(void) {
  return (rd_kafka_version() >> 16) == 0x0200; /* a constant: cheaper than caching it */
}

int weir_message_no_headers(const rd_kafka_message_t *msg) {
  return msg->payload && layout_known() && weir_wire_no_headers(msg->payload, msg->len);
}
