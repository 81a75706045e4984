/* The canonicalizer walks text weir_json_find already checked, so it trusts
 * its syntax; what it builds goes into one buffer per thread (a
 * pthread key, freed when the thread ends). */
#include "serde/json_key.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

typedef struct buf {
  char *p;
  size_t len, cap;
  int oom;
} buf_t;

static void put(buf_t *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
      cap *= 2;
    char *grown = realloc(b->p, cap);
    if (!grown) {
      b->oom = 1;
      return;
    }
    b->p = grown;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

static void put_char(buf_t *b, char c) {
  put(b, &c, 1);
}

static void put_zeros(buf_t *b, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    put_char(b, '0');
}

/* ------------------------------------------------------------ numbers */

/* The exponent's value, saturated at +-10^15. */
#define EXPONENT_MAX 1000000000000000LL

static int64_t exponent_of(const char *p, const char *end) {
  int neg = p < end && *p == '-';
  if (p < end && (*p == '-' || *p == '+'))
    p++;
  int64_t e = 0;
  for (; p < end && e < EXPONENT_MAX; p++)
    e = e * 10 + (*p - '0');
  if (e > EXPONENT_MAX)
    e = EXPONENT_MAX;
  return neg ? -e : e;
}

static void put_int(buf_t *b, int64_t n) {
  char tmp[24];
  int i = (int)sizeof tmp;
  uint64_t u = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
  do
    tmp[--i] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  put(b, tmp + i, sizeof tmp - (size_t)i);
}

/* Digits s[0..n) (no leading or trailing zero) times 10^e, laid out as
 * ECMAScript's Number::toString does with k = n + e. */
static void put_decimal(buf_t *b, const char *s, int64_t n, int64_t e) {
  int64_t k = n + e;
  if (e >= 0 && k <= 21) {
    put(b, s, (size_t)n);
    put_zeros(b, e);
  } else if (k > 0 && k <= 21) {
    put(b, s, (size_t)k);
    put_char(b, '.');
    put(b, s + k, (size_t)(n - k));
  } else if (k <= 0 && k > -6) {
    put(b, "0.", 2);
    put_zeros(b, -k);
    put(b, s, (size_t)n);
  } else {
    put_char(b, s[0]);
    if (n > 1) {
      put_char(b, '.');
      put(b, s + 1, (size_t)(n - 1));
    }
    put(b, k - 1 < 0 ? "e-" : "e+", 2);
    put_int(b, k - 1 < 0 ? -(k - 1) : k - 1);
  }
}

static void put_number(buf_t *b, const char *p, const char *end) {
  int neg = *p == '-';
  p += neg;
  /* The significand's digits, the point skipped: at most the text's length. */
  char *s = malloc((size_t)(end - p) + 1);
  int64_t n = 0, frac = 0, e = 0;
  if (!s) {
    b->oom = 1;
    return;
  }
  for (int in_frac = 0; p < end && *p != 'e' && *p != 'E'; p++) {
    if (*p == '.') {
      in_frac = 1;
      continue;
    }
    frac += in_frac;
    if (n || *p != '0') /* leading zeros dropped */
      s[n++] = *p;
  }
  if (p < end)
    e = exponent_of(p + 1, end);
  e -= frac;
  while (n && s[n - 1] == '0')
    n--, e++;
  if (!n) {
    put_char(b, '0');
  } else {
    if (neg)
      put_char(b, '-');
    put_decimal(b, s, n, e);
  }
  free(s);
}

/* ------------------------------------------------------------ strings */

/* The content [p, end) of a checked string, decoded; quoted and escaped
 * canonically when `quoted`. */
static void put_string(buf_t *b, const char *p, const char *end, int quoted) {
  static const char hex[] = "0123456789abcdef";
  if (quoted)
    put_char(b, '"');
  while (p < end) {
    char c[4];
    size_t n = weir_jx_char(&p, end, c);
    unsigned char u = (unsigned char)c[0];
    if (!quoted || n > 1 || (u >= 0x20 && u != '"' && u != '\\')) {
      put(b, c, n);
      continue;
    }
    const char *esc = u == '"'    ? "\\\""
                      : u == '\\' ? "\\\\"
                      : u == '\b' ? "\\b"
                      : u == '\f' ? "\\f"
                      : u == '\n' ? "\\n"
                      : u == '\r' ? "\\r"
                      : u == '\t' ? "\\t"
                                  : NULL;
    if (esc) {
      put(b, esc, 2);
    } else {
      char uxxxx[6] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15]};
      put(b, uxxxx, 6);
    }
  }
  if (quoted)
    put_char(b, '"');
}

/* ------------------------------------------------------------ containers */

static const char *put_value(buf_t *b, const char *p, const char *end);

typedef struct member {
  char *text;
  size_t len;
} member_t;

static int member_cmp(const void *x, const void *y) {
  const member_t *a = x, *c = y;
  int d = memcmp(a->text, c->text, a->len < c->len ? a->len : c->len);
  return d ? d : (a->len > c->len) - (a->len < c->len);
}

/* One "name":value of the object at p, serialized on its own. */
static const char *member(const char *p, const char *end, member_t *m) {
  buf_t one = {0};
  const char *q = weir_jx_string(p, end);
  put_string(&one, p + 1, q - 1, 1);
  put_char(&one, ':');
  p = weir_jx_ws(q, end);
  p = put_value(&one, weir_jx_ws(p + 1, end), end);
  m->text = one.p;
  m->len = one.len;
  return one.oom ? NULL : p;
}

static void put_members(buf_t *b, member_t *m, size_t n) {
  if (n) /* m is NULL for {} */
    qsort(m, n, sizeof *m, member_cmp);
  put_char(b, '{');
  for (size_t i = 0; i < n; i++) {
    if (i)
      put_char(b, ',');
    put(b, m[i].text, m[i].len);
  }
  put_char(b, '}');
}

/* p after the '{': the position after the '}'. */
static const char *put_object(buf_t *b, const char *p, const char *end) {
  member_t *m = NULL;
  size_t n = 0, cap = 0;
  p = weir_jx_ws(p, end);
  while (p && *p != '}') {
    if (n == cap) {
      member_t *grown = realloc(m, (cap = cap ? cap * 2 : 8) * sizeof *m);
      if (!grown)
        break;
      m = grown;
    }
    p = member(p, end, &m[n]);
    n++;
    p = p ? weir_jx_ws(p, end) : NULL;
    if (p && *p == ',')
      p = weir_jx_ws(p + 1, end);
  }
  if (p && *p == '}')
    put_members(b, m, n);
  else
    b->oom = 1;
  for (size_t i = 0; i < n; i++)
    free(m[i].text);
  free(m);
  return p && *p == '}' ? p + 1 : NULL;
}

/* p after the '[': the position after the ']'. */
static const char *put_array(buf_t *b, const char *p, const char *end) {
  put_char(b, '[');
  p = weir_jx_ws(p, end);
  for (int first = 1; p && *p != ']'; first = 0) {
    if (!first)
      put_char(b, ',');
    p = put_value(b, p, end);
    p = p ? weir_jx_ws(p, end) : NULL;
    if (p && *p == ',')
      p = weir_jx_ws(p + 1, end);
  }
  put_char(b, ']');
  return p ? p + 1 : NULL;
}

/* The value at p (checked text), inside a container: the position after it. */
static const char *put_value(buf_t *b, const char *p, const char *end) {
  weir_json_kind_t kind;
  if (*p == '{')
    return put_object(b, p + 1, end);
  if (*p == '[')
    return put_array(b, p + 1, end);
  const char *q = weir_jx_scalar(p, end, &kind);
  if (kind == WEIR_JSON_STRING)
    put_string(b, p + 1, q - 1, 1);
  else if (kind == WEIR_JSON_NUMBER)
    put_number(b, p, q);
  else
    put(b, p, (size_t)(q - p));
  return q;
}

/* ------------------------------------------------------------ the key */

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void buf_free(void *p) {
  buf_t *b = p;
  free(b->p);
  free(b);
}

static void tls_init(void) {
  pthread_key_create(&tls_key, buf_free);
}

static buf_t *thread_buf(void) {
  pthread_once(&tls_once, tls_init);
  buf_t *b = pthread_getspecific(tls_key);
  if (!b && (b = calloc(1, sizeof *b)) && pthread_setspecific(tls_key, b)) {
    free(b);
    b = NULL;
  }
  return b;
}

int weir_json_key(const weir_json_value_t *v, const void **key, size_t *len) {
  buf_t *b = thread_buf();
  if (b) {
    b->len = 0;
    b->oom = 0;
    const char *end = v->text + v->len;
    if (v->kind == WEIR_JSON_STRING)
      put_string(b, v->text, end, 0);
    else if (v->kind == WEIR_JSON_NUMBER)
      put_number(b, v->text, end);
    else if (v->kind == WEIR_JSON_OBJECT || v->kind == WEIR_JSON_ARRAY)
      put_value(b, v->text, end);
    else
      put(b, v->text, v->len);
  }
  if (b && !b->oom) {
    *key = b->p ? b->p : "";
    *len = b->len;
    return 0;
  }
  WEIR_WARN("group.by = json: out of memory making a canonical key: keying by the text as "
            "written (equal values written differently may reach different tasks)");
  *key = v->text;
  *len = v->len;
  return -1;
}
