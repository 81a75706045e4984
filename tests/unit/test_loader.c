/* The plugin loader: search order, every refusal with its message, and the
 * host-sized copies of a good plugin's definitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin/loader.h"
#include "support/tmpdir.h"
#include "util/fs.h"

/* The host's ABI as the loader prints it ("1.1"): the expectations follow
 * the header instead of breaking at each minor bump. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define HOST_ABI STR(WEIR_ABI_MAJOR) "." STR(WEIR_ABI_MINOR)

#define FIXTURE(name) WEIR_TEST_FIXTURE_DIR "/" name ".so"

/* ---------------------------------------------------------------- helpers */

typedef struct tmp {
  char dir[256];
} tmp_t;

static void tmp_make(tmp_t *t) {
  assert_non_null(weir_test_tmpdir(t->dir, sizeof t->dir, "weir-test-loader"));
}

static void rm_rf(const char *dir) {
  assert_int_equal(weir_rm_rf(dir), 0);
}

static void copy_file(const char *from, const char *to) {
  char buf[65536];
  size_t n;
  FILE *in = fopen(from, "rb");
  FILE *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  assert_int_equal(fclose(out), 0);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static void assert_contains(const char *haystack, const char *needle) {
  if (!strstr(haystack, needle))
    fail_msg("expected \"%s\" in: %s", needle, haystack);
}

/* Loads a fixture that must be refused, and checks the one-line message
 * names the file and says each of `words`. */
static void expect_refused(const char *path, const char *const *words) {
  char err[1024] = "";
  weir_plugin_t *p = weir_plugin_load_file(path, "fixture", err, sizeof err);
  assert_null(p);
  assert_null(strchr(err, '\n'));
  assert_contains(err, path);
  for (size_t i = 0; words[i]; i++)
    assert_contains(err, words[i]);
}

#define REFUSED(fixture, ...)                                                                      \
  expect_refused(FIXTURE(fixture), (const char *const[]){__VA_ARGS__, NULL})

/* ---------------------------------------------------------------- refusals */

static void missing_file(void **state) {
  REFUSED("does_not_exist", "does not exist");
}

static void not_a_shared_object(void **state) {
  tmp_t t;
  char path[512];
  tmp_make(&t);
  snprintf(path, sizeof path, "%s/foo.so", t.dir);
  /* Longer than an ELF header, so dlopen gets as far as reading one. */
  write_file(path, "This is a text file named like a plugin, and it is long enough to hold "
                   "an ELF header, which it does not.\n");
  expect_refused(path, (const char *const[]){"not a loadable shared object", "invalid ELF header",
                                             "-shared", NULL});
  rm_rf(t.dir);
}

static void no_entry_symbol(void **state) {
  REFUSED("no_entry", "weir_plugin_entry", "is it built with WEIR_PLUGIN(...)?");
}

static void entry_returns_null(void **state) {
  REFUSED("entry_null", "returned NULL", "WEIR_PLUGIN");
}

static void abi_major_mismatch(void **state) {
  REFUSED("abi_major2", "weir ABI 2.0", "this host speaks " HOST_ABI,
          "rebuild it against the 1.x SDK");
}

static void abi_minor_newer(void **state) {
  REFUSED("abi_minor99", "weir ABI 1.99", "newer than this host's " HOST_ABI, "upgrade weir");
}

static void descriptor_too_small(void **state) {
  REFUSED("desc_size4", "malformed descriptor", "struct_size 4", "WEIR_PLUGIN");
}

static void descriptor_null_operators(void **state) {
  REFUSED("null_operators", "operators list is NULL");
}

static void descriptor_no_name(void **state) {
  REFUSED("no_name", "no name");
}

static void descriptor_no_operators(void **state) {
  REFUSED("no_operators", "declares no operators");
}

static void operator_without_type(void **state) {
  REFUSED("op_no_type", "has no type");
}

static void operator_without_init(void **state) {
  REFUSED("op_no_init", "'noinit'", "no init callback");
}

static void operator_without_process(void **state) {
  REFUSED("op_no_process", "'noprocess'", "no process callback");
}

/* 1.2: an extractor type needs extract_timestamp (process is optional). */
static void extractor_without_extract_timestamp(void **state) {
  REFUSED("op_extractor_no_fn", "'noextract'", "no extract_timestamp callback");
}

static void operator_struct_too_small(void **state) {
  REFUSED("op_size_small", "struct_size 16");
}

static void duplicate_operator_type(void **state) {
  REFUSED("dup_op_type", "'twice' twice", "rename one");
}

static void param_unknown_type(void **state) {
  REFUSED("param_bad_type", "'badtype'", "parameter 'weird'", "unknown type 42");
}

static void param_struct_too_small(void **state) {
  REFUSED("param_size_small", "'smallparams'", "struct_size 8", "WEIR_PARAM_");
}

static void param_enum_without_choices(void **state) {
  REFUSED("param_enum_no_choices", "enum parameter 'mode' has no choices");
}

static void param_declared_twice(void **state) {
  REFUSED("param_dup", "parameter 'name' is declared twice");
}

static void param_table_without_end(void **state) {
  REFUSED("param_no_end", "no end within 1000 entries", "WEIR_PARAM_END");
}

static void tiny_error_buffer(void **state) {
  char err[8];
  memset(err, 'x', sizeof err);
  assert_null(weir_plugin_load_file(FIXTURE("abi_major2"), NULL, err, sizeof err));
  assert_int_equal(strlen(err), sizeof err - 1);
  assert_null(weir_plugin_load_file(FIXTURE("abi_major2"), NULL, NULL, 0));
}

/* ---------------------------------------------------------------- a good one */

static void good_plugin_copied(void **state) {
  char err[512] = "";
  weir_plugin_t *p = weir_plugin_load_file(FIXTURE("good_ops"), "good", err, sizeof err);
  const weir_op_info_t *up, *drop;
  if (!p)
    fail_msg("%s", err);
  assert_string_equal(p->ref, "good");
  assert_string_equal(p->path, FIXTURE("good_ops"));
  assert_string_equal(p->desc.name, "good_ops");
  assert_string_equal(p->desc.version, "1.2.3");
  assert_int_equal(p->desc.abi_major, WEIR_ABI_MAJOR);
  assert_null(p->desc.operators);
  assert_int_equal(p->refcount, 1);
  assert_int_equal(p->op_count, 2);

  up = weir_plugin_find_op(p, "upper");
  drop = weir_plugin_find_op(p, "drop");
  assert_non_null(up);
  assert_non_null(drop);
  assert_null(weir_plugin_find_op(p, "nope"));
  assert_non_null(up->def.init);
  assert_non_null(up->def.process);
  assert_ptr_equal(up->def.params, up->params);
  assert_int_equal(up->param_count, 8);
  assert_string_equal(up->params[0].name, "prefix");
  assert_string_equal(up->params[0].default_value, "x:");
  assert_int_equal(up->params[1].flags, WEIR_PARAM_REQUIRED);
  assert_int_equal(up->params[2].type, WEIR_PARAM_INT);
  assert_true(up->params[2].min == 1 && up->params[2].max == 100);
  assert_string_equal(up->params[5].choices, "fast|slow|off");
  assert_int_equal(up->params[7].flags, WEIR_PARAM_MULTI);
  assert_null(up->params[8].name); /* an END entry for host code that walks by name */
  assert_int_equal(drop->param_count, 0);
  assert_int_equal(drop->def.flags, WEIR_OP_ROUTES_BY_NAME);
  weir_plugin_close(p);
  weir_plugin_close(NULL);
}

static char *print_info(const weir_plugin_t *p) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  assert_non_null(out);
  weir_plugin_print_info(p, out);
  fclose(out);
  return text;
}

static void good_plugin_info(void **state) {
  char err[512] = "";
  weir_plugin_t *p = weir_plugin_load_file(FIXTURE("good_ops"), NULL, err, sizeof err);
  char *text;
  assert_non_null(p);
  text = print_info(p);
  const char *want[] = {"plugin   good_ops",
                        "1.2.3",
                        "ABI      " HOST_ABI " (host " HOST_ABI ")",
                        FIXTURE("good_ops"),
                        "Two operators for the loader tests",
                        "operator upper",
                        "Forwards each record unchanged",
                        "operator drop",
                        "(no parameters)",
                        "NAME",
                        "TYPE",
                        "DEFAULT",
                        "BOUNDS",
                        "enum(fast|slow|off)",
                        "[1, 100]",
                        "[0, 1]",
                        "required",
                        "multi",
                        "How many to keep",
                        NULL};
  for (size_t i = 0; want[i]; i++)
    assert_contains(text, want[i]);
  free(text);
  weir_plugin_close(p);
}

static void params_print_row(void **state) {
  const weir_param_def_t defs[] = {WEIR_PARAM_INT("n", "5", 0, 9, "a number"),
                                   WEIR_PARAM_STR_REQ("s", "a string")};
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  weir_params_print(defs, 2, ">>", out);
  fclose(out);
  assert_contains(text, ">>NAME");
  assert_contains(text, ">>n     int     5        [0, 9]  -         a number\n");
  assert_contains(text, ">>s     string  -        -       required  a string\n");
  free(text);
}

/* ---------------------------------------------------------------- search */

static void resolve_absolute_path(void **state) {
  char path[512], err[512];
  assert_int_equal(
      weir_plugin_resolve(FIXTURE("good_ops"), NULL, path, sizeof path, err, sizeof err), 0);
  assert_string_equal(path, FIXTURE("good_ops"));
  /* An absolute path names one file: no directory is searched. */
  weir_plugin_search_t s = {WEIR_TEST_FIXTURE_DIR, "/nonexistent-exe", NULL};
  assert_int_equal(weir_plugin_resolve("/nowhere/x.so", &s, path, sizeof path, err, sizeof err),
                   -1);
  assert_contains(err, "/nowhere/x.so");
  assert_null(strstr(err, WEIR_TEST_FIXTURE_DIR));
}

static void resolve_names_every_path(void **state) {
  char path[512], err[2048];
  weir_plugin_search_t s = {"/pd", "/ed", NULL};
  assert_int_equal(weir_plugin_resolve("sub/nope", &s, path, sizeof path, err, sizeof err), -1);
  assert_contains(err, "plugin 'sub/nope' not found");
  assert_contains(err, "/pd/sub/nope.so");
  assert_contains(err, "/ed/plugins/sub/nope.so");
  assert_contains(err, WEIR_PLUGIN_INSTALL_DIR "/sub/nope.so");
  assert_contains(err, "plugin.dir");
  assert_null(strchr(err, '\n'));
}

static void resolve_order(void **state) {
  tmp_t pd, ed;
  char a[512], b[512], path[512], err[2048];
  tmp_make(&pd);
  tmp_make(&ed);
  weir_plugin_search_t s = {pd.dir, ed.dir, NULL};
  snprintf(a, sizeof a, "%s/mine.so", pd.dir);
  snprintf(b, sizeof b, "%s/plugins", ed.dir);
  assert_int_equal(mkdir(b, 0755), 0);
  snprintf(b, sizeof b, "%s/plugins/mine.so", ed.dir);
  copy_file(FIXTURE("good_ops"), a);
  copy_file(FIXTURE("good_ops"), b);

  assert_int_equal(weir_plugin_resolve("mine", &s, path, sizeof path, err, sizeof err), 0);
  assert_string_equal(path, a); /* plugin.dir first */
  assert_int_equal(unlink(a), 0);
  assert_int_equal(weir_plugin_resolve("mine", &s, path, sizeof path, err, sizeof err), 0);
  assert_string_equal(path, b); /* then <exe dir>/plugins */
  s.exe_dir = NULL;
  assert_int_equal(weir_plugin_resolve("mine", &s, path, sizeof path, err, sizeof err), -1);
  assert_int_equal(weir_plugin_resolve("mine", NULL, path, sizeof path, err, sizeof err), -1);
  assert_contains(err, WEIR_PLUGIN_INSTALL_DIR "/mine.so");
  rm_rf(pd.dir);
  rm_rf(ed.dir);
}

static void resolve_ref_ending_in_so(void **state) {
  tmp_t pd;
  char a[512], path[512], err[2048];
  tmp_make(&pd);
  weir_plugin_search_t s = {pd.dir, NULL, NULL};
  snprintf(a, sizeof a, "%s/lib.so", pd.dir);
  copy_file(FIXTURE("good_ops"), a);
  /* Not doubled to lib.so.so; tried in the working directory first. */
  assert_int_equal(weir_plugin_resolve("lib.so", &s, path, sizeof path, err, sizeof err), 0);
  assert_string_equal(path, a);
  rm_rf(pd.dir);
}

static void resolve_skips_directories(void **state) {
  tmp_t pd;
  char d[512], path[512], err[2048];
  tmp_make(&pd);
  weir_plugin_search_t s = {pd.dir, NULL, NULL};
  snprintf(d, sizeof d, "%s/dir.so", pd.dir);
  assert_int_equal(mkdir(d, 0755), 0);
  assert_int_equal(weir_plugin_resolve("dir", &s, path, sizeof path, err, sizeof err), -1);
  rm_rf(pd.dir);
}

static void open_through_plugin_dir(void **state) {
  char err[2048] = "";
  weir_plugin_search_t s = {WEIR_TEST_FIXTURE_DIR, NULL, NULL};
  weir_plugin_t *p = weir_plugin_open("good_ops", &s, err, sizeof err);
  if (!p)
    fail_msg("%s", err);
  assert_string_equal(p->ref, "good_ops");
  assert_string_equal(p->path, FIXTURE("good_ops"));
  weir_plugin_close(p);
  assert_null(weir_plugin_open("abi_major2", &s, err, sizeof err));
  assert_contains(err, "rebuild it against the 1.x SDK");
  assert_null(weir_plugin_open("", &s, err, sizeof err));
  assert_contains(err, "empty plugin reference");
}

/* Two copies of one file are two loads: what a hot swap relies on. */
static void two_copies_load_apart(void **state) {
  tmp_t t;
  char a[512], b[512], err[512];
  tmp_make(&t);
  snprintf(a, sizeof a, "%s/v1.so", t.dir);
  snprintf(b, sizeof b, "%s/v2.so", t.dir);
  copy_file(FIXTURE("good_ops"), a);
  copy_file(FIXTURE("good_ops"), b);
  weir_plugin_t *p1 = weir_plugin_load_file(a, "x", err, sizeof err);
  weir_plugin_t *p2 = weir_plugin_load_file(b, "x", err, sizeof err);
  assert_non_null(p1);
  assert_non_null(p2);
  assert_ptr_not_equal(p1->handle, p2->handle);
  assert_ptr_not_equal(p1->ops[0].def.process, p2->ops[0].def.process);
  weir_plugin_close(p1);
  weir_plugin_close(p2);
  rm_rf(t.dir);
}

/* A bare file name is the file in the working directory, not a library
 * dlopen would look for on its search path. */
static void bare_name_is_in_cwd(void **state) {
  tmp_t t;
  char a[512], cwd[4096], err[512];
  tmp_make(&t);
  snprintf(a, sizeof a, "%s/local.so", t.dir);
  copy_file(FIXTURE("good_ops"), a);
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir(t.dir), 0);
  weir_plugin_t *p = weir_plugin_load_file("local.so", NULL, err, sizeof err);
  assert_null(weir_plugin_load_file("libc.so.6", NULL, err, sizeof err));
  assert_contains(err, "does not exist");
  assert_int_equal(chdir(cwd), 0);
  if (!p)
    fail_msg("%s", err);
  assert_string_equal(p->path, "local.so");
  weir_plugin_close(p);
  rm_rf(t.dir);
}

static void exe_dir(void **state) {
  char dir[4096], self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  assert_true(n > 0);
  self[n] = '\0';
  assert_int_equal(weir_exe_dir(dir, sizeof dir), 0);
  assert_int_equal(dir[0], '/');
  assert_memory_equal(self, dir, strlen(dir));
  assert_int_equal(self[strlen(dir)], '/');
  assert_null(strchr(self + strlen(dir) + 1, '/'));
  assert_int_equal(weir_exe_dir(dir, 2), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(missing_file),
      cmocka_unit_test(not_a_shared_object),
      cmocka_unit_test(no_entry_symbol),
      cmocka_unit_test(entry_returns_null),
      cmocka_unit_test(abi_major_mismatch),
      cmocka_unit_test(abi_minor_newer),
      cmocka_unit_test(descriptor_too_small),
      cmocka_unit_test(descriptor_null_operators),
      cmocka_unit_test(descriptor_no_name),
      cmocka_unit_test(descriptor_no_operators),
      cmocka_unit_test(operator_without_type),
      cmocka_unit_test(operator_without_init),
      cmocka_unit_test(operator_without_process),
      cmocka_unit_test(extractor_without_extract_timestamp),
      cmocka_unit_test(operator_struct_too_small),
      cmocka_unit_test(duplicate_operator_type),
      cmocka_unit_test(param_unknown_type),
      cmocka_unit_test(param_struct_too_small),
      cmocka_unit_test(param_enum_without_choices),
      cmocka_unit_test(param_declared_twice),
      cmocka_unit_test(param_table_without_end),
      cmocka_unit_test(tiny_error_buffer),
      cmocka_unit_test(good_plugin_copied),
      cmocka_unit_test(good_plugin_info),
      cmocka_unit_test(params_print_row),
      cmocka_unit_test(resolve_absolute_path),
      cmocka_unit_test(resolve_names_every_path),
      cmocka_unit_test(resolve_order),
      cmocka_unit_test(resolve_ref_ending_in_so),
      cmocka_unit_test(resolve_skips_directories),
      cmocka_unit_test(open_through_plugin_dir),
      cmocka_unit_test(two_copies_load_apart),
      cmocka_unit_test(bare_name_is_in_cwd),
      cmocka_unit_test(exe_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
