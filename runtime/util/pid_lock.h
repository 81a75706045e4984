/* pid_lock — a lock file that keeps a second process out: an exclusive,
 * non-blocking flock on PATH, released when the process ends however it
 * ends (kill -9 included), with the holder's pid written in it so the
 * process refused can say who holds it. Used for the state directory
 * (state_db) and for the `weir reload` socket (control). */
#ifndef WEIR_UTIL_PID_LOCK_H
#define WEIR_UTIL_PID_LOCK_H

#include <stddef.h>

enum { WEIR_PID_LOCK_TAKEN = 0, WEIR_PID_LOCK_HELD = 1, WEIR_PID_LOCK_ERROR = -1 };

/* Take the lock at `path` (created 0644 when missing).
 * WEIR_PID_LOCK_TAKEN: *fd is the lock (close it to release).
 * WEIR_PID_LOCK_HELD: another live process holds it; *holder is its pid
 *   (0 when unknown), *fd is -1.
 * WEIR_PID_LOCK_ERROR: the file cannot be opened; errstr says why (one
 *   line naming the path), *fd is -1. */
int weir_pid_lock_take(const char *path, int *fd, long *holder, char *errstr, size_t errstr_size);

#endif
