/* join_value — the std join's output value (see join_value.h). */
#include "join_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weir/json.h>

/* One member of a JSON object: its name's content (between the quotes,
 * escapes as written) and its value's text. */
struct std_jv_member {
  const char *name, *name_end;
  const char *value, *value_end;
  int side; /* 0 left, 1 right */
  int overridden;
};

void std_join_value_init(weir_ctx_t *ctx, std_join_value_t *jv) {
  static const char *const modes[] = {"merge", "nest", "left", "right", "sides"};
  const char *mode = weir_param_str(ctx, "value");
  jv->mode = STD_JV_MERGE;
  for (int i = 0; mode && i < 5; i++)
    if (strcmp(mode, modes[i]) == 0)
      jv->mode = (enum std_join_value_mode)i;
  jv->names[0] = weir_param_str(ctx, "nest.left");
  jv->names[1] = weir_param_str(ctx, "nest.right");
}

void std_join_value_free(std_join_value_t *jv) {
  std_buf_free(&jv->out);
  free(jv->members);
  jv->members = NULL;
  jv->member_cap = 0;
}

/* ---------------------------------------------------------------- output */

typedef struct out {
  std_buf_t *buf;
  size_t len;
  int rc;
} out_t;

static void put(out_t *o, const void *data, size_t len) {
  if (o->rc != WEIR_OK || std_buf_reserve(o->buf, o->len + len) != WEIR_OK) {
    o->rc = WEIR_ENOMEM;
    return;
  }
  if (len)
    memcpy(o->buf->data + o->len, data, len);
  o->len += len;
}

static void puts_(out_t *o, const char *s) {
  put(o, s, strlen(s));
}

/* `data` as a JSON string: quotes, and escapes for '"', '\\' and control
 * bytes. Runs of bytes that need none go in one copy: a byte at a time was
 * 12% of a stream-table join's CPU with plain-text values. */
/* Whether any of the 8 bytes in w is a control byte, '"' or '\\'
 * (the classic "has a byte below n" and "has a zero byte" word tricks). */
static int needs_escape8(uint64_t w) {
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
  return (below_space | ((quote - ones) & ~quote & highs) |
          ((backslash - ones) & ~backslash & highs)) != 0;
}

static void put_string(out_t *o, const char *data, size_t len) {
  put(o, "\"", 1);
  size_t run = 0; /* start of the bytes not written yet */
  for (size_t i = 0; i < len; i++) {
    uint64_t w;
    while (len - i >= 8 && (memcpy(&w, data + i, 8), !needs_escape8(w)))
      i += 8;
    if (i == len)
      break;
    unsigned char c = (unsigned char)data[i];
    if (c != '"' && c != '\\' && c >= 0x20)
      continue;
    char esc[8];
    put(o, data + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      esc[0] = '\\', esc[1] = (char)c;
      put(o, esc, 2);
    } else {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      put(o, esc, 6);
    }
  }
  put(o, data + run, len - run);
  put(o, "\"", 1);
}

/* Whether [p, p + len) is exactly one JSON value (whitespace around it). */
static int is_json(const char *p, size_t len) {
  const char *end = p + len;
  weir_json_kind_t kind;
  p = weir_jx_ws(p, end);
  if (p >= end || !(p = weir_jx_skip(p, end, &kind)))
    return 0;
  return weir_jx_ws(p, end) == end;
}

/* A side as a JSON value: null when absent, the value when it is JSON text,
 * else the bytes as a JSON string (a plain text value stays readable). */
static void put_side(out_t *o, std_side_t s) {
  if (!s.data)
    puts_(o, "null");
  else if (is_json(s.data, s.len))
    put(o, s.data, s.len);
  else
    put_string(o, s.data, s.len);
}

/* ---------------------------------------------------------------- merge */

static int room(std_join_value_t *jv, size_t n) {
  if (n < jv->member_cap)
    return WEIR_OK;
  size_t cap = jv->member_cap ? 2 * jv->member_cap : 16;
  std_jv_member_t *m = realloc(jv->members, cap * sizeof *m);
  if (!m)
    return WEIR_ENOMEM;
  jv->members = m;
  jv->member_cap = cap;
  return WEIR_OK;
}

/* Append the members of the JSON object `s` to jv->members from *n on.
 * WEIR_OK, WEIR_EINVAL when s is no object, WEIR_ENOMEM. */
static int scan_object(std_join_value_t *jv, std_side_t s, int side, size_t *n) {
  const char *p = s.data, *end = p + s.len;
  weir_json_kind_t kind;
  p = weir_jx_ws(p, end);
  if (p >= end || *p != '{')
    return WEIR_EINVAL;
  p = weir_jx_ws(p + 1, end);
  if (p < end && *p == '}')
    return weir_jx_ws(p + 1, end) == end ? WEIR_OK : WEIR_EINVAL;
  for (;;) {
    if (room(jv, *n) != WEIR_OK)
      return WEIR_ENOMEM;
    std_jv_member_t *m = &jv->members[*n];
    if (!(p = weir_jx_member(p, end, &m->name, &m->name_end)))
      return WEIR_EINVAL;
    m->value = p;
    if (!(p = weir_jx_skip(p, end, &kind)))
      return WEIR_EINVAL;
    m->value_end = p;
    m->side = side;
    m->overridden = 0;
    ++*n;
    p = weir_jx_ws(p, end);
    if (p < end && *p == ',') {
      p = weir_jx_ws(p + 1, end);
      continue;
    }
    return p < end && *p == '}' && weir_jx_ws(p + 1, end) == end ? WEIR_OK : WEIR_EINVAL;
  }
}

/* Names compare by their decoded characters ("a\u0062" is "ab"). */
static int names_equal(const std_jv_member_t *a, const std_jv_member_t *b) {
  const char *x = a->name, *y = b->name;
  size_t xl = (size_t)(a->name_end - x), yl = (size_t)(b->name_end - y);
  if (xl == yl && memcmp(x, y, xl) == 0)
    return 1;
  char cx[4], cy[4];
  while (x < a->name_end && y < b->name_end) {
    size_t nx = weir_jx_char(&x, a->name_end, cx), ny = weir_jx_char(&y, b->name_end, cy);
    if (nx != ny || memcmp(cx, cy, nx) != 0)
      return 0;
  }
  return x == a->name_end && y == b->name_end;
}

static void put_member(out_t *o, const std_jv_member_t *name, const std_jv_member_t *value,
                       int *first) {
  if (!*first)
    put(o, ",", 1);
  *first = 0;
  put(o, "\"", 1);
  put(o, name->name, (size_t)(name->name_end - name->name));
  put(o, "\":", 2);
  put(o, value->value, (size_t)(value->value_end - value->value));
}

/* The left object's members in order, a name the right object also has
 * taking the right's value, then the right's other members in order. */
static int merge(weir_ctx_t *ctx, std_join_value_t *jv, out_t *o, std_side_t l, std_side_t r) {
  size_t n = 0, nl;
  int rc = l.data ? scan_object(jv, l, 0, &n) : WEIR_OK;
  nl = n;
  if (rc == WEIR_OK && r.data)
    rc = scan_object(jv, r, 1, &n);
  if (rc == WEIR_EINVAL) {
    weir_metric_add(ctx, "failed.not.object", 1);
    weir_log(ctx, WEIR_LOG_WARN,
             "value = merge needs JSON objects on both sides and got another value; use "
             "value = nest to join any values");
  }
  if (rc != WEIR_OK)
    return rc;
  int first = 1;
  put(o, "{", 1);
  for (size_t i = 0; i < nl; i++) {
    const std_jv_member_t *v = &jv->members[i];
    for (size_t k = nl; k < n; k++)
      if (!jv->members[k].overridden && names_equal(&jv->members[i], &jv->members[k])) {
        jv->members[k].overridden = 1;
        v = &jv->members[k];
        break;
      }
    put_member(o, &jv->members[i], v, &first);
  }
  for (size_t k = nl; k < n; k++)
    if (!jv->members[k].overridden)
      put_member(o, &jv->members[k], &jv->members[k], &first);
  put(o, "}", 1);
  return WEIR_OK;
}

int std_join_value_render(weir_ctx_t *ctx, std_join_value_t *jv, std_side_t left, std_side_t right,
                          const void **out, size_t *out_len) {
  out_t o = {&jv->out, 0, WEIR_OK};
  int rc = WEIR_OK;
  switch (jv->mode) {
  case STD_JV_MERGE: rc = merge(ctx, jv, &o, left, right); break;
  case STD_JV_NEST:
    put(&o, "{", 1);
    put_string(&o, jv->names[0], strlen(jv->names[0]));
    put(&o, ":", 1);
    put_side(&o, left);
    put(&o, ",", 1);
    put_string(&o, jv->names[1], strlen(jv->names[1]));
    put(&o, ":", 1);
    put_side(&o, right);
    put(&o, "}", 1);
    break;
  case STD_JV_LEFT:
  case STD_JV_RIGHT: {
    std_side_t s = jv->mode == STD_JV_LEFT ? left : right;
    if (s.data)
      put(&o, s.data, s.len);
    else
      puts_(&o, "null");
    break;
  }
  case STD_JV_SIDES: break; /* the sides go in headers (join_emit): the value is empty */
  }
  if (rc == WEIR_OK)
    rc = o.rc;
  *out = o.len ? jv->out.data : "";
  *out_len = o.len;
  return rc;
}
