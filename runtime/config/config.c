/* config — reads the INI text with inih, keeping the line of every key.
 *
 * inih (as packaged) neither passes line numbers to the handler nor reports
 * section headers without keys, so the text is fed to ini_parse_stream one
 * line at a time by our own reader: the reader counts lines, opens sections
 * itself, and notices lines inih rejected (no handler call followed them),
 * so every syntax error is reported, not just the first.
 */
#include "config/config.h"

#include "util/secret.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

typedef struct parse_ctx {
  weir_cfg_t *cfg;
  weir_diag_t *d;
  const char *pos;  /* the next unread character of the text */
  int line;         /* the line last handed to inih */
  long cur;         /* index of the current section; -1 before the first */
  int expect_entry; /* the last line must produce a handler call */
  int got_entry;
  int continuation; /* the last line continues the previous key's value */
  int has_prev;     /* a key was read since the last header (inih's prev_name) */
} parse_ctx_t;

const char *weir_cfg_where(const weir_cfg_t *cfg, int line) {
  return line > 0 ? cfg->path : line == WEIR_CFG_LINE_ENV ? "environment" : "--set";
}

void weir_cfg_repeat_msg(const weir_cfg_entry_t *again, int first_line, const char *section_label,
                         char *buf, size_t size) {
  if (again->continued)
    snprintf(buf, size,
             "this indented line continues '%s' from line %d, which %s takes once; "
             "unindent it if it is a key of its own",
             again->key, first_line, section_label);
  else
    snprintf(buf, size, "'%s' is set twice in %s (first at line %d); remove one", again->key,
             section_label, first_line);
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

static int grow(void **items, size_t *cap, size_t count, size_t size) {
  if (count < *cap)
    return 0;
  size_t ncap = *cap ? *cap * 2 : 8;
  void *p = realloc(*items, ncap * size);
  if (!p)
    return -1;
  *items = p;
  *cap = ncap;
  return 0;
}

static weir_cfg_section_t *add_section(weir_cfg_t *cfg, const char *kind, const char *name,
                                       int line) {
  if (grow((void **)&cfg->sections, &cfg->section_cap, cfg->section_count, sizeof *cfg->sections))
    return NULL;
  weir_cfg_section_t *s = &cfg->sections[cfg->section_count];
  memset(s, 0, sizeof *s);
  s->kind = strdup(kind);
  s->name = name ? strdup(name) : NULL;
  s->line = line;
  if (!s->kind || (name && !s->name)) {
    free(s->kind);
    free(s->name);
    return NULL;
  }
  cfg->section_count++;
  return s;
}

static int add_entry(weir_cfg_section_t *s, const char *key, const char *value, int line,
                     int continued) {
  if (grow((void **)&s->entries, &s->entry_cap, s->entry_count, sizeof *s->entries))
    return -1;
  weir_cfg_entry_t *e = &s->entries[s->entry_count];
  e->key = strdup(key);
  e->value = strdup(value);
  e->line = line;
  e->continued = continued;
  if (!e->key || !e->value) {
    free(e->key);
    free(e->value);
    return -1;
  }
  s->entry_count++;
  return 0;
}

/* inih ends a header at ']' or at an inline comment (';' after a space). */
static char *header_end(char *s) {
  int was_space = 0;
  for (; *s && *s != ']'; s++) {
    if (*s == ';' && was_space)
      return NULL;
    was_space = isspace((unsigned char)*s);
  }
  return *s == ']' ? s : NULL;
}

/* A malformed header still opens a (kind "") section, so the keys under it
 * are not silently added to the section before. */
static void open_section(parse_ctx_t *p, char *start) {
  char *end = header_end(start + 1);
  char *kind = "", *name = NULL;
  if (!end) {
    weir_diag_add(p->d, p->cfg->path, p->line,
                  "section header has no closing ']'; write it as [kind] or [kind:name]");
  } else {
    *end = '\0';
    kind = trim(start + 1);
    char *colon = strchr(kind, ':');
    if (colon) {
      *colon = '\0';
      name = trim(colon + 1);
      kind = trim(kind);
    }
    if (!*kind || (name && !*name)) {
      weir_diag_add(p->d, p->cfg->path, p->line,
                    "section header '[%s%s%s]' is incomplete; write it as [kind] or [kind:name]",
                    kind, name ? ":" : "", name ? name : "");
      kind = "";
      name = NULL;
    }
  }
  if (!add_section(p->cfg, kind, name, p->line))
    weir_diag_add(p->d, p->cfg->path, p->line, "out of memory reading the section header");
  p->cur = (long)p->cfg->section_count - 1;
}

/* Called before each new line: a line inih should have handed to the
 * handler but did not was a syntax error. */
static void finish_line(parse_ctx_t *p) {
  if (p->expect_entry && !p->got_entry) {
    weir_diag_add(p->d, p->cfg->path, p->line,
                  "expected 'key = value', a [section] header or a ; comment");
    p->has_prev = 0;
  } else if (p->expect_entry) {
    p->has_prev = 1;
  }
  p->expect_entry = p->got_entry = p->continuation = 0;
}

/* Mirrors inih's order of tests, so we agree with it on what a line is. */
static void classify(parse_ctx_t *p, char *buf) {
  char *start = buf;
  if (p->line == 1 && (unsigned char)start[0] == 0xEF && (unsigned char)start[1] == 0xBB &&
      (unsigned char)start[2] == 0xBF)
    start += 3;
  char *text = start;
  while (isspace((unsigned char)*text))
    text++;
  if (!*text || *text == ';' || *text == '#')
    return;
  if (p->has_prev && text > buf) {
    p->expect_entry = p->continuation = 1;
    return;
  }
  if (*text == '[') {
    char copy[256];
    snprintf(copy, sizeof copy, "%s", text);
    open_section(p, copy);
    p->has_prev = 0;
    return;
  }
  p->expect_entry = 1;
}

/* inih reads into a buffer of `num` bytes (INI_MAX_LINE, 200 as packaged).
 * A line goes to it without its line end, which inih would strip anyway, so
 * a line may hold num - 1 characters: the limit the README states. */
static char *reader(char *buf, int num, void *stream) {
  parse_ctx_t *p = stream;
  finish_line(p);
  if (!*p->pos)
    return NULL;
  const char *nl = strchr(p->pos, '\n');
  size_t len = nl ? (size_t)(nl - p->pos) : strlen(p->pos);
  size_t text = len > 0 && p->pos[len - 1] == '\r' ? len - 1 : len;
  p->line++;
  if (text > (size_t)num - 1) {
    /* inih would split the line and misread the rest as new lines. */
    weir_diag_add(p->d, p->cfg->path, p->line,
                  "line is longer than %d characters (it has %zu); shorten it", num - 1, text);
    buf[0] = '\0';
  } else {
    memcpy(buf, p->pos, text);
    buf[text] = '\0';
    classify(p, buf);
  }
  p->pos += nl ? len + 1 : len;
  return buf;
}

static int on_entry(void *user, const char *section, const char *name, const char *value) {
  parse_ctx_t *p = user;
  (void)section; /* ours is not truncated to inih's 50 bytes */
  p->got_entry = 1;
  if (p->cur < 0) {
    weir_diag_add(p->d, p->cfg->path, p->line,
                  "'%s' comes before any section; put it under a [section] header", name);
    return 1;
  }
  weir_cfg_section_t *s = &p->cfg->sections[p->cur];
  /* inih keeps a continued key in a 50-byte buffer; take ours. */
  const char *key = name;
  if (p->continuation && s->entry_count > 0)
    key = s->entries[s->entry_count - 1].key;
  /* "..." keeps what inih would trim: a value of spaces, or edge spaces. */
  char unquoted[256];
  size_t len = strlen(value);
  if (len >= 2 && value[0] == '"' && value[len - 1] == '"' && len - 2 < sizeof unquoted) {
    memcpy(unquoted, value + 1, len - 2);
    unquoted[len - 2] = '\0';
    value = unquoted;
  } else if (value[0] == '"') {
    /* Taken literally, `separator = "` would quietly be a quote character. */
    weir_diag_add(p->d, p->cfg->path, p->line,
                  "the value of '%s' opens a double quote but does not close it; write "
                  "%s = \"...\" (the quotes keep spaces)",
                  key, key);
    return 1;
  }
  if (add_entry(s, key, value, p->line, p->continuation))
    weir_diag_add(p->d, p->cfg->path, p->line, "out of memory reading '%s'", name);
  return 1;
}

weir_cfg_t *weir_cfg_load_string(const char *path, const char *text, weir_diag_t *d) {
  weir_cfg_t *cfg = calloc(1, sizeof *cfg);
  if (!cfg || !(cfg->path = strdup(path ? path : "<string>"))) {
    free(cfg);
    weir_diag_add(d, path, 0, "out of memory reading the configuration");
    return NULL;
  }
  parse_ctx_t p = {.cfg = cfg, .d = d, .pos = text, .cur = -1};
  size_t before = d->count;
  int rc = ini_parse_stream(reader, &p, on_entry, &p);
  finish_line(&p);
  if (rc > 0 && d->count == before)
    weir_diag_add(d, cfg->path, rc, "syntax error; expected 'key = value' or a [section]");
  else if (rc < 0 && d->count == before)
    weir_diag_add(d, cfg->path, 0, "the INI parser failed (out of memory?)");
  return cfg;
}

static char *read_all(FILE *f, size_t *out_len) {
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len - 1, f);
    if (len < cap - 1)
      break;
    char *bigger = realloc(buf, cap * 2);
    if (!bigger) {
      free(buf);
      return NULL;
    }
    buf = bigger;
    cap *= 2;
  }
  if (buf)
    buf[len] = '\0';
  *out_len = len;
  return buf;
}

/* The text is handled as a C string, so a NUL byte would silently end it. */
static int check_no_nul(const char *path, const char *text, size_t len, weir_diag_t *d) {
  size_t at = strlen(text);
  if (at == len)
    return 0;
  int line = 1;
  for (size_t i = 0; i < at; i++)
    line += text[i] == '\n';
  weir_diag_add(d, path, line, "the file contains a NUL byte; is it a text file?");
  return -1;
}

weir_cfg_t *weir_cfg_load(const char *path, weir_diag_t *d) {
  FILE *f = fopen(path, "r");
  if (!f) {
    weir_diag_add(d, path, 0, "cannot open the topology file: %s; check the path", strerror(errno));
    return NULL;
  }
  size_t len = 0;
  char *text = read_all(f, &len);
  int failed = ferror(f);
  fclose(f);
  if (!text || failed) {
    weir_diag_add(d, path, 0, "cannot read the topology file%s; check the file",
                  text ? " (read error)" : " (out of memory)");
    free(text);
    return NULL;
  }
  weir_cfg_t *cfg = check_no_nul(path, text, len, d) ? NULL : weir_cfg_load_string(path, text, d);
  free(text);
  return cfg;
}

static void section_free(weir_cfg_section_t *s) {
  for (size_t i = 0; i < s->entry_count; i++) {
    free(s->entries[i].key);
    free(s->entries[i].value);
  }
  free(s->entries);
  free(s->kind);
  free(s->name);
}

void weir_cfg_free(weir_cfg_t *cfg) {
  if (!cfg)
    return;
  for (size_t i = 0; i < cfg->section_count; i++)
    section_free(&cfg->sections[i]);
  free(cfg->sections);
  free(cfg->path);
  free(cfg);
}

static int same_name(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

weir_cfg_section_t *weir_cfg_find(const weir_cfg_t *cfg, const char *kind, const char *name) {
  for (size_t i = 0; i < cfg->section_count; i++) {
    weir_cfg_section_t *s = &cfg->sections[i];
    if (strcmp(s->kind, kind) == 0 && same_name(s->name, name))
      return s;
  }
  return NULL;
}

const weir_cfg_entry_t *weir_cfg_entry(const weir_cfg_section_t *s, const char *key) {
  for (size_t i = s->entry_count; i-- > 0;)
    if (strcmp(s->entries[i].key, key) == 0)
      return &s->entries[i];
  return NULL;
}

const char *weir_cfg_get(const weir_cfg_section_t *s, const char *key) {
  const weir_cfg_entry_t *e = weir_cfg_entry(s, key);
  return e ? e->value : NULL;
}

/* Drops every entry for `key`: an override replaces repeated keys too. */
static void remove_key(weir_cfg_section_t *s, const char *key) {
  size_t kept = 0;
  for (size_t i = 0; i < s->entry_count; i++) {
    weir_cfg_entry_t *e = &s->entries[i];
    if (strcmp(e->key, key) == 0) {
      free(e->key);
      free(e->value);
    } else {
      s->entries[kept++] = *e;
    }
  }
  s->entry_count = kept;
}

/* Splits "SECTION.KEY=VALUE" in place; section is "kind" or "kind:name". */
static int split_override(char *text, char **kind, char **name, char **key, char **value) {
  char *eq = strchr(text, '=');
  char *dot = strchr(text, '.');
  if (!eq || !dot || dot > eq)
    return -1;
  *eq = '\0';
  *dot = '\0';
  *value = trim(eq + 1);
  *key = trim(dot + 1);
  *kind = trim(text);
  *name = NULL;
  char *colon = strchr(*kind, ':');
  if (colon) {
    *colon = '\0';
    *name = trim(colon + 1);
    *kind = trim(*kind);
  }
  return (**kind && **key && (!*name || **name)) ? 0 : -1;
}

/* The section an override names: "kind" or "kind:name" as written, or the
 * short form "name" (`--set shout.min.length=5`), the one section of that
 * name whatever its kind. NULL with a diagnostic when "name" matches none
 * or several. */
static weir_cfg_section_t *override_section(weir_cfg_t *cfg, const char *kind, const char *name,
                                            const char *assignment, weir_diag_t *d) {
  weir_cfg_section_t *s = weir_cfg_find(cfg, kind, name);
  if (s || name || strcmp(kind, "weir") == 0 || strcmp(kind, "kafka") == 0)
    return s ? s : add_section(cfg, kind, name, 0);
  weir_cfg_section_t *found = NULL;
  for (size_t i = 0; i < cfg->section_count; i++) {
    weir_cfg_section_t *c = &cfg->sections[i];
    if (!c->name || strcmp(c->name, kind) != 0)
      continue;
    if (found) {
      weir_diag_add(d, "--set", 0,
                    "'%s': both [%s:%s] and [%s:%s] are named '%s'; write KIND:NAME.KEY=VALUE",
                    assignment, found->kind, kind, c->kind, kind, kind);
      return NULL;
    }
    found = c;
  }
  if (!found)
    weir_diag_add(d, "--set", 0,
                  "'%s': no section is named '%s'; write SECTION.KEY=VALUE with SECTION weir, "
                  "kafka, a section's name or KIND:NAME",
                  assignment, kind);
  return found;
}

int weir_cfg_set(weir_cfg_t *cfg, const char *kind, const char *key, const char *value, int line) {
  weir_cfg_section_t *s = weir_cfg_find(cfg, kind, NULL);
  if (!s)
    s = add_section(cfg, kind, NULL, 0);
  if (!s)
    return -1;
  remove_key(s, key);
  return add_entry(s, key, value, line, 0);
}

/* The assignment as a diagnostic may quote it: a secret's value hidden. */
static const char *shown_assignment(const char *assignment, char *buf, size_t size) {
  const char *eq = strchr(assignment, '=');
  if (!eq)
    return assignment;
  snprintf(buf, size, "%.*s", (int)(eq - assignment), assignment);
  if (!weir_secret_key(trim(buf)))
    return assignment;
  snprintf(buf, size, "%.*s=%s", (int)(eq - assignment), assignment, WEIR_SECRET_MASK);
  return buf;
}

int weir_cfg_override(weir_cfg_t *cfg, const char *assignment, weir_diag_t *d) {
  char hidden[512];
  const char *shown = shown_assignment(assignment, hidden, sizeof hidden);
  char *copy = strdup(assignment);
  char *kind, *name, *key, *value;
  if (!copy || split_override(copy, &kind, &name, &key, &value)) {
    weir_diag_add(d, "--set", 0,
                  "'%s' is not SECTION.KEY=VALUE; write e.g. weir.threads=2, words.pattern=x "
                  "or operator:words.pattern=x",
                  shown);
    free(copy);
    return -1;
  }
  size_t before = d->count;
  weir_cfg_section_t *s = override_section(cfg, kind, name, shown, d);
  int rc = -1;
  if (s) {
    remove_key(s, key);
    rc = add_entry(s, key, value, WEIR_CFG_LINE_SET, 0);
  }
  if (rc && d->count == before)
    weir_diag_add(d, "--set", 0, "out of memory applying '%s'", shown);
  free(copy);
  return rc;
}
