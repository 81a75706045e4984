#include "reload/stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int weir_stage_dir_create(char *out, size_t out_size, char *errstr, size_t errstr_size) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !tmp[0])
    tmp = "/tmp";
  int n = snprintf(out, out_size, "%s/weir-staged-XXXXXX", tmp);
  if (n < 0 || (size_t)n >= out_size) {
    snprintf(errstr, errstr_size,
             "cannot stage plugins: TMPDIR %s is too long (set a shorter TMPDIR)", tmp);
    return -1;
  }
  if (!mkdtemp(out)) {
    snprintf(errstr, errstr_size,
             "cannot create a directory for staged plugins under %s: %s (set TMPDIR to a "
             "writable directory)",
             tmp, strerror(errno));
    return -1;
  }
  return weir_stage_dir_check(out, errstr, errstr_size);
}

int weir_stage_dir_check(const char *path, char *errstr, size_t errstr_size) {
  struct stat st;
  const char *why = NULL;
  if (lstat(path, &st) != 0) {
    snprintf(errstr, errstr_size, "staging directory %s: %s; refusing to stage plugins", path,
             strerror(errno));
    return -1;
  }
  if (S_ISLNK(st.st_mode))
    why = "is a symbolic link";
  else if (!S_ISDIR(st.st_mode))
    why = "is not a directory";
  else if (st.st_uid != geteuid())
    why = "is owned by another user";
  if (why) {
    snprintf(errstr, errstr_size,
             "staging directory %s %s; refusing to stage plugins there (another user could "
             "replace a plugin before it is loaded)",
             path, why);
    return -1;
  }
  if ((st.st_mode & 07777) != 0700) {
    snprintf(errstr, errstr_size,
             "staging directory %s has mode %04o, not 0700; refusing to stage plugins there "
             "(another user could replace a plugin before it is loaded)",
             path, (unsigned)(st.st_mode & 07777));
    return -1;
  }
  return 0;
}
