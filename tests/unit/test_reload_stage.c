/* The directory a reload stages plugin copies in: fresh (mkdtemp), private
 * (a directory, not a symlink, ours, mode 0700) or refused; never the old
 * predictable $TMPDIR/weir-<pid>-staged that another user could create
 * first; removed with the reloader. */
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

#include "config/config.h"
#include "reload/reload.h"
#include "reload/stage.h"
#include "reload/swap.h"
#include "support/tmpdir.h"
#include "topology/topology.h"
#include "util/fs.h"

/* Each test's own directory made the process's TMPDIR while the test
 * runs; the caller's is put back. */
static weir_test_tmpenv_t env;

static int setup(void **state) {
  (void)state;
  return weir_test_tmpenv_enter(&env, "weir-test-stage");
}

static int teardown(void **state) {
  (void)state;
  return weir_test_tmpenv_leave(&env);
}

static void make_dir(const char *path, mode_t mode) {
  assert_int_equal(mkdir(path, 0700), 0);
  assert_int_equal(chmod(path, mode), 0); /* whatever the umask */
}

static void expect_refused(const char *path, const char *needle) {
  char err[512] = "";
  assert_int_equal(weir_stage_dir_check(path, err, sizeof err), -1);
  if (!strstr(err, needle) || !strstr(err, path) || strchr(err, '\n'))
    fail_msg("expected one line naming %s and \"%s\", got: %s", path, needle, err);
}

static void test_foreign_mode_refused(void **state) {
  (void)state;
  char path[600];
  snprintf(path, sizeof path, "%s/open", env.path);
  make_dir(path, 0755);
  expect_refused(path, "mode 0755, not 0700");
  assert_int_equal(chmod(path, 0777), 0);
  expect_refused(path, "mode 0777, not 0700");
  assert_int_equal(chmod(path, 0700), 0);
  char err[512];
  assert_int_equal(weir_stage_dir_check(path, err, sizeof err), 0);
}

static void test_symlink_and_file_refused(void **state) {
  (void)state;
  char real[600], link[600], file[600];
  snprintf(real, sizeof real, "%s/real", env.path);
  snprintf(link, sizeof link, "%s/link", env.path);
  snprintf(file, sizeof file, "%s/file", env.path);
  make_dir(real, 0700);
  assert_int_equal(symlink(real, link), 0);
  expect_refused(link, "is a symbolic link");
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fclose(f);
  expect_refused(file, "is not a directory");
  expect_refused("/nonexistent/weir-staged-x", "No such file");
}

static void test_fresh_dir_created(void **state) {
  (void)state;
  char a[600], b[600], err[512], prefix[600];
  struct stat st;
  assert_int_equal(weir_stage_dir_create(a, sizeof a, err, sizeof err), 0);
  assert_int_equal(weir_stage_dir_create(b, sizeof b, err, sizeof err), 0);
  assert_string_not_equal(a, b); /* never the same name twice */
  snprintf(prefix, sizeof prefix, "%s/weir-staged-", env.path);
  assert_memory_equal(a, prefix, strlen(prefix));
  assert_int_equal(lstat(a, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0700);
  assert_int_equal(st.st_uid, geteuid());
}

/* Through the reloader: a directory at the old predictable name, left
 * open by another user, is neither used nor removed; the staged copies go
 * to a fresh private one, which goes with the reloader; a staging
 * directory whose mode was opened meanwhile refuses the next reload. */
static void test_reloader_stages_privately(void **state) {
  (void)state;
  char ini[1024], path[600], predictable[600], err[512], report[1024];
  struct stat st;
  snprintf(predictable, sizeof predictable, "%s/weir-%d-staged", env.path, (int)getpid());
  make_dir(predictable, 0777);
  snprintf(path, sizeof path, "%s/t.ini", env.path);
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = stage\nbootstrap.servers = embedded\nplugin.dir = %s\n"
           "[source:in]\ntopic = in\n[operator:f]\nplugin = std\ntype = filter\ninput = in\n"
           "pattern = a\n[sink:out]\ninput = f\ntopic = out\n",
           WEIR_TEST_PLUGIN_DIR);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(ini, f);
  fclose(f);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  weir_topology_t *t = cfg ? weir_topology_build(cfg, NULL, &d) : NULL;
  weir_diag_print(&d, stderr);
  assert_non_null(t);
  weir_swap_t swap;
  assert_int_equal(weir_swap_init(&swap, t), 0);
  weir_reloader_t *r = weir_reloader_new(t, NULL, 0, &swap, NULL, err, sizeof err);
  assert_non_null(r);

  assert_int_equal(weir_reloader_run(r, "test", report, sizeof report), 0);
  assert_non_null(strstr(report, "nothing changed"));
  char staged[600];
  snprintf(staged, sizeof staged, "%s", weir_reloader_stage_dir(r));
  assert_int_equal(strncmp(staged, env.path, strlen(env.path)), 0);
  assert_non_null(strstr(staged, "/weir-staged-"));
  assert_int_equal(lstat(staged, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0700);

  assert_int_equal(chmod(staged, 0755), 0);
  assert_int_equal(weir_reloader_run(r, "test", report, sizeof report), -1);
  assert_non_null(strstr(report, "mode 0755, not 0700"));
  assert_int_equal(chmod(staged, 0700), 0);

  weir_reloader_free(r);
  weir_swap_destroy(&swap);
  assert_int_not_equal(lstat(staged, &st), 0);  /* ours: removed */
  assert_int_equal(lstat(predictable, &st), 0); /* theirs: untouched */
  assert_int_equal(st.st_mode & 07777, 0777);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_foreign_mode_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_and_file_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fresh_dir_created, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reloader_stages_privately, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
