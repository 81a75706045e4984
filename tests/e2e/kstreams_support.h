/* kstreams_support — what the differential tests against Kafka Streams
 * (test_window_kstreams, test_join_kstreams) share: the skip banner, weir's
 * INI from a template of @NAME@ fields, the Kafka Streams app's build
 * (tests/kstreams/kstreams.sh), and noticing a contender that exited. */
#ifndef WEIR_E2E_KSTREAMS_SUPPORT_H
#define WEIR_E2E_KSTREAMS_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "e2e.h"

/* The Kafka Streams side's build-and-run script. */
__attribute__((unused)) static const char ks_script[] =
    WEIR_TEST_SOURCE_DIR "/tests/kstreams/kstreams.sh";

/* The banner CTest's skip code goes with; returns that code (77). */
__attribute__((unused)) static int ks_skipped(const char *what, const char *why) {
  printf("######################################################################\n"
         "# SKIPPED: %s against Kafka Streams: %s\n"
         "######################################################################\n",
         what, why);
  return 77;
}

typedef struct ks_subst {
  const char *name, *value;
} ks_subst_t;

/* Copy template_path to path, each @NAME@ of subs[] replaced by its value. */
__attribute__((unused)) static void ks_write_ini(const char *template_path, const char *path,
                                                 const ks_subst_t *subs, size_t n) {
  FILE *t = fopen(template_path, "r"), *f = fopen(path, "w");
  char line[1024];
  assert_non_null(t);
  assert_non_null(f);
  while (fgets(line, sizeof line, t)) {
    for (char *at = line; (at = strchr(at, '@'));) {
      size_t i = 0;
      while (i < n && strncmp(at + 1, subs[i].name, strlen(subs[i].name)) != 0)
        i++;
      if (i == n || at[1 + strlen(subs[i].name)] != '@') {
        at++;
        continue;
      }
      fwrite(line, 1, (size_t)(at - line), f);
      fputs(subs[i].value, f);
      memmove(line, at + strlen(subs[i].name) + 2, strlen(at + strlen(subs[i].name) + 2) + 1);
      at = line;
    }
    fputs(line, f);
  }
  fclose(t);
  fclose(f);
}

/* Build (or find up to date) the Kafka Streams app into out_dir; its
 * output goes to build_log, shown if the build fails. */
__attribute__((unused)) static void ks_build(const char *out_dir, const char *build_log,
                                             int wait_ms, const char *tag) {
  char *argv[] = {(char *)ks_script, "build", NULL};
  long long t0 = e2e_now_ms();
  setenv("WEIR_KSTREAMS_OUT", out_dir, 1);
  proc_t p = proc_start(argv, 0, build_log);
  int rc = proc_wait(&p, wait_ms);
  if (rc != 0)
    e2e_dump_log(build_log);
  assert_int_equal(rc, 0);
  fprintf(stderr, "%s: app built (or up to date) in %lld ms\n", tag, e2e_now_ms() - t0);
}

/* 1 while p runs; once it has exited, says so (with its status) and 0. */
__attribute__((unused)) static int ks_still_running(proc_t *p, const char *tag, const char *name) {
  int status;
  if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == p->pid) {
    fprintf(stderr, "%s: %s exited (status %d) before processing its input\n", tag, name,
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    p->pid = -1;
  }
  return p->pid > 0;
}

#endif
