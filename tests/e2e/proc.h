/* Child processes for the end-to-end tests: start `weir` commands, read
 * their first line, signal them, and wait with a deadline. Everything a test
 * starts, it stops. */
#ifndef WEIR_TESTS_PROC_H
#define WEIR_TESTS_PROC_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct proc {
  pid_t pid;
  int out_fd; /* the child's stdout, or -1 */
} proc_t;

/* Every child started, so that what a failed assertion left running is
 * killed before the test's directory goes. */
enum { PROC_MAX_STARTED = 64 };
static pid_t proc_started[PROC_MAX_STARTED];
static int proc_started_n;

/* SIGKILL and reap the children still running. A reaped child's pid is
 * skipped (waitpid fails with ECHILD), so no reused pid is signalled. */
__attribute__((unused)) static void proc_kill_all(void) {
  for (int i = 0; i < proc_started_n; i++) {
    int status;
    if (waitpid(proc_started[i], &status, WNOHANG) == 0) {
      kill(proc_started[i], SIGKILL);
      waitpid(proc_started[i], &status, 0);
    }
  }
  proc_started_n = 0;
}

/* Start argv[0] with stdout on a pipe (when capture) and stderr to `log`
 * (appended; NULL = inherited). */
__attribute__((unused)) static proc_t proc_start(char *const argv[], int capture, const char *log) {
  proc_t p = {-1, -1};
  int fds[2] = {-1, -1};
  if (capture && pipe(fds))
    return p;
  p.pid = fork();
  if (p.pid == 0) {
    /* Dies with the test, even when ctest kills the test on a timeout. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (capture) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
    }
    if (log) {
      int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0)
        dup2(fd, 2);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  if (capture) {
    close(fds[1]);
    p.out_fd = fds[0];
  }
  if (p.pid > 0 && proc_started_n < PROC_MAX_STARTED)
    proc_started[proc_started_n++] = p.pid;
  return p;
}

/* Read the child's first stdout line (up to timeout_ms). */
__attribute__((unused)) static int proc_read_line(proc_t *p, char *buf, size_t size,
                                                  int timeout_ms) {
  size_t n = 0;
  long long waited = 0;
  fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
  while (n + 1 < size && waited < timeout_ms) {
    ssize_t r = read(p->out_fd, buf + n, 1);
    if (r == 1) {
      if (buf[n] == '\n')
        break;
      n++;
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      break;
    } else {
      usleep(10000);
      waited += 10;
    }
  }
  buf[n] = '\0';
  return n > 0 ? 0 : -1;
}

/* Wait for exit up to timeout_ms: the exit status (0..255, 128+signal), or
 * -1 when it did not exit (then it is killed with SIGKILL and reaped). */
__attribute__((unused)) static int proc_wait(proc_t *p, int timeout_ms) {
  int status;
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
      if (p->out_fd >= 0)
        close(p->out_fd);
      p->out_fd = -1;
      p->pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    usleep(20000);
  }
  kill(p->pid, SIGKILL);
  waitpid(p->pid, &status, 0);
  p->pid = -1;
  return -1;
}

__attribute__((unused)) static int proc_stop(proc_t *p, int sig, int timeout_ms) {
  if (p->pid <= 0)
    return -1;
  kill(p->pid, sig);
  return proc_wait(p, timeout_ms);
}

#endif
