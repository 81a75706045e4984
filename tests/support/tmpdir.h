/* tmpdir — a test's own fresh directory under $TMPDIR (else /tmp), where
 * weir puts its own files too, so a run with TMPDIR set keeps everything
 * there and parallel runs never meet.
 *
 * Usage:
 *   char dir[512];
 *   if (!weir_test_tmpdir(dir, sizeof dir, "weir-kv")) ...   // made, mode 0700
 *   ...
 *   weir_rm_rf(dir);
 *
 *   weir_test_tmpenv_t env;                // the directory made the TMPDIR
 *   weir_test_tmpenv_enter(&env, "weir-it");   // (cmocka setup)
 *   weir_test_tmpenv_leave(&env);          // the caller's back, removed
 */
#ifndef WEIR_TESTS_SUPPORT_TMPDIR_H
#define WEIR_TESTS_SUPPORT_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"

/* mkdtemp of <TMPDIR>/<name>-XXXXXX into buf: buf, or NULL when it could
 * not be made. */
static inline char *weir_test_tmpdir(char *buf, size_t size, const char *name) {
  const char *base = getenv("TMPDIR");
  snprintf(buf, size, "%s/%s-XXXXXX", base && *base ? base : "/tmp", name);
  return mkdtemp(buf);
}

/* A fresh directory made the process's TMPDIR while a test runs. */
typedef struct weir_test_tmpenv {
  char path[512];
  char *saved; /* the TMPDIR before, or NULL */
} weir_test_tmpenv_t;

static inline int weir_test_tmpenv_enter(weir_test_tmpenv_t *env, const char *name) {
  const char *base = getenv("TMPDIR");
  env->saved = base ? strdup(base) : NULL;
  if (!weir_test_tmpdir(env->path, sizeof env->path, name))
    return -1;
  return setenv("TMPDIR", env->path, 1);
}

/* Puts the caller's TMPDIR back and removes the directory: 0, or -1 when
 * it could not be removed. */
static inline int weir_test_tmpenv_leave(weir_test_tmpenv_t *env) {
  if (env->saved)
    setenv("TMPDIR", env->saved, 1);
  else
    unsetenv("TMPDIR");
  free(env->saved);
  env->saved = NULL;
  return weir_rm_rf(env->path);
}

#endif
