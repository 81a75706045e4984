/* branch — routes each record to the named children whose regex matches its
 * key or value:
 *
 *   [operator:route]
 *   plugin = std
 *   type   = branch
 *   route  = errors: ^ERROR
 *   route  = warnings: ^WARN
 *   default = rest
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "std_ops.h"
#include "std_util.h"

static const weir_param_def_t branch_params[] = {
    WEIR_PARAM_("route", WEIR_PARAM_STRING, WEIR_PARAM_REQUIRED | WEIR_PARAM_MULTI, NULL, 1, 0,
                NULL,
                "'CHILD: REGEX' (repeat for more routes); CHILD gets the records REGEX matches"),
    WEIR_PARAM_ENUM("field", "value", "key|value", "Which part of the record the routes match"),
    WEIR_PARAM_ENUM("mode", "first", "first|all",
                    "first: only the first matching route; all: every matching route"),
    WEIR_PARAM_STR("default", NULL, "Child for records no route matches (else they are dropped)"),
    WEIR_PARAM_END,
};

typedef struct branch_route {
  const char *child; /* points into branch_t.text */
  size_t child_index;
  regex_t re;
} branch_route_t;

typedef struct branch {
  char *text; /* our copy of the `route` value, cut into names and regexes */
  branch_route_t *routes;
  size_t route_count;
  unsigned char *sent; /* per child: already got this record (mode=all) */
  size_t child_count;
  const char *default_child; /* host-owned, NULL = drop */
  int on_key;
  int all;
  std_buf_t scratch;
} branch_t;

static void branch_free(branch_t *b) {
  for (size_t i = 0; i < b->route_count; i++)
    regfree(&b->routes[i].re);
  free(b->routes);
  free(b->sent);
  free(b->text);
  std_buf_free(&b->scratch);
  free(b);
}

static char *branch_trim(char *s, char *end) {
  while (s < end && isspace((unsigned char)*s))
    s++;
  while (end > s && isspace((unsigned char)end[-1]))
    end--;
  *end = '\0';
  return s;
}

/* Writes "a, b, c" (or "none") into out. */
static void branch_children_list(weir_ctx_t *ctx, char *out, size_t size) {
  size_t n = weir_child_count(ctx), used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && used < size; i++) {
    int w = snprintf(out + used, size - used, "%s%s", i ? ", " : "", weir_child_name(ctx, i));
    used += w > 0 ? (size_t)w : 0;
  }
  if (n == 0)
    snprintf(out, size, "none");
}

/* Index of the child named `name`, or an errstr naming the children. */
static int branch_find_child(weir_ctx_t *ctx, const char *param, const char *name, size_t *index,
                             char *errstr, size_t errstr_size) {
  size_t n = weir_child_count(ctx);
  for (size_t i = 0; i < n; i++) {
    const char *c = weir_child_name(ctx, i);
    if (c && strcmp(c, name) == 0) {
      *index = i;
      return WEIR_OK;
    }
  }
  char list[512];
  branch_children_list(ctx, list, sizeof list);
  const char *node = weir_node_name(ctx);
  snprintf(errstr, errstr_size, "%s: '%s' is not a child of '%s' (its children: %s)", param, name,
           node ? node : "?", list);
  return WEIR_ENOENT;
}

/* Parse one "CHILD: REGEX" line (NUL-terminated, inside b->text). */
static int branch_add_route(weir_ctx_t *ctx, branch_t *b, char *line, char *errstr,
                            size_t errstr_size) {
  char *colon = strchr(line, ':');
  if (!colon) {
    snprintf(errstr, errstr_size, "route: '%s': expected 'CHILD: REGEX'", line);
    return WEIR_EINVAL;
  }
  char *child = branch_trim(line, colon);
  char *pattern = branch_trim(colon + 1, colon + 1 + strlen(colon + 1));
  if (!*child || !*pattern) {
    snprintf(errstr, errstr_size, "route: '%s: %s': expected 'CHILD: REGEX'", child, pattern);
    return WEIR_EINVAL;
  }
  branch_route_t *r = &b->routes[b->route_count];
  int rc = branch_find_child(ctx, "route", child, &r->child_index, errstr, errstr_size);
  if (rc == WEIR_OK)
    rc = std_regex_compile(&r->re, pattern, REG_NOSUB, "route", errstr, errstr_size);
  if (rc != WEIR_OK)
    return rc;
  r->child = child;
  b->route_count++;
  return WEIR_OK;
}

static int branch_parse_routes(weir_ctx_t *ctx, branch_t *b, const char *spec, char *errstr,
                               size_t errstr_size) {
  size_t lines = 1;
  for (const char *p = spec; *p; p++)
    lines += *p == '\n';
  b->text = strdup(spec);
  b->routes = calloc(lines, sizeof *b->routes);
  if (!b->text || !b->routes) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  char *save = NULL;
  for (char *line = strtok_r(b->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    line = branch_trim(line, line + strlen(line));
    if (!*line)
      continue;
    int rc = branch_add_route(ctx, b, line, errstr, errstr_size);
    if (rc != WEIR_OK)
      return rc;
  }
  if (b->route_count == 0) {
    snprintf(errstr, errstr_size, "route: at least one 'CHILD: REGEX' is required");
    return WEIR_EINVAL;
  }
  return WEIR_OK;
}

static int branch_configure(weir_ctx_t *ctx, branch_t *b, char *errstr, size_t errstr_size) {
  const char *spec = weir_param_str(ctx, "route");
  if (!spec) {
    snprintf(errstr, errstr_size, "route: at least one 'CHILD: REGEX' is required");
    return WEIR_EINVAL;
  }
  int rc = branch_parse_routes(ctx, b, spec, errstr, errstr_size);
  if (rc != WEIR_OK)
    return rc;
  const char *def = weir_param_str(ctx, "default");
  size_t ignored;
  if (def && *def) {
    rc = branch_find_child(ctx, "default", def, &ignored, errstr, errstr_size);
    if (rc != WEIR_OK)
      return rc;
    b->default_child = def;
  }
  const char *mode = weir_param_str(ctx, "mode");
  b->all = mode && strcmp(mode, "all") == 0;
  b->on_key = std_param_is_key(ctx, "field");
  b->child_count = weir_child_count(ctx);
  b->sent = calloc(b->child_count ? b->child_count : 1, 1);
  if (!b->sent) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  return WEIR_OK;
}

static int branch_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  branch_t *b = calloc(1, sizeof *b);
  if (!b) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  int rc = branch_configure(ctx, b, errstr, errstr_size);
  if (rc != WEIR_OK) {
    branch_free(b);
    return rc;
  }
  *self = b;
  return WEIR_OK;
}

/* Sends to every matching route (each child at most once per record), or
 * the first only; *matched tells whether any route matched. */
static int branch_route(weir_ctx_t *ctx, branch_t *b, const weir_record_t *rec, const char *subject,
                        size_t len, int *matched) {
  if (b->all)
    memset(b->sent, 0, b->child_count);
  for (size_t i = 0; i < b->route_count; i++) {
    branch_route_t *r = &b->routes[i];
    int m = std_regex_find(&r->re, subject, 0, len, 0, NULL);
    if (m < 0)
      return m;
    if (!m || (b->all && b->sent[r->child_index]))
      continue;
    *matched = 1;
    int rc = weir_forward_to(ctx, r->child, rec);
    if (rc != WEIR_OK || !b->all)
      return rc;
    b->sent[r->child_index] = 1;
  }
  return WEIR_OK;
}

static int branch_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  branch_t *b = self;
  size_t len;
  const void *bytes = std_field(rec, b->on_key, &len);
  int matched = 0, rc = WEIR_OK;
  if (bytes) { /* an absent field matches no route */
    const char *subject = std_regex_subject(&b->scratch, bytes, len);
    if (!subject)
      return WEIR_ENOMEM;
    rc = branch_route(ctx, b, rec, subject, len, &matched);
  }
  if (rc != WEIR_OK || matched)
    return rc;
  if (b->default_child)
    return weir_forward_to(ctx, b->default_child, rec);
  weir_metric_add(ctx, "dropped", 1);
  return WEIR_OK;
}

static void branch_close(weir_ctx_t *ctx, void *self) {
  branch_free(self);
}

const weir_operator_def_t std_branch_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .flags = WEIR_OP_ROUTES_BY_NAME,
    .type = "branch",
    .doc = "Route each record to the named children whose regex matches its key or value",
    .params = branch_params,
    .init = branch_init,
    .process = branch_process,
    .close = branch_close,
};
