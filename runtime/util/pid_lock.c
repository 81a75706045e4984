#include "util/pid_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/log.h"

static long read_holder(int fd) {
  char buf[32] = {0};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
  return pid > 0 ? pid : 0;
}

int weir_pid_lock_take(const char *path, int *fd, long *holder, char *errstr, size_t errstr_size) {
  *holder = 0;
  *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (*fd < 0) {
    snprintf(errstr, errstr_size, "cannot open lock file %s: %s", path, strerror(errno));
    return WEIR_PID_LOCK_ERROR;
  }
  if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    *holder = read_holder(*fd);
    close(*fd);
    *fd = -1;
    return WEIR_PID_LOCK_HELD;
  }
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  /* The pid is only a hint for the refused process's message: failing to write it is harmless. */
  if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)n, 0) < 0)
    WEIR_DEBUG("cannot write pid to %s: %s", path, strerror(errno));
  return WEIR_PID_LOCK_TAKEN;
}
