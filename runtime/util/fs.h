/* fs — the directory chores several modules share: state directories, the
 * reload socket's directory, the test driver's temporary stores. */
#ifndef WEIR_UTIL_FS_H
#define WEIR_UTIL_FS_H

/* Create `path` and its missing parents (0755). 0, or -1 with errno set and
 * the component that failed in *failed (a static buffer; may be NULL). */
int weir_mkdir_p(const char *path, const char **failed);

/* Remove `path` and everything under it. 0, also when it does not exist. */
int weir_rm_rf(const char *path);

#endif
