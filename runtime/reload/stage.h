/* stage — the private directory a reload stages its plugin copies in.
 *
 * A staged copy is written, then dlopen()ed: anyone who can write to its
 * directory in between can swap the code weir runs. So the directory is
 * created fresh by mkdtemp ($TMPDIR/weir-staged-XXXXXX, never a name another
 * user can guess and create first) and checked before every use: a real
 * directory (lstat: not a symlink), owned by weir's user, mode 0700.
 */
#ifndef WEIR_RELOAD_STAGE_H
#define WEIR_RELOAD_STAGE_H

#include <stddef.h>

/* Create a fresh staging directory under $TMPDIR (else /tmp) into `out`.
 * 0, or -1 with one line in errstr. */
int weir_stage_dir_create(char *out, size_t out_size, char *errstr, size_t errstr_size);

/* 0 when `path` is a directory (not a symlink) owned by this process's
 * user with mode 0700; else -1 with one line in errstr saying why. */
int weir_stage_dir_check(const char *path, char *errstr, size_t errstr_size);

#endif
