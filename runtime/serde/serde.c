#include "serde/serde.h"
#include "util/diag.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Deeper JSON than this is rejected: the validator recurses once per level,
 * and no real record nests this far. */
#define JSON_MAX_DEPTH 512

static const char *const names[] = {"bytes", "string", "int64", "json"};

int weir_serde_parse(const char *name, weir_serde_t *out) {
  for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(name, names[i]) == 0) {
      *out = (weir_serde_t)i;
      return 0;
    }
  }
  return -1;
}

const char *weir_serde_name(weir_serde_t s) {
  if ((unsigned)s < sizeof names / sizeof names[0])
    return names[s];
  return "unknown";
}

const char *weir_serde_names(void) {
  return "bytes, string, int64, json";
}

/* ---------------------------------------------------------------- UTF-8 */

/*
 * Decodes one UTF-8 sequence at s[0..len). Returns its length (1-4), or 0
 * and sets *why for an invalid one. Overlong forms, UTF-16 surrogates and
 * code points above U+10FFFF are invalid (RFC 3629).
 */
static size_t utf8_seq(const unsigned char *s, size_t len, const char **why) {
  unsigned c = s[0];
  size_t n;
  unsigned cp, min;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, cp = c & 0x07, min = 0x10000;
  else {
    *why = (c >= 0x80 && c <= 0xBF)   ? "unexpected continuation byte"
           : (c == 0xC0 || c == 0xC1) ? "overlong encoding"
                                      : "byte that never appears in UTF-8";
    return 0;
  }
  if (len < n) {
    *why = "truncated multi-byte sequence";
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) {
      *why = "truncated multi-byte sequence";
      return 0;
    }
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  if (cp < min)
    *why = "overlong encoding";
  else if (cp >= 0xD800 && cp <= 0xDFFF)
    *why = "UTF-16 surrogate";
  else if (cp > 0x10FFFF)
    *why = "code point above U+10FFFF";
  else
    return n;
  return 0;
}

static int check_utf8(const unsigned char *s, size_t len, char *errstr, size_t errstr_size) {
  const char *why = NULL;
  for (size_t i = 0; i < len;) {
    uint64_t word; /* eight ASCII bytes at a time: most text is */
    if (len - i >= 8 && (memcpy(&word, s + i, 8), (word & 0x8080808080808080ull) == 0)) {
      i += 8;
      continue;
    }
    size_t n = utf8_seq(s + i, len - i, &why);
    if (n == 0) {
      weir_errstr_set(errstr, errstr_size, "invalid UTF-8 at byte %zu: %s (0x%02x)", i, why, s[i]);
      return -1;
    }
    i += n;
  }
  return 0;
}

/* ---------------------------------------------------------------- JSON */

typedef struct json {
  const unsigned char *s;
  size_t len, pos;
  int depth;
  char *errstr;
  size_t errstr_size;
} json_t;

static int json_value(json_t *j);

static int json_fail(json_t *j, const char *what) {
  if (j->pos >= j->len)
    weir_errstr_set(j->errstr, j->errstr_size, "invalid JSON at byte %zu: %s, got the end of input",
                    j->pos, what);
  else if (j->s[j->pos] >= 0x20 && j->s[j->pos] < 0x7F)
    weir_errstr_set(j->errstr, j->errstr_size, "invalid JSON at byte %zu: %s, got '%c'", j->pos,
                    what, j->s[j->pos]);
  else
    weir_errstr_set(j->errstr, j->errstr_size, "invalid JSON at byte %zu: %s, got byte 0x%02x",
                    j->pos, what, j->s[j->pos]);
  return -1;
}

static int peek(const json_t *j) {
  return j->pos < j->len ? j->s[j->pos] : -1;
}

static void skip_ws(json_t *j) {
  for (int c = peek(j); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(j))
    j->pos++;
}

static bool is_digit(int c) {
  return c >= '0' && c <= '9';
}

static int digits(json_t *j, const char *what) {
  if (!is_digit(peek(j)))
    return json_fail(j, what);
  while (is_digit(peek(j)))
    j->pos++;
  return 0;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int json_number(json_t *j) {
  if (peek(j) == '-')
    j->pos++;
  if (peek(j) == '0') {
    j->pos++;
    if (is_digit(peek(j)))
      return json_fail(j, "a number may not have a leading zero, expected '.', 'e' or its end");
  } else if (digits(j, "expected a digit") < 0) {
    return -1;
  }
  if (peek(j) == '.') {
    j->pos++;
    if (digits(j, "expected a digit after '.'") < 0)
      return -1;
  }
  if (peek(j) == 'e' || peek(j) == 'E') {
    j->pos++;
    if (peek(j) == '+' || peek(j) == '-')
      j->pos++;
    if (digits(j, "expected a digit in the exponent") < 0)
      return -1;
  }
  return 0;
}

static int hex4(json_t *j, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int c = peek(j);
    unsigned d;
    if (is_digit(c))
      d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = (unsigned)(c - 'A' + 10);
    else
      return json_fail(j, "expected 4 hex digits after \\u");
    v = v * 16 + d;
    j->pos++;
  }
  *out = v;
  return 0;
}

/* \uXXXX, with the cursor after the 'u'. A surrogate must come as a high
 * and low pair: a lone one is not a character, so we reject it (I-JSON). */
static int json_unicode(json_t *j) {
  size_t start = j->pos - 2;
  unsigned cp, lo;
  if (hex4(j, &cp) < 0)
    return -1;
  if (cp >= 0xDC00 && cp <= 0xDFFF) {
    j->pos = start;
    return json_fail(j, "a \\u escape of a low surrogate must follow a high one");
  }
  if (cp < 0xD800 || cp > 0xDBFF)
    return 0;
  if (peek(j) != '\\' || j->pos + 1 >= j->len || j->s[j->pos + 1] != 'u')
    return json_fail(j, "expected a \\u escape of a low surrogate after a high one");
  j->pos += 2;
  if (hex4(j, &lo) < 0)
    return -1;
  if (lo < 0xDC00 || lo > 0xDFFF) {
    j->pos -= 6;
    return json_fail(j, "expected a \\u escape of a low surrogate after a high one");
  }
  return 0;
}

static int json_escape(json_t *j) {
  int c = peek(j);
  if (c > 0 && strchr("\"\\/bfnrtu", c)) {
    j->pos++;
    return c == 'u' ? json_unicode(j) : 0;
  }
  return json_fail(j, "expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
}

static int json_string(json_t *j) {
  const char *why = NULL;
  j->pos++; /* the opening quote */
  for (;;) {
    int c = peek(j);
    if (c == '"') {
      j->pos++;
      return 0;
    }
    if (c < 0)
      return json_fail(j, "unterminated string, expected '\"'");
    if (c < 0x20)
      return json_fail(j, "control character in a string, expected it escaped");
    if (c == '\\') {
      j->pos++;
      if (json_escape(j) < 0)
        return -1;
      continue;
    }
    size_t n = utf8_seq(j->s + j->pos, j->len - j->pos, &why);
    if (n == 0) {
      weir_errstr_set(j->errstr, j->errstr_size,
                      "invalid JSON at byte %zu: invalid UTF-8 in a string: %s", j->pos, why);
      return -1;
    }
    j->pos += n;
  }
}

static int json_literal(json_t *j, const char *word) {
  size_t n = strlen(word);
  if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0)
    return json_fail(j, "expected a value (object, array, string, number, true, false, null)");
  j->pos += n;
  return 0;
}

static int json_enter(json_t *j) {
  if (++j->depth > JSON_MAX_DEPTH) {
    weir_errstr_set(j->errstr, j->errstr_size,
                    "invalid JSON at byte %zu: nested deeper than %d levels", j->pos,
                    JSON_MAX_DEPTH);
    return -1;
  }
  j->pos++; /* the opening bracket */
  skip_ws(j);
  return 0;
}

static int json_array(json_t *j) {
  if (json_enter(j) < 0)
    return -1;
  if (peek(j) == ']')
    goto done;
  for (;;) {
    if (json_value(j) < 0)
      return -1;
    skip_ws(j);
    if (peek(j) == ']')
      break;
    if (peek(j) != ',')
      return json_fail(j, "expected ',' or ']' in an array");
    j->pos++;
  }
done:
  j->pos++;
  j->depth--;
  return 0;
}

static int json_member(json_t *j) {
  skip_ws(j);
  if (peek(j) != '"')
    return json_fail(j, "expected a string as an object key");
  if (json_string(j) < 0)
    return -1;
  skip_ws(j);
  if (peek(j) != ':')
    return json_fail(j, "expected ':' after an object key");
  j->pos++;
  return json_value(j);
}

static int json_object(json_t *j) {
  if (json_enter(j) < 0)
    return -1;
  if (peek(j) == '}')
    goto done;
  for (;;) {
    if (json_member(j) < 0)
      return -1;
    skip_ws(j);
    if (peek(j) == '}')
      break;
    if (peek(j) != ',')
      return json_fail(j, "expected ',' or '}' in an object");
    j->pos++;
  }
done:
  j->pos++;
  j->depth--;
  return 0;
}

static int json_value(json_t *j) {
  skip_ws(j);
  switch (peek(j)) {
  case '{': return json_object(j);
  case '[': return json_array(j);
  case '"': return json_string(j);
  case 't': return json_literal(j, "true");
  case 'f': return json_literal(j, "false");
  case 'n': return json_literal(j, "null");
  default: break;
  }
  if (peek(j) == '-' || is_digit(peek(j)))
    return json_number(j);
  return json_fail(j, "expected a value (object, array, string, number, true, false, null)");
}

static int check_json(const unsigned char *s, size_t len, char *errstr, size_t errstr_size) {
  json_t j = {s, len, 0, 0, errstr, errstr_size};
  skip_ws(&j);
  if (j.pos == len) {
    weir_errstr_set(errstr, errstr_size, "invalid JSON at byte %zu: empty input, expected a value",
                    j.pos);
    return -1;
  }
  if (json_value(&j) < 0)
    return -1;
  skip_ws(&j);
  if (j.pos != len)
    return json_fail(&j, "expected the end after one complete value");
  return 0;
}

/* ---------------------------------------------------------------- check */

int weir_serde_check(weir_serde_t s, const void *data, size_t len, char *errstr,
                     size_t errstr_size) {
  if (!data)
    return 0;
  switch (s) {
  case WEIR_SERDE_BYTES: return 0;
  case WEIR_SERDE_STRING: return check_utf8(data, len, errstr, errstr_size);
  case WEIR_SERDE_JSON: return check_json(data, len, errstr, errstr_size);
  case WEIR_SERDE_INT64:
    if (len == 8)
      return 0;
    weir_errstr_set(errstr, errstr_size, "int64 needs 8 bytes, got %zu", len);
    return -1;
  }
  weir_errstr_set(errstr, errstr_size, "unknown serde %d: use one of %s", (int)s,
                  weir_serde_names());
  return -1;
}

void weir_int64_encode(int64_t v, unsigned char out[8]) {
  uint64_t u = (uint64_t)v;
  for (int i = 7; i >= 0; i--) {
    out[i] = (unsigned char)(u & 0xFF);
    u >>= 8;
  }
}

int64_t weir_int64_decode(const unsigned char in[8]) {
  uint64_t u = 0;
  for (int i = 0; i < 8; i++)
    u = (u << 8) | in[i];
  /* Two's complement without relying on an implementation-defined cast. */
  if (u > (uint64_t)INT64_MAX)
    return -(int64_t)(~u) - 1;
  return (int64_t)u;
}

/* ---------------------------------------------------------------- print */

static void print_escaped(const unsigned char *s, size_t len, FILE *out) {
  const char *why;
  for (size_t i = 0; i < len;) {
    size_t n = utf8_seq(s + i, len - i, &why);
    unsigned c = s[i];
    if (n == 0 || c < 0x20 || c == 0x7F) {
      if (c == '\n')
        fputs("\\n", out);
      else if (c == '\t')
        fputs("\\t", out);
      else if (c == '\r')
        fputs("\\r", out);
      else
        fprintf(out, "\\x%02x", c);
      i++;
      continue;
    }
    fwrite(s + i, 1, n, out);
    i += n;
  }
}

/* Text that prints as itself: valid UTF-8 without control characters. */
static bool printable(const unsigned char *s, size_t len) {
  const char *why;
  for (size_t i = 0; i < len;) {
    size_t n = utf8_seq(s + i, len - i, &why);
    if (n == 0 || s[i] < 0x20 || s[i] == 0x7F)
      return false;
    i += n;
  }
  return true;
}

static void print_hex(const unsigned char *s, size_t len, FILE *out) {
  fputs("0x", out);
  for (size_t i = 0; i < len; i++)
    fprintf(out, "%02x", s[i]);
}

void weir_serde_print(weir_serde_t s, const void *data, size_t len, FILE *out) {
  const unsigned char *b = data;
  if (!data) {
    fputs("null", out);
    return;
  }
  if (s == WEIR_SERDE_INT64 && len == 8)
    fprintf(out, "%lld", (long long)weir_int64_decode(b));
  else if (s == WEIR_SERDE_STRING || s == WEIR_SERDE_JSON || printable(b, len))
    print_escaped(b, len, out);
  else
    print_hex(b, len, out);
}
