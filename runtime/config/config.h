/* config — the INI file as read, before any meaning is given to it.
 *
 * Sections are `[kind]` or `[kind:name]`; every key keeps the line it was
 * written on so later validation can name file:line. A key written twice in
 * one section keeps both entries (in file order): whether that is allowed is
 * decided by whoever knows the key (WEIR_PARAM_MULTI parameters allow it).
 */
#ifndef WEIR_CONFIG_CONFIG_H
#define WEIR_CONFIG_CONFIG_H

#include <stddef.h>

#include "util/diag.h"

typedef struct weir_cfg_entry {
  char *key;
  char *value;
  int line;
  int continued; /* 1: an indented line, which INI reads as continuing the
                    previous key's value (a repeated entry of that key) */
} weir_cfg_entry_t;

typedef struct weir_cfg_section {
  char *kind; /* "weir", "kafka", "source", "operator", "sink", "store" ... */
  char *name; /* after the colon; NULL for [weir] and [kafka] */
  int line;   /* the line of the [header] */
  weir_cfg_entry_t *entries;
  size_t entry_count;
  size_t entry_cap;
} weir_cfg_section_t;

typedef struct weir_cfg {
  char *path; /* as given, used in every diagnostic */
  weir_cfg_section_t *sections;
  size_t section_count;
  size_t section_cap;
} weir_cfg_t;

/* Read `path`. Syntax errors (and an unreadable file) go to `d` with
 * file:line; returns NULL only when nothing could be read at all. */
weir_cfg_t *weir_cfg_load(const char *path, weir_diag_t *d);
/* The same from a string (tests); `path` names it in diagnostics. */
weir_cfg_t *weir_cfg_load_string(const char *path, const char *text, weir_diag_t *d);
void weir_cfg_free(weir_cfg_t *cfg);

/* The line of an entry that came from the command line (--set): below
 * every line of a file, and apart from 0, which a default's value keeps. */
#define WEIR_CFG_LINE_SET (-1)
/* The line of an entry from a WEIR_<SECTION>__<KEY> variable (config/env.h). */
#define WEIR_CFG_LINE_ENV (-2)

/* Apply "SECTION.KEY=VALUE" from the command line (`--set weir.threads=2`,
 * `--set operator:words.pattern=x`, or the short `--set words.pattern=x`
 * naming a section by its name alone): replaces the key's value, or adds the
 * key (and, for weir, kafka and KIND:NAME, the section). The entry's line is
 * WEIR_CFG_LINE_SET. */
int weir_cfg_override(weir_cfg_t *cfg, const char *assignment, weir_diag_t *d);

/* Sets `key` in the unnamed section `kind` ([weir], [kafka]), adding the
 * section if the file has none and replacing every earlier entry of the
 * key; the entry keeps `line` (WEIR_CFG_LINE_SET, or the environment's). */
int weir_cfg_set(weir_cfg_t *cfg, const char *kind, const char *key, const char *value, int line);

/* Lookups. `name` NULL matches a section without a name. */
weir_cfg_section_t *weir_cfg_find(const weir_cfg_t *cfg, const char *kind, const char *name);
/* The last entry for `key` in a section, or NULL. */
const weir_cfg_entry_t *weir_cfg_entry(const weir_cfg_section_t *s, const char *key);
const char *weir_cfg_get(const weir_cfg_section_t *s, const char *key);

/* Describes a repeated key for an error line, e.g. "'tag' is set twice in
 * [operator:x] (first at line 3); remove one", or, when `again` is an
 * indented continuation line, says so and how to fix it. */
void weir_cfg_repeat_msg(const weir_cfg_entry_t *again, int first_line, const char *section_label,
                         char *buf, size_t size);

/* The file to name in a diagnostic for `line`: cfg->path, or "--set" for a
 * line below 1 (a value or section that came from the command line). */
const char *weir_cfg_where(const weir_cfg_t *cfg, int line);

#endif
