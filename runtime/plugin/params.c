/* params — checks section values against declared parameter tables. */
#include "plugin/params.h"
#include "util/secret.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int has_bounds(const weir_param_def_t *def) {
  return def->min <= def->max;
}

static int fail(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *errstr, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (errstr && size)
    vsnprintf(errstr, size, fmt, ap);
  va_end(ap);
  return -1;
}

static long long clamp_int64(double v) {
  if (v >= 9223372036854775807.0)
    return INT64_MAX;
  if (v <= -9223372036854775808.0)
    return INT64_MIN;
  return (long long)v;
}

static void range_text(const weir_param_def_t *def, char *buf, size_t size) {
  if (!has_bounds(def))
    buf[0] = '\0';
  else if (def->type == WEIR_PARAM_INT)
    /* (double)INT64_MAX rounds up to 2^63: name the bound an int64 holds. */
    snprintf(buf, size, " in [%lld, %lld]", clamp_int64(def->min), clamp_int64(def->max));
  else
    snprintf(buf, size, " in [%g, %g]", def->min, def->max);
}

static int out_of_range(const weir_param_def_t *def, double v) {
  return has_bounds(def) && (v < def->min || v > def->max);
}

static int parse_int(const weir_param_def_t *def, const char *text, int64_t *out, char *errstr,
                     size_t size) {
  char range[96], *end;
  range_text(def, range, sizeof range);
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (!*text || *end || errno == ERANGE || out_of_range(def, (double)v))
    return fail(errstr, size, "expected an integer%s, got '%s'", range, text);
  *out = v;
  return 0;
}

static int parse_double(const weir_param_def_t *def, const char *text, double *out, char *errstr,
                        size_t size) {
  char range[96], *end;
  range_text(def, range, sizeof range);
  errno = 0;
  double v = strtod(text, &end);
  if (!*text || *end || errno == ERANGE || !isfinite(v) || out_of_range(def, v))
    return fail(errstr, size, "expected a number%s, got '%s'", range, text);
  *out = v;
  return 0;
}

static int parse_bool(const char *text, int64_t *out, char *errstr, size_t size) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
      *out = strcasecmp(text, yes[i]) == 0;
      return 0;
    }
  }
  return fail(errstr, size, "expected true/false, yes/no, on/off or 1/0, got '%s'", text);
}

static int enum_has(const char *choices, const char *text) {
  size_t n = strlen(text);
  for (const char *c = choices; c && *c;) {
    const char *bar = strchr(c, '|');
    size_t len = bar ? (size_t)(bar - c) : strlen(c);
    if (len == n && strncmp(c, text, n) == 0)
      return 1;
    c = bar ? bar + 1 : c + len;
  }
  return 0;
}

static int check_enum(const weir_param_def_t *def, const char *text, char *errstr, size_t size) {
  if (enum_has(def->choices, text))
    return 0;
  char list[512];
  size_t used = 0;
  for (const char *c = def->choices; c && *c && used + 3 < sizeof list; c++) {
    if (*c == '|') {
      list[used++] = ',';
      list[used++] = ' ';
    } else {
      list[used++] = *c;
    }
  }
  list[used] = '\0';
  return fail(errstr, size, "expected one of: %s; got '%s'", list, text);
}

static int check_regex(const char *text, char *errstr, size_t size) {
  regex_t re;
  int rc = regcomp(&re, text, REG_EXTENDED | REG_NOSUB);
  if (rc == 0) {
    regfree(&re);
    return 0;
  }
  char why[256];
  regerror(rc, &re, why, sizeof why);
  return fail(errstr, size, "expected a POSIX extended regular expression, got '%s': %s", text,
              why);
}

/* Checks `text` and fills the numeric views a weir_param_value_t keeps. */
static int parse_value(const weir_param_def_t *def, const char *text, int64_t *i, double *d,
                       char *errstr, size_t size) {
  switch (def->type) {
  case WEIR_PARAM_STRING: return 0;
  case WEIR_PARAM_INT:
    if (parse_int(def, text, i, errstr, size))
      return -1;
    *d = (double)*i;
    return 0;
  case WEIR_PARAM_DOUBLE: return parse_double(def, text, d, errstr, size);
  case WEIR_PARAM_BOOL: return parse_bool(text, i, errstr, size);
  case WEIR_PARAM_ENUM: return check_enum(def, text, errstr, size);
  case WEIR_PARAM_REGEX: return check_regex(text, errstr, size);
  }
  return fail(errstr, size, "parameter '%s' has an unknown type %d; fix the plugin",
              def->name ? def->name : "?", (int)def->type);
}

int weir_param_check(const weir_param_def_t *def, const char *text, char *errstr,
                     size_t errstr_size) {
  int64_t i = 0;
  double d = 0;
  if (!text)
    return fail(errstr, errstr_size, "no value given");
  return parse_value(def, text, &i, &d, errstr, errstr_size);
}

/* ---------------------------------------------------------------- binding */

typedef struct bind_ctx {
  const weir_cfg_t *cfg;
  const weir_cfg_section_t *section;
  const weir_param_def_t *defs;
  size_t def_count;
  const char *const *reserved;
  weir_params_t *out;
  weir_diag_t *d;
  int *seen_at;    /* per def: line of its first entry + 2 (0 = not seen; --set is -1) */
  char label[160]; /* "[operator:words]" */
  int errors;
} bind_ctx_t;

static void bind_error(bind_ctx_t *b, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bind_error(bind_ctx_t *b, int line, const char *fmt, ...) {
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  weir_diag_add(b->d, weir_cfg_where(b->cfg, line), line, "%s", msg);
  b->errors++;
}

static int is_reserved(const char *const *reserved, const char *key) {
  for (; reserved && *reserved; reserved++)
    if (strcmp(*reserved, key) == 0)
      return 1;
  return 0;
}

static void known_keys(const bind_ctx_t *b, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  const char *const *r = b->reserved;
  for (size_t i = 0; i < b->def_count || (r && *r); i++) {
    const char *name = i < b->def_count ? b->defs[i].name : *r++;
    int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
    if (n < 0 || (size_t)n >= size - used)
      return;
    used += (size_t)n;
  }
}

static void unknown_key(bind_ctx_t *b, const weir_cfg_entry_t *e) {
  char known[600];
  known_keys(b, known, sizeof known);
  bind_error(b, e->line, "unknown key '%s' in %s; known keys: %s", e->key, b->label,
             *known ? known : "(none)");
}

static int append_text(weir_param_value_t *v, const char *text) {
  size_t old = v->text ? strlen(v->text) : 0;
  char *joined = realloc(v->text, old + strlen(text) + 2);
  if (!joined)
    return -1;
  if (old)
    joined[old++] = '\n';
  strcpy(joined + old, text);
  v->text = joined;
  return 0;
}

static void bind_entry(bind_ctx_t *b, weir_param_value_t *v, const weir_cfg_entry_t *e) {
  const weir_param_def_t *def = v->def;
  int *seen_at = &b->seen_at[v - b->out->values];
  char why[512];
  if (*seen_at && !(def->flags & WEIR_PARAM_MULTI)) {
    weir_cfg_repeat_msg(e, *seen_at - 2, b->label, why, sizeof why);
    bind_error(b, e->line, "%s", why);
    return;
  }
  if (!*seen_at)
    *seen_at = e->line + 2;
  if ((def->flags & WEIR_PARAM_REQUIRED) && !*e->value) {
    bind_error(b, e->line, "'%s' in %s is required and empty; give it a value (%s)", e->key,
               b->label, def->doc ? def->doc : "required");
    return;
  }
  if (parse_value(def, e->value, &v->i, &v->d, why, sizeof why)) {
    if (weir_secret_key(e->key))
      weir_secret_scrub(why, sizeof why, e->value);
    bind_error(b, e->line, "bad value for '%s' in %s: %s", e->key, b->label, why);
    return;
  }
  if (!v->text)
    v->line = e->line;
  if (append_text(v, e->value))
    bind_error(b, e->line, "out of memory storing '%s'", e->key);
}

static weir_param_value_t *value_for(bind_ctx_t *b, const char *key) {
  for (size_t i = 0; i < b->def_count; i++)
    if (strcmp(b->defs[i].name, key) == 0)
      return &b->out->values[i];
  return NULL;
}

static void apply_default(bind_ctx_t *b, weir_param_value_t *v) {
  const weir_param_def_t *def = v->def;
  if (v->text || b->seen_at[v - b->out->values])
    return;
  if (def->flags & WEIR_PARAM_REQUIRED) {
    bind_error(b, b->section->line, "%s needs '%s' (%s); add '%s = ...'", b->label, def->name,
               def->doc ? def->doc : "required", def->name);
    return;
  }
  if (!def->default_value)
    return;
  /* A default the plugin got wrong reads as 0; the loader checks tables. */
  parse_value(def, def->default_value, &v->i, &v->d, NULL, 0);
  v->text = strdup(def->default_value);
  v->line = 0;
  if (!v->text)
    bind_error(b, b->section->line, "out of memory storing '%s'", def->name);
}

int weir_params_bind(const weir_param_def_t *defs, size_t def_count, const weir_cfg_t *cfg,
                     const weir_cfg_section_t *section, const char *const *reserved,
                     weir_params_t *out, weir_diag_t *d) {
  bind_ctx_t b = {cfg, section, defs, def_count, reserved, out, d, NULL, "", 0};
  snprintf(b.label, sizeof b.label, "[%s%s%s]", section->kind, section->name ? ":" : "",
           section->name ? section->name : "");
  out->count = 0;
  out->values = def_count ? calloc(def_count, sizeof *out->values) : NULL;
  b.seen_at = calloc(def_count + 1, sizeof *b.seen_at);
  if ((def_count && !out->values) || !b.seen_at) {
    free(b.seen_at);
    bind_error(&b, section->line, "out of memory binding %s", b.label);
    return -1;
  }
  out->count = def_count;
  for (size_t i = 0; i < def_count; i++)
    out->values[i].def = &defs[i];
  for (size_t i = 0; i < section->entry_count; i++) {
    const weir_cfg_entry_t *e = &section->entries[i];
    if (is_reserved(reserved, e->key))
      continue;
    weir_param_value_t *v = value_for(&b, e->key);
    if (v)
      bind_entry(&b, v, e);
    else
      unknown_key(&b, e);
  }
  for (size_t i = 0; i < def_count; i++)
    apply_default(&b, &out->values[i]);
  free(b.seen_at);
  return b.errors ? -1 : 0;
}

void weir_params_free(weir_params_t *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->count; i++)
    free(p->values[i].text);
  free(p->values);
  p->values = NULL;
  p->count = 0;
}

const weir_param_value_t *weir_params_find(const weir_params_t *p, const char *name) {
  for (size_t i = 0; i < p->count; i++)
    if (strcmp(p->values[i].def->name, name) == 0)
      return &p->values[i];
  return NULL;
}
