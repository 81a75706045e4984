/* Parameter checking and binding: every type, bounds, enum, regex, and each
 * binding error with its file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/params.h"

static void assert_diag(const weir_diag_t *d, const char *needle) {
  for (size_t i = 0; i < d->count; i++)
    if (strstr(d->lines[i], needle))
      return;
  fprintf(stderr, "diagnostics:\n");
  weir_diag_print(d, stderr);
  fail_msg("expected a diagnostic containing \"%s\"", needle);
}

static void assert_contains(const char *text, const char *needle) {
  if (!strstr(text, needle))
    fail_msg("expected \"%s\" in: %s", needle, text);
}

static const weir_param_def_t defs[] = {
    WEIR_PARAM_STR_REQ("field", "the field to read"),
    WEIR_PARAM_STR("label", "none", "a label"),
    WEIR_PARAM_INT("limit", "10", 1, 100, "how many"),
    WEIR_PARAM_INT("any", NULL, 1, 0, "unbounded"),
    WEIR_PARAM_DOUBLE("ratio", "0.5", 0, 1, "a fraction"),
    WEIR_PARAM_BOOL("loud", "false", "shout"),
    WEIR_PARAM_ENUM("mode", "fast", "fast|slow|off", "how"),
    WEIR_PARAM_REGEX("match", ".*", "which"),
    WEIR_PARAM_(("tag"), WEIR_PARAM_STRING, WEIR_PARAM_MULTI, NULL, 1, 0, NULL, "tags"),
};
#define NDEFS (sizeof defs / sizeof defs[0])

static int check(int i, const char *text, char *err) {
  return weir_param_check(&defs[i], text, err, 256);
}

static void test_check_int(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(check(2, "1", err), 0);
  assert_int_equal(check(2, "100", err), 0);
  assert_int_equal(check(2, "0", err), -1);
  assert_string_equal(err, "expected an integer in [1, 100], got '0'");
  assert_int_equal(check(2, "101", err), -1);
  assert_int_equal(check(2, "5x", err), -1);
  assert_int_equal(check(2, "", err), -1);
  assert_int_equal(check(2, "2.5", err), -1);
  assert_int_equal(check(3, "-99999999999", err), 0); /* no bounds */
  assert_int_equal(check(3, "99999999999999999999", err), -1);
  assert_string_equal(err, "expected an integer, got '99999999999999999999'");
}

static void test_check_double(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(check(4, "0", err), 0);
  assert_int_equal(check(4, "0.25", err), 0);
  assert_int_equal(check(4, "1e0", err), 0);
  assert_int_equal(check(4, "1.5", err), -1);
  assert_string_equal(err, "expected a number in [0, 1], got '1.5'");
  assert_int_equal(check(4, "abc", err), -1);
  assert_int_equal(check(4, "nan", err), -1);
}

static void test_check_bool(void **state) {
  (void)state;
  char err[256];
  const char *ok[] = {"true", "false", "yes", "no", "on", "off", "1", "0", "TRUE", "Off"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    assert_int_equal(check(5, ok[i], err), 0);
  assert_int_equal(check(5, "maybe", err), -1);
  assert_string_equal(err, "expected true/false, yes/no, on/off or 1/0, got 'maybe'");
}

static void test_check_enum_regex_string(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(check(6, "slow", err), 0);
  assert_int_equal(check(6, "off", err), 0);
  assert_int_equal(check(6, "sl", err), -1);
  assert_string_equal(err, "expected one of: fast, slow, off; got 'sl'");
  assert_int_equal(check(6, "fast|slow", err), -1);
  assert_int_equal(check(7, "^[a-z]+(x|y)$", err), 0);
  assert_int_equal(check(7, "a(b", err), -1);
  assert_contains(err, "expected a POSIX extended regular expression, got 'a(b': ");
  assert_true(strlen(err) > strlen("expected a POSIX extended regular expression, got 'a(b': "));
  assert_int_equal(check(0, "", err), 0);
  assert_int_equal(check(0, "anything at all", err), 0);
}

/* Binds `text` (one [operator:x] section, header on line 1). */
static int bind(const char *text, weir_params_t *p, weir_diag_t *d) {
  static const char *const reserved[] = {"plugin", "type", "input", NULL};
  weir_diag_t parse = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", text, &parse);
  assert_int_equal(parse.count, 0);
  int rc = weir_params_bind(defs, NDEFS, cfg, &cfg->sections[0], reserved, p, d);
  weir_cfg_free(cfg);
  weir_diag_free(&parse);
  return rc;
}

static void test_bind_values_and_defaults(void **state) {
  (void)state;
  weir_params_t p = {0};
  weir_diag_t d = {0};
  assert_int_equal(bind("[operator:x]\n" /* 1 */
                        "plugin = p\n"   /* 2 */
                        "field = name\n" /* 3 */
                        "limit = 42\n"   /* 4 */
                        "loud = yes\n"   /* 5 */
                        "ratio = 0.25\n" /* 6 */
                        "tag = a\n"      /* 7 */
                        "tag = b\n"      /* 8 */
                        "  c\n",         /* 9: continues tag */
                        &p, &d),
                   0);
  assert_int_equal(d.count, 0);
  assert_int_equal(p.count, NDEFS);
  const weir_param_value_t *v = weir_params_find(&p, "field");
  assert_string_equal(v->text, "name");
  assert_int_equal(v->line, 3);
  v = weir_params_find(&p, "limit");
  assert_int_equal(v->i, 42);
  assert_true(v->d == 42.0);
  assert_int_equal(weir_params_find(&p, "loud")->i, 1);
  assert_true(weir_params_find(&p, "ratio")->d == 0.25);
  v = weir_params_find(&p, "tag");
  assert_string_equal(v->text, "a\nb\nc");
  assert_int_equal(v->line, 7);
  v = weir_params_find(&p, "label"); /* default */
  assert_string_equal(v->text, "none");
  assert_int_equal(v->line, 0);
  assert_string_equal(weir_params_find(&p, "mode")->text, "fast");
  assert_null(weir_params_find(&p, "any")->text);
  assert_null(weir_params_find(&p, "plugin"));
  weir_params_free(&p);
  weir_diag_free(&d);
}

static void test_bind_errors(void **state) {
  (void)state;
  weir_params_t p = {0};
  weir_diag_t d = {0};
  assert_int_equal(bind("[operator:x]\n"  /* 1 */
                        "limt = 4\n"      /* 2 */
                        "limit = 400\n"   /* 3 */
                        "mode = medium\n" /* 4 */
                        "match = (\n"     /* 5 */
                        "label = a\n"     /* 6 */
                        "label = b\n"     /* 7 */
                        "loud = sure\n",  /* 8 */
                        &p, &d),
                   -1);
  assert_diag(&d, "t.ini:2: unknown key 'limt' in [operator:x]; known keys: field, label, "
                  "limit, any, ratio, loud, mode, match, tag, plugin, type, input");
  assert_diag(&d, "t.ini:3: bad value for 'limit' in [operator:x]: expected an integer in "
                  "[1, 100], got '400'");
  assert_diag(&d, "t.ini:4: bad value for 'mode' in [operator:x]: expected one of: fast, "
                  "slow, off; got 'medium'");
  assert_diag(&d, "t.ini:5: bad value for 'match' in [operator:x]: expected a POSIX extended "
                  "regular expression");
  assert_diag(&d, "t.ini:7: 'label' is set twice in [operator:x] (first at line 6); remove one");
  assert_diag(&d, "t.ini:8: bad value for 'loud'");
  assert_diag(&d, "t.ini:1: [operator:x] needs 'field' (the field to read); add 'field = ...'");
  assert_int_equal(d.count, 7);
  weir_params_free(&p);
  weir_diag_free(&d);
}

static void test_bind_indented_line(void **state) {
  (void)state;
  weir_params_t p = {0};
  weir_diag_t d = {0};
  assert_int_equal(bind("[operator:x]\n" /* 1 */
                        "field = a\n"    /* 2 */
                        "  limit = 4\n", /* 3: continues field */
                        &p, &d),
                   -1);
  assert_diag(&d, "t.ini:3: this indented line continues 'field' from line 2, which "
                  "[operator:x] takes once; unindent it if it is a key of its own");
  assert_int_equal(d.count, 1);
  weir_params_free(&p);
  weir_diag_free(&d);
}

static void test_bind_no_defs(void **state) {
  (void)state;
  weir_diag_t parse = {0}, d = {0};
  weir_params_t p = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", "[operator:x]\ntype = t\nextra = 1\n", &parse);
  static const char *const reserved[] = {"type", NULL};
  assert_int_equal(weir_params_bind(NULL, 0, cfg, &cfg->sections[0], reserved, &p, &d), -1);
  assert_diag(&d, "t.ini:3: unknown key 'extra' in [operator:x]; known keys: type");
  assert_int_equal(p.count, 0);
  assert_null(weir_params_find(&p, "extra"));
  weir_params_free(&p);
  weir_cfg_free(cfg);
  weir_diag_free(&parse);
  weir_diag_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_check_int),
      cmocka_unit_test(test_check_double),
      cmocka_unit_test(test_check_bool),
      cmocka_unit_test(test_check_enum_regex_string),
      cmocka_unit_test(test_bind_values_and_defaults),
      cmocka_unit_test(test_bind_errors),
      cmocka_unit_test(test_bind_indented_line),
      cmocka_unit_test(test_bind_no_defs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
