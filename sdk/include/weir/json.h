/*
 * json.h — find one field of a JSON text without parsing all of it.
 *
 * Header-only (static inline), allocation-free and bounded: the text is
 * (json, len), need not be NUL-terminated, and nothing at or past json + len
 * is ever read. Usable by plugins (it needs only libc) and by the host.
 *
 *   weir_json_value_t v;
 *   if (weir_json_find(rec->value, rec->value_len, "order.total", &v) == 1 &&
 *       weir_json_double(&v, &total) == 0) ...
 *
 * A path is a dotted list of object member names, "a.b.c": "a" in the root
 * object, "b" in the object that is a's value, and so on. A member whose name
 * contains a '.' cannot be named; arrays cannot be indexed (a path that meets
 * an array, or any non-object, is not found). NULL or "" names the root
 * value. Member names are compared after decoding their escapes, so "a\u0062"
 * in the text matches "ab" in the path. When an object repeats a name, the
 * first member wins.
 *
 * Checking: the search checks the syntax of all the text it passes over
 * (every member before the one wanted, nested values included, and the value
 * found) and of the character after the value found, and stops there: text
 * after the answer is known is not checked, so {"a":1, garbage} finds "a". A
 * malformed text met on the way is -1. Nesting deeper than
 * WEIR_JSON_MAX_DEPTH counts as malformed. UTF-8 is not validated (bytes
 * >= 0x80 are taken as they are) and neither are lone \u surrogates.
 */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

#include <errno.h>
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The deepest nesting of objects and arrays a value may have. The skipper
 * keeps one byte per level on the stack. */
#ifndef WEIR_JSON_MAX_DEPTH
#define WEIR_JSON_MAX_DEPTH 256
#endif

typedef enum weir_json_kind {
  WEIR_JSON_NONE = 0, /* not found */
  WEIR_JSON_STRING,
  WEIR_JSON_NUMBER,
  WEIR_JSON_TRUE,
  WEIR_JSON_FALSE,
  WEIR_JSON_NULL,
  WEIR_JSON_OBJECT,
  WEIR_JSON_ARRAY
} weir_json_kind_t;

/*
 * A value found in a JSON text. `text` points into that text (borrowed: valid
 * as long as it is) and `len` counts its bytes: the whole value as written
 * ("-1.5e3", "true", "{...}", "[...]"), except that for a string it is the
 * content between the quotes, escapes left as they are.
 */
typedef struct weir_json_value {
  weir_json_kind_t kind;
  const char *text;
  size_t len;
} weir_json_value_t;

/* ---------------------------------------------------------------- internals
 * weir_jx_* are the scanner's steps; each takes the position p and the end of
 * the text, and returns the position after what it consumed or NULL when the
 * text is malformed there. */

static inline const char *weir_jx_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

static inline int weir_jx_hex(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* p at a backslash inside a string: the position after the escape. */
static inline const char *weir_jx_escape(const char *p, const char *end) {
  if (end - p < 2)
    return NULL;
  switch (p[1]) {
  case '"':
  case '\\':
  case '/':
  case 'b':
  case 'f':
  case 'n':
  case 'r':
  case 't': return p + 2;
  case 'u':
    if (end - p < 6)
      return NULL;
    for (int i = 2; i < 6; i++)
      if (weir_jx_hex(p[i]) < 0)
        return NULL;
    return p + 6;
  default: return NULL;
  }
}

/* p at the opening quote: the position after the closing quote. */
static inline const char *weir_jx_string(const char *p, const char *end) {
  for (p++; p < end;) {
    unsigned char c = (unsigned char)*p;
    if (c == '"')
      return p + 1;
    if (c < 0x20) /* raw control characters must be escaped */
      return NULL;
    if (c == '\\') {
      p = weir_jx_escape(p, end);
      if (!p)
        return NULL;
    } else {
      p++;
    }
  }
  return NULL;
}

/* One or more digits. */
static inline const char *weir_jx_digits(const char *p, const char *end) {
  const char *start = p;
  while (p < end && *p >= '0' && *p <= '9')
    p++;
  return p == start ? NULL : p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — a leading zero ends the
 * integer part, so "01" scans as "0" and the caller then rejects the "1". */
static inline const char *weir_jx_number(const char *p, const char *end) {
  if (p < end && *p == '-')
    p++;
  if (p < end && *p == '0')
    p++;
  else if (!(p = weir_jx_digits(p, end)))
    return NULL;
  if (p < end && *p == '.' && !(p = weir_jx_digits(p + 1, end)))
    return NULL;
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    p = weir_jx_digits(p, end);
  }
  return p;
}

static inline const char *weir_jx_literal(const char *p, const char *end, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
    return NULL;
  return p + n;
}

/* A string, number or literal at p (p < end); *kind gets its kind. */
static inline const char *weir_jx_scalar(const char *p, const char *end, weir_json_kind_t *kind) {
  switch (*p) {
  case '"': *kind = WEIR_JSON_STRING; return weir_jx_string(p, end);
  case 't': *kind = WEIR_JSON_TRUE; return weir_jx_literal(p, end, "true");
  case 'f': *kind = WEIR_JSON_FALSE; return weir_jx_literal(p, end, "false");
  case 'n': *kind = WEIR_JSON_NULL; return weir_jx_literal(p, end, "null");
  default: *kind = WEIR_JSON_NUMBER; return weir_jx_number(p, end);
  }
}

/* A member's name and its colon: the position of its value (whitespace
 * skipped). *name and *name_end get the name's content, between the quotes. */
static inline const char *weir_jx_member(const char *p, const char *end, const char **name,
                                         const char **name_end) {
  const char *q;
  if (p >= end || *p != '"' || !(q = weir_jx_string(p, end)))
    return NULL;
  *name = p + 1;
  *name_end = q - 1;
  q = weir_jx_ws(q, end);
  if (q >= end || *q != ':')
    return NULL;
  return weir_jx_ws(q + 1, end);
}

static inline char weir_jx_closer(char opener) {
  return opener == '{' ? '}' : ']';
}

/* After a value inside the containers on `stack`: close the containers that
 * end here, then take the ',' (and the next member's name in an object) that
 * starts the next value. *depth == 0 on return: the outermost value ended. */
static inline const char *weir_jx_after(const char *p, const char *end, const char *stack,
                                        size_t *depth) {
  const char *name, *name_end;
  while (*depth > 0) {
    p = weir_jx_ws(p, end);
    if (p >= end)
      return NULL;
    if (*p == weir_jx_closer(stack[*depth - 1])) {
      --*depth;
      p++;
      continue;
    }
    if (*p != ',')
      return NULL;
    p = weir_jx_ws(p + 1, end);
    if (stack[*depth - 1] == '{')
      return weir_jx_member(p, end, &name, &name_end);
    return p;
  }
  return p;
}

/* p at a value (whitespace skipped): the position after it, every nested
 * value checked. Iterative with a bounded stack, so a hostile text cannot
 * exhaust the C stack. *kind gets the value's kind. */
static inline const char *weir_jx_skip(const char *p, const char *end, weir_json_kind_t *kind) {
  char stack[WEIR_JSON_MAX_DEPTH];
  size_t depth = 0;
  const char *name, *name_end;
  weir_json_kind_t k;
  if (p >= end)
    return NULL;
  *kind = *p == '{' ? WEIR_JSON_OBJECT : *p == '[' ? WEIR_JSON_ARRAY : WEIR_JSON_NONE;
  for (;;) {
    p = weir_jx_ws(p, end);
    if (p >= end)
      return NULL;
    if (*p == '{' || *p == '[') {
      if (depth == WEIR_JSON_MAX_DEPTH)
        return NULL;
      stack[depth++] = *p;
      p = weir_jx_ws(p + 1, end);
      if (p < end && *p == weir_jx_closer(stack[depth - 1])) {
        depth--; /* empty: {} or [] */
        p++;
      } else {
        if (stack[depth - 1] == '{' && !(p = weir_jx_member(p, end, &name, &name_end)))
          return NULL;
        continue; /* the first element's value */
      }
    } else if (!(p = weir_jx_scalar(p, end, &k))) {
      return NULL;
    } else if (*kind == WEIR_JSON_NONE) {
      *kind = k;
    }
    if (!(p = weir_jx_after(p, end, stack, &depth)))
      return NULL;
    if (depth == 0)
      return p;
  }
}

/* Decode the character at *pp of a checked string's content into out (UTF-8,
 * 1..4 bytes); advance *pp. */
static inline size_t weir_jx_char(const char **pp, const char *end, char out[4]) {
  const char *p = *pp;
  uint32_t cp;
  if (*p != '\\') {
    out[0] = *p;
    *pp = p + 1;
    return 1;
  }
  *pp = p + 2;
  switch (p[1]) {
  case 'b': out[0] = '\b'; return 1;
  case 'f': out[0] = '\f'; return 1;
  case 'n': out[0] = '\n'; return 1;
  case 'r': out[0] = '\r'; return 1;
  case 't': out[0] = '\t'; return 1;
  case 'u': break;
  default: out[0] = p[1]; return 1; /* " \ / */
  }
  cp = (uint32_t)(weir_jx_hex(p[2]) << 12 | weir_jx_hex(p[3]) << 8 | weir_jx_hex(p[4]) << 4 |
                  weir_jx_hex(p[5]));
  *pp = p + 6;
  /* A high surrogate followed by an escaped low one is one code point. */
  if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
      weir_jx_escape(p + 6, end)) {
    uint32_t lo = (uint32_t)(weir_jx_hex(p[8]) << 12 | weir_jx_hex(p[9]) << 8 |
                             weir_jx_hex(p[10]) << 4 | weir_jx_hex(p[11]));
    if (lo >= 0xDC00 && lo < 0xE000) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      *pp = p + 12;
    }
  }
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | cp >> 18);
  out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Whether a checked string's content [s, end) decodes to seg[0, seg_len). */
static inline int weir_jx_name_eq(const char *s, const char *end, const char *seg, size_t seg_len) {
  size_t i = 0;
  char c[4];
  while (s < end) {
    size_t n = weir_jx_char(&s, end, c);
    if (seg_len - i < n || memcmp(seg + i, c, n) != 0)
      return 0;
    i += n;
  }
  return i == seg_len;
}

/* p at a value: when it is an object with a member named seg, *value gets the
 * position of that member's value and 1 is returned; 0 when it has none (or
 * is no object); -1 when malformed. */
static inline int weir_jx_lookup(const char *p, const char *end, const char *seg, size_t seg_len,
                                 const char **value) {
  const char *name, *name_end;
  weir_json_kind_t k;
  if (p >= end)
    return -1;
  if (*p != '{')
    return weir_jx_skip(p, end, &k) ? 0 : -1;
  p = weir_jx_ws(p + 1, end);
  if (p < end && *p == '}')
    return 0;
  for (;;) {
    if (!(p = weir_jx_member(p, end, &name, &name_end)))
      return -1;
    if (weir_jx_name_eq(name, name_end, seg, seg_len)) {
      *value = p;
      return 1;
    }
    if (!(p = weir_jx_skip(p, end, &k)))
      return -1;
    p = weir_jx_ws(p, end);
    if (p < end && *p == '}')
      return 0;
    if (p >= end || *p != ',')
      return -1;
    p = weir_jx_ws(p + 1, end);
  }
}

/* p at the value found; in_object: it is a member's value (else the root).
 * Checks the value and what follows it, and fills *out. */
static inline int weir_jx_found(const char *p, const char *end, int in_object,
                                weir_json_value_t *out) {
  weir_json_kind_t kind;
  const char *next, *q = weir_jx_skip(p, end, &kind);
  if (!q)
    return -1;
  /* What follows must end the value: a separator in an object, or (for the
   * root) whitespace up to the end. */
  next = weir_jx_ws(q, end);
  if (in_object ? next >= end || (*next != ',' && *next != '}') : next != end)
    return -1;
  out->kind = kind;
  out->text = kind == WEIR_JSON_STRING ? p + 1 : p;
  out->len = (size_t)(q - p) - (kind == WEIR_JSON_STRING ? 2 : 0);
  return 1;
}

/* ---------------------------------------------------------------- API */

/*
 * Find the value at `path` (see the top of this file) in json[0, len).
 * Returns 1 and fills *out when found; 0 when not found (*out kind NONE);
 * -1 when the text is malformed where the search looked (*out kind NONE).
 */
static inline int weir_json_find(const char *json, size_t len, const char *path,
                                 weir_json_value_t *out) {
  const char *end, *p, *seg = path;
  out->kind = WEIR_JSON_NONE;
  out->text = NULL;
  out->len = 0;
  if (!json)
    return -1;
  end = json + len;
  p = weir_jx_ws(json, end);
  /* Each dot starts one more segment: "a.b." is "a", "b" and "". */
  if (!seg || !*seg)
    return weir_jx_found(p, end, 0, out);
  for (;;) {
    const char *dot = strchr(seg, '.');
    size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
    int rc = weir_jx_lookup(p, end, seg, n, &p);
    if (rc != 1)
      return rc;
    if (!dot)
      return weir_jx_found(p, end, 1, out);
    seg = dot + 1;
  }
}

/*
 * A NUMBER as a double: 0 and *out, or -1 when v is not a number, its text
 * is longer than 127 bytes, or its magnitude overflows a double. Values too
 * small for a double become 0 or a denormal (no error). Reads the number in
 * the C locale's format whatever LC_NUMERIC says; errno is left unchanged.
 */
static inline int weir_json_double(const weir_json_value_t *v, double *out) {
  char buf[128], *stop;
  const struct lconv *lc;
  int saved = errno;
  double d;
  if (!v || v->kind != WEIR_JSON_NUMBER || !v->text || v->len == 0 || v->len >= sizeof buf ||
      weir_jx_number(v->text, v->text + v->len) != v->text + v->len)
    return -1;
  memcpy(buf, v->text, v->len);
  buf[v->len] = '\0';
  lc = localeconv(); /* strtod follows LC_NUMERIC's decimal point */
  if (lc && lc->decimal_point && lc->decimal_point[0] != '.' && lc->decimal_point[0] &&
      !lc->decimal_point[1]) {
    char *dot = strchr(buf, '.');
    if (dot)
      *dot = lc->decimal_point[0];
  }
  errno = 0;
  d = strtod(buf, &stop);
  if (stop != buf + v->len || (errno == ERANGE && (d > 1.0 || d < -1.0))) {
    errno = saved;
    return -1;
  }
  errno = saved;
  *out = d;
  return 0;
}

/*
 * A NUMBER as an int64: 0 and *out, or -1 when v is not a number or not an
 * integer in [INT64_MIN, INT64_MAX]. Integer text ("-42") is converted
 * exactly; a number with a fraction or exponent ("42.0", "4.2e1") is
 * accepted when its double value is integral and in range.
 */
static inline int weir_json_int64(const weir_json_value_t *v, int64_t *out) {
  const char *p, *end;
  uint64_t acc = 0, limit;
  double d;
  if (!v || v->kind != WEIR_JSON_NUMBER || !v->text || v->len == 0)
    return -1;
  p = v->text;
  end = p + v->len;
  if (weir_jx_number(p, end) != end)
    return -1;
  limit = *p == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  p += *p == '-';
  for (; p < end && *p >= '0' && *p <= '9'; p++) {
    unsigned digit = (unsigned)(*p - '0');
    if (acc > (limit - digit) / 10)
      return -1;
    acc = acc * 10 + digit;
  }
  if (p == end) {
    *out = *v->text != '-'                  ? (int64_t)acc
           : acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN
                                            : -(int64_t)acc;
    return 0;
  }
  /* 2^63 is exact in a double: the range test below is exact too. */
  if (weir_json_double(v, &d) != 0 || !(d >= -9223372036854775808.0 && d < 9223372036854775808.0) ||
      d != (double)(int64_t)d)
    return -1;
  *out = (int64_t)d;
  return 0;
}

#ifdef __cplusplus
}
#endif
#endif /* WEIR_JSON_H */
