#include "http/out.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void weir_out_free(weir_out_t *o) {
  free(o->data);
  *o = (weir_out_t){0};
}

static int reserve(weir_out_t *o, size_t more) {
  if (o->failed)
    return -1;
  if (o->len + more + 1 <= o->cap)
    return 0;
  size_t cap = o->cap ? o->cap : 256;
  while (cap < o->len + more + 1)
    cap *= 2;
  char *grown = realloc(o->data, cap);
  if (!grown) {
    o->failed = 1;
    return -1;
  }
  o->data = grown;
  o->cap = cap;
  return 0;
}

void weir_out_bytes(weir_out_t *o, const void *data, size_t len) {
  if (reserve(o, len))
    return;
  memcpy(o->data + o->len, data, len);
  o->len += len;
  o->data[o->len] = '\0';
}

void weir_out_str(weir_out_t *o, const char *s) {
  weir_out_bytes(o, s, strlen(s));
}

void weir_out_printf(weir_out_t *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || reserve(o, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(o->data + o->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  o->len += (size_t)n;
}

void weir_out_json_string(weir_out_t *o, const void *s, size_t len) {
  const unsigned char *p = s;
  weir_out_bytes(o, "\"", 1);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\')
      weir_out_printf(o, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      weir_out_printf(o, "\\u%04x", c);
    else
      weir_out_bytes(o, &c, 1);
  }
  weir_out_bytes(o, "\"", 1);
}

void weir_out_url_encode(weir_out_t *o, const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; *c; c++)
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
        strchr("-._~", *c))
      weir_out_bytes(o, c, 1);
    else
      weir_out_printf(o, "%%%02X", *c);
}

void weir_out_hex(weir_out_t *o, const void *data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  const unsigned char *p = data;
  if (reserve(o, len * 2))
    return;
  for (size_t i = 0; i < len; i++) {
    o->data[o->len++] = digits[p[i] >> 4];
    o->data[o->len++] = digits[p[i] & 15];
  }
  o->data[o->len] = '\0';
}

static int printable(const unsigned char *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (p[i] < 0x20 || p[i] >= 0x7f)
      return 0;
  return 1;
}

static void hex_object(weir_out_t *o, const void *data, size_t len) {
  weir_out_str(o, "{\"hex\":\"");
  weir_out_hex(o, data, len);
  weir_out_str(o, "\"}");
}

void weir_out_json_value(weir_out_t *o, weir_serde_t serde, const void *data, size_t len) {
  char why[128];
  if (!data) {
    weir_out_str(o, "null");
    return;
  }
  switch (serde) {
  case WEIR_SERDE_INT64:
    if (len == 8)
      weir_out_printf(o, "%lld", (long long)weir_int64_decode(data));
    else
      hex_object(o, data, len);
    return;
  case WEIR_SERDE_STRING:
    if (weir_serde_check(serde, data, len, why, sizeof why) == 0)
      weir_out_json_string(o, data, len);
    else
      hex_object(o, data, len);
    return;
  case WEIR_SERDE_JSON:
    if (weir_serde_check(serde, data, len, why, sizeof why) == 0)
      weir_out_bytes(o, data, len);
    else
      hex_object(o, data, len);
    return;
  default:
    if (printable(data, len))
      weir_out_json_string(o, data, len);
    else
      hex_object(o, data, len);
  }
}

static int nibble(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

long weir_hex_decode(const char *hex, unsigned char *out, size_t out_size) {
  size_t n = strlen(hex);
  if (n % 2 || n / 2 > out_size)
    return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return (long)(n / 2);
}
