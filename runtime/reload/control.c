#include "reload/control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/pid_lock.h"

enum { DEBOUNCE_MS = 300, MAX_WATCHED = 32 };

struct weir_control {
  weir_reloader_t *reloader;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  int lock_fd; /* flock on <path>.lock: the one instance that owns the socket */
  int listen_fd, inotify_fd, wake[2];
  char watched[MAX_WATCHED][PATH_MAX]; /* the plugin files watched, by full path */
  size_t watched_count;
  pthread_t tid;
  int tid_started;
};

int weir_control_socket_path(const char *state_dir, const char *app_id, char *out, size_t size) {
  size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
  int n = snprintf(out, size, "%s/%s/control.sock", state_dir, app_id);
  return n < 0 || (size_t)n >= size || (size_t)n >= max ? -1 : 0;
}

/* The socket's directory (state.dir/<application.id>); bind says if it failed. */
static void mkdirs_for(const char *path) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    weir_mkdir_p(dir, NULL);
  }
}

/* Several instances of one stateless application may share a state.dir on
 * one host (no store locks it). Only the holder of the lock beside the
 * socket binds it, unlinks a stale one, or removes it on stop; without the
 * lock, two instances unlinked each other's sockets and one failed to start
 * on the race (EADDRINUSE). WEIR_PID_LOCK_HELD when another live process
 * holds it. */
static int take_socket_lock(weir_control_t *c, char *errstr, size_t errstr_size) {
  char lock_path[sizeof c->path + 8];
  long holder;
  snprintf(lock_path, sizeof lock_path, "%s.lock", c->path);
  int rc = weir_pid_lock_take(lock_path, &c->lock_fd, &holder, errstr, errstr_size);
  if (rc == WEIR_PID_LOCK_HELD) {
    char who[32] = "pid unknown"; /* it may not have written its pid yet */
    if (holder)
      snprintf(who, sizeof who, "pid %ld", holder);
    WEIR_WARN("another weir process (%s) of this application already serves `weir reload` at "
              "%s: this one reloads on SIGHUP and on new plugin builds only; give each instance "
              "its own state.dir to reach it by `weir reload`",
              who, c->path);
  }
  return rc;
}

static int open_socket(weir_control_t *c, char *errstr, size_t errstr_size) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", c->path);
  mkdirs_for(c->path);
  int locked = take_socket_lock(c, errstr, errstr_size);
  if (locked != 0)
    return locked < 0 ? -1 : 0;
  unlink(c->path); /* a stale socket of a process that is gone: we hold the lock */
  c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      listen(c->listen_fd, 4) != 0) {
    snprintf(errstr, errstr_size, "cannot listen on %s for `weir reload`: %s", c->path,
             strerror(errno));
    return -1;
  }
  return 0;
}

/* Watch the directories of the loaded plugins' files. */
static void watch_plugins(weir_control_t *c) {
  c->watched_count = weir_reloader_sources(c->reloader, c->watched, MAX_WATCHED);
  c->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  for (size_t i = 0; c->inotify_fd >= 0 && i < c->watched_count; i++) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", c->watched[i]);
    char *slash = strrchr(dir, '/');
    if (slash)
      *slash = '\0';
    if (inotify_add_watch(c->inotify_fd, slash ? dir : ".", IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
      WEIR_WARN("cannot watch %s for new plugin builds: %s; use `weir reload` or SIGHUP", dir,
                strerror(errno));
  }
}

/* Whether the events name a watched plugin file. */
static int plugin_event(weir_control_t *c) {
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  int hit = 0;
  ssize_t n;
  while ((n = read(c->inotify_fd, buf, sizeof buf)) > 0)
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      for (size_t i = 0; ev->len && i < c->watched_count; i++) {
        const char *base = strrchr(c->watched[i], '/');
        hit |= strcmp(base ? base + 1 : c->watched[i], ev->name) == 0;
      }
      p += sizeof *ev + ev->len;
    }
  return hit;
}

static void serve_client(weir_control_t *c) {
  char line[64] = "", report[1024], reply[1100];
  int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t n = read(fd, line, sizeof line - 1);
  if (n > 0 && strncmp(line, "reload", 6) == 0) {
    int rc = weir_reloader_run(c->reloader, "weir reload", report, sizeof report);
    snprintf(reply, sizeof reply, "%s: %s\n", rc == 0 ? "ok" : "error", report);
  } else {
    snprintf(reply, sizeof reply, "error: unknown request (expected \"reload\")\n");
  }
  if (write(fd, reply, strlen(reply)) < 0)
    WEIR_DEBUG("control: the client left before the answer");
  close(fd);
}

static void *control_main(void *arg) {
  weir_control_t *c = arg;
  int64_t due = -1; /* when a debounced plugin change is acted on */
  for (;;) {
    struct pollfd fds[3] = {
        {c->wake[0], POLLIN, 0}, {c->listen_fd, POLLIN, 0}, {c->inotify_fd, POLLIN, 0}};
    int timeout = due < 0 ? -1 : (int)(due > weir_now_ms() ? due - weir_now_ms() : 0);
    if (poll(fds, c->inotify_fd >= 0 ? 3 : 2, timeout) < 0 && errno != EINTR)
      break;
    if (fds[0].revents)
      break;
    if (fds[1].revents & POLLIN)
      serve_client(c);
    if (c->inotify_fd >= 0 && (fds[2].revents & POLLIN) && plugin_event(c))
      due = weir_now_ms() + DEBOUNCE_MS; /* more writes may follow: wait for quiet */
    if (due >= 0 && weir_now_ms() >= due) {
      char report[1024];
      due = -1;
      weir_reloader_run(c->reloader, "a plugin file changed", report, sizeof report);
    }
  }
  return NULL;
}

weir_control_t *weir_control_start(weir_reloader_t *r, const char *socket_path, char *errstr,
                                   size_t errstr_size) {
  weir_control_t *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->reloader = r;
  c->lock_fd = c->listen_fd = c->inotify_fd = c->wake[0] = c->wake[1] = -1;
  snprintf(c->path, sizeof c->path, "%s", socket_path);
  if (pipe2(c->wake, O_CLOEXEC) != 0 || open_socket(c, errstr, errstr_size)) {
    weir_control_stop(c);
    return NULL;
  }
  watch_plugins(c);
  if (pthread_create(&c->tid, NULL, control_main, c) != 0) {
    snprintf(errstr, errstr_size, "cannot start the reload service thread");
    weir_control_stop(c);
    return NULL;
  }
  c->tid_started = 1;
  return c;
}

void weir_control_stop(weir_control_t *c) {
  if (!c)
    return;
  if (c->tid_started) {
    if (write(c->wake[1], "x", 1) < 0)
      WEIR_WARN("control: cannot wake the reload service thread");
    pthread_join(c->tid, NULL);
  }
  for (int i = 0; i < 2; i++)
    if (c->wake[i] >= 0)
      close(c->wake[i]);
  if (c->listen_fd >= 0) {
    close(c->listen_fd);
    unlink(c->path); /* ours: only the lock holder binds */
  }
  if (c->lock_fd >= 0)
    close(c->lock_fd); /* releases the flock */
  if (c->inotify_fd >= 0)
    close(c->inotify_fd);
  free(c);
}

int weir_control_request(const char *socket_path, char *report, size_t report_size) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    snprintf(report, report_size,
             "error: no weir instance listens on %s (%s): is it running, with this INI file and "
             "the same state.dir?\n",
             socket_path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return 1;
  }
  size_t used = 0;
  ssize_t n = write(fd, "reload\n", 7);
  while (n >= 0 && used + 1 < report_size &&
         (n = read(fd, report + used, report_size - 1 - used)) > 0)
    used += (size_t)n;
  report[used] = '\0';
  close(fd);
  return strncmp(report, "ok: ", 4) == 0 ? 0 : 1;
}
