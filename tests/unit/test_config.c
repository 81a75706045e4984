/* The INI reader: sections, entries, line numbers, syntax errors, overrides. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

static void assert_diag(const weir_diag_t *d, const char *needle) {
  for (size_t i = 0; i < d->count; i++)
    if (strstr(d->lines[i], needle))
      return;
  fprintf(stderr, "diagnostics:\n");
  weir_diag_print(d, stderr);
  fail_msg("expected a diagnostic containing \"%s\"", needle);
}

static const char *const sample = "; a comment\n"                /* 1 */
                                  "[weir]\n"                     /* 2 */
                                  "application.id = wordcount\n" /* 3 */
                                  "\n"                           /* 4 */
                                  "# another comment\n"          /* 5 */
                                  "threads=2 ; inline comment\n" /* 6 */
                                  "[kafka]\n"                    /* 7 */
                                  "[source:lines]\n"             /* 8 */
                                  "topic = text-lines\n"         /* 9 */
                                  "[ operator : words ]\n"       /* 10 */
                                  "pattern = a.b\n"              /* 11 */
                                  "pattern = c\n"                /* 12 */
                                  "empty =\n";                   /* 13 */

static void test_sections_and_lines(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", sample, &d);
  assert_non_null(cfg);
  assert_int_equal(d.count, 0);
  assert_string_equal(cfg->path, "t.ini");
  assert_int_equal(cfg->section_count, 4);

  weir_cfg_section_t *w = weir_cfg_find(cfg, "weir", NULL);
  assert_non_null(w);
  assert_null(w->name);
  assert_int_equal(w->line, 2);
  assert_int_equal(w->entry_count, 2);
  assert_string_equal(w->entries[0].key, "application.id");
  assert_string_equal(w->entries[0].value, "wordcount");
  assert_int_equal(w->entries[0].line, 3);
  assert_string_equal(weir_cfg_get(w, "threads"), "2");
  assert_int_equal(weir_cfg_entry(w, "threads")->line, 6);

  weir_cfg_section_t *k = weir_cfg_find(cfg, "kafka", NULL);
  assert_non_null(k);
  assert_int_equal(k->line, 7);
  assert_int_equal(k->entry_count, 0);

  weir_cfg_section_t *s = weir_cfg_find(cfg, "source", "lines");
  assert_non_null(s);
  assert_int_equal(s->line, 8);
  assert_int_equal(weir_cfg_entry(s, "topic")->line, 9);

  weir_cfg_section_t *o = weir_cfg_find(cfg, "operator", "words");
  assert_non_null(o);
  assert_string_equal(o->kind, "operator");
  assert_string_equal(o->name, "words");
  assert_int_equal(o->line, 10);
  assert_int_equal(o->entry_count, 3);
  assert_int_equal(o->entries[0].line, 11);
  assert_int_equal(o->entries[1].line, 12);
  assert_string_equal(weir_cfg_get(o, "pattern"), "c"); /* the last one */
  assert_string_equal(weir_cfg_get(o, "empty"), "");
  assert_null(weir_cfg_get(o, "missing"));
  assert_null(weir_cfg_find(cfg, "operator", "nope"));
  assert_null(weir_cfg_find(cfg, "operator", NULL));

  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void test_continuation_is_repeated_entry(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini",
                                         "[operator:x]\n" /* 1 */
                                         "tag = a\n"      /* 2 */
                                         "   b\n"         /* 3 */
                                         "other = 1\n",   /* 4 */
                                         &d);
  assert_int_equal(d.count, 0);
  weir_cfg_section_t *s = weir_cfg_find(cfg, "operator", "x");
  assert_int_equal(s->entry_count, 3);
  assert_string_equal(s->entries[1].key, "tag");
  assert_string_equal(s->entries[1].value, "b");
  assert_int_equal(s->entries[1].line, 3);
  assert_int_equal(s->entries[1].continued, 1);
  assert_int_equal(s->entries[0].continued, 0);
  assert_int_equal(s->entries[2].line, 4);
  assert_int_equal(s->entries[2].continued, 0);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void test_crlf_and_bom(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg =
      weir_cfg_load_string("t.ini", "\xEF\xBB\xBF[weir]\r\na = 1\r\n\r\nb = 2\r\n", &d);
  assert_int_equal(d.count, 0);
  weir_cfg_section_t *w = weir_cfg_find(cfg, "weir", NULL);
  assert_non_null(w);
  assert_int_equal(w->line, 1);
  assert_string_equal(weir_cfg_get(w, "a"), "1");
  assert_int_equal(weir_cfg_entry(w, "b")->line, 4);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void test_syntax_errors_all_reported(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini",
                                         "early = 1\n"      /* 1 */
                                         "[weir]\n"         /* 2 */
                                         "no equals sign\n" /* 3 */
                                         "ok = 1\n"         /* 4 */
                                         "[broken\n"        /* 5 */
                                         "x = 1\n"          /* 6 */
                                         "[source:]\n"      /* 7 */
                                         "[]\n"             /* 8 */
                                         "also bad\n",      /* 9 */
                                         &d);
  assert_non_null(cfg); /* whatever could be read is kept */
  assert_diag(&d, "t.ini:1: 'early' comes before any section");
  assert_diag(&d, "t.ini:3: expected 'key = value'");
  assert_diag(&d, "t.ini:5: section header has no closing ']'");
  assert_diag(&d, "t.ini:7: section header '[source:]' is incomplete");
  assert_diag(&d, "t.ini:8: section header '[]' is incomplete");
  assert_diag(&d, "t.ini:9: expected 'key = value'");
  assert_int_equal(d.count, 6);
  /* The key under the broken header does not land in [weir]. */
  weir_cfg_section_t *w = weir_cfg_find(cfg, "weir", NULL);
  assert_int_equal(w->entry_count, 1);
  assert_string_equal(w->entries[0].key, "ok");
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void test_long_line(void **state) {
  (void)state;
  char text[1024];
  char value[400];
  memset(value, 'v', sizeof value - 1);
  value[sizeof value - 1] = '\0';
  snprintf(text, sizeof text, "[weir]\nlong = %s\nafter = 1\n", value);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", text, &d);
  assert_diag(&d, "t.ini:2: line is longer than");
  assert_int_equal(d.count, 1);
  weir_cfg_section_t *w = weir_cfg_find(cfg, "weir", NULL);
  assert_null(weir_cfg_get(w, "long"));
  assert_int_equal(weir_cfg_entry(w, "after")->line, 3);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void test_overrides(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", "[weir]\nthreads = 1\nthreads = 3\n", &d);
  assert_int_equal(weir_cfg_override(cfg, "weir.threads=2", &d), 0);
  assert_int_equal(weir_cfg_override(cfg, "weir.bootstrap.servers = host:9092", &d), 0);
  assert_int_equal(weir_cfg_override(cfg, "operator:words.pattern=a.b=c", &d), 0);
  assert_int_equal(d.count, 0);

  weir_cfg_section_t *w = weir_cfg_find(cfg, "weir", NULL);
  assert_int_equal(w->entry_count, 2); /* both threads entries replaced by one */
  assert_string_equal(weir_cfg_get(w, "threads"), "2");
  assert_int_equal(weir_cfg_entry(w, "threads")->line, WEIR_CFG_LINE_SET);
  assert_string_equal(weir_cfg_get(w, "bootstrap.servers"), "host:9092");

  weir_cfg_section_t *o = weir_cfg_find(cfg, "operator", "words");
  assert_non_null(o);
  assert_int_equal(o->line, 0);
  assert_string_equal(weir_cfg_get(o, "pattern"), "a.b=c");
  assert_string_equal(weir_cfg_where(cfg, 0), "--set");
  assert_string_equal(weir_cfg_where(cfg, WEIR_CFG_LINE_SET), "--set");
  assert_string_equal(weir_cfg_where(cfg, 3), "t.ini");

  assert_int_equal(weir_cfg_override(cfg, "threads=2", &d), -1);
  assert_int_equal(weir_cfg_override(cfg, "weir.threads", &d), -1);
  assert_int_equal(weir_cfg_override(cfg, ".x=1", &d), -1);
  assert_int_equal(weir_cfg_override(cfg, "operator:.x=1", &d), -1);
  assert_int_equal(d.count, 4);
  assert_diag(&d, "--set: 'threads=2' is not SECTION.KEY=VALUE");
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

/* The README's limit: a line of 199 characters is read (line end not
 * counted, CRLF too), one of 200 is refused saying the limit. */
static void test_line_limit(void **state) {
  (void)state;
  char text[1024], value[300];
  size_t room = 199 - strlen("k = ");
  memset(value, 'v', room);
  value[room] = '\0';
  snprintf(text, sizeof text, "[weir]\r\nk = %s\r\nl = %sw\n", value, value);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", text, &d);
  assert_diag(&d, "t.ini:3: line is longer than 199 characters (it has 200)");
  assert_int_equal(d.count, 1);
  weir_cfg_section_t *w = weir_cfg_find(cfg, "weir", NULL);
  assert_string_equal(weir_cfg_get(w, "k"), value);
  assert_null(weir_cfg_get(w, "l"));
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

/* `--set NAME.KEY=VALUE` names a section by its name alone, as the README
 * writes `--set shout.min.length=5`; a name no section or two have is an
 * error saying what to write. */
static void test_override_short_form(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string(
      "t.ini", "[weir]\n[operator:shout]\nmin.length = 3\n[operator:c]\n[store:c]\n", &d);
  assert_int_equal(weir_cfg_override(cfg, "shout.min.length=5", &d), 0);
  assert_int_equal(d.count, 0);
  weir_cfg_section_t *o = weir_cfg_find(cfg, "operator", "shout");
  assert_int_equal(o->entry_count, 1);
  assert_string_equal(weir_cfg_get(o, "min.length"), "5");
  assert_int_equal(weir_cfg_entry(o, "min.length")->line, WEIR_CFG_LINE_SET);
  assert_null(weir_cfg_find(cfg, "shout", NULL));

  assert_int_equal(weir_cfg_override(cfg, "kafka.linger.ms=5", &d), 0);
  assert_non_null(weir_cfg_find(cfg, "kafka", NULL));

  assert_int_equal(weir_cfg_override(cfg, "nope.x=1", &d), -1);
  assert_diag(&d, "--set: 'nope.x=1': no section is named 'nope'");
  assert_int_equal(weir_cfg_override(cfg, "c.x=1", &d), -1);
  assert_diag(&d, "--set: 'c.x=1': both [operator:c] and [store:c] are named 'c'");
  assert_int_equal(d.count, 2);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

/* Double quotes keep spaces inih would trim; inner quotes stay as written. */
static void test_quoted_values(void **state) {
  weir_diag_t d = {0};
  weir_cfg_t *cfg =
      weir_cfg_load_string("q.ini",
                           "[operator:s]\nseparator = \" \"\nedge = \" a b \"\nplain = say \"hi\"\n"
                           "lone = \"\nopen = \"abc\n",
                           &d);
  /* An opening quote with no closing one is refused, not read as a quote. */
  assert_diag(&d, "q.ini:5: the value of 'lone' opens a double quote but does not close it");
  assert_diag(&d, "q.ini:6: the value of 'open' opens a double quote");
  assert_int_equal(d.count, 2);
  weir_cfg_section_t *s = weir_cfg_find(cfg, "operator", "s");
  assert_string_equal(weir_cfg_get(s, "separator"), " ");
  assert_string_equal(weir_cfg_get(s, "edge"), " a b ");
  assert_string_equal(weir_cfg_get(s, "plain"), "say \"hi\"");
  assert_null(weir_cfg_get(s, "lone"));
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void test_load_file(void **state) {
  (void)state;
  char path[512];
  const char *base = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/weir-test-config-XXXXXX", base && *base ? base : "/tmp");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "[weir]\n\napplication.id = x\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  assert_non_null(cfg);
  assert_string_equal(cfg->path, path);
  assert_int_equal(weir_cfg_entry(weir_cfg_find(cfg, "weir", NULL), "application.id")->line, 3);
  weir_cfg_free(cfg);

  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "[weir]\na = 1\0\n", 13), 13);
  close(fd);
  assert_null(weir_cfg_load(path, &d));
  char expected[300];
  snprintf(expected, sizeof expected, "%s:2: the file contains a NUL byte", path);
  assert_diag(&d, expected);
  unlink(path);

  assert_null(weir_cfg_load("/nonexistent/weir.ini", &d));
  assert_diag(&d, "/nonexistent/weir.ini: cannot open the topology file");
  weir_diag_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sections_and_lines),
      cmocka_unit_test(test_continuation_is_repeated_entry),
      cmocka_unit_test(test_crlf_and_bom),
      cmocka_unit_test(test_syntax_errors_all_reported),
      cmocka_unit_test(test_long_line),
      cmocka_unit_test(test_overrides),
      cmocka_unit_test(test_line_limit),
      cmocka_unit_test(test_override_short_form),
      cmocka_unit_test(test_quoted_values),
      cmocka_unit_test(test_load_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
