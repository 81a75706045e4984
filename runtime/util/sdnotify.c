#include "util/sdnotify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"

#define MAX_THREADS 1024

static _Atomic int64_t last_beat[MAX_THREADS];
static atomic_int ready[MAX_THREADS], assigned[MAX_THREADS];
static atomic_int stop_watch;
static pthread_t watcher;
static int watching, watched_threads;

int weir_sd_notify(const char *state) {
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  size_t len = path ? strlen(path) : 0;
  if (!len)
    return 0;
  if (len >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@'))
    return -1;
  memcpy(addr.sun_path, path, len);
  if (path[0] == '@') /* an abstract socket: a leading NUL, not '@' */
    addr.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, alen);
  close(fd);
  return sent < 0 ? -1 : 0;
}

void weir_sd_beat(int index, int is_ready) {
  if (index < 0 || index >= MAX_THREADS)
    return;
  atomic_store_explicit(&last_beat[index], weir_now_ms(), memory_order_relaxed);
  atomic_store_explicit(&ready[index], is_ready, memory_order_relaxed);
}

void weir_sd_assigned(int index) {
  if (index < 0 || index >= MAX_THREADS)
    return;
  /* Ready again only after a turn that saw this assignment's restores. */
  atomic_store(&ready[index], 0);
  atomic_store(&assigned[index], 1);
}

static int all_ready(void) {
  for (int i = 0; i < watched_threads; i++)
    if (!atomic_load(&assigned[i]) || !atomic_load(&ready[i]))
      return 0;
  return 1;
}

/* The thread whose loop turned longest ago, or -1 when all are fresh. */
static int stuck_thread(int64_t limit_ms) {
  int64_t now = weir_now_ms();
  for (int i = 0; i < watched_threads; i++)
    if (now - atomic_load(&last_beat[i]) > limit_ms)
      return i;
  return -1;
}

/* systemd names the process the watchdog is for; another's is not ours. */
static int64_t watchdog_ms(void) {
  const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
  if (!usec || (pid && atol(pid) != (long)getpid()))
    return 0;
  long long v = atoll(usec);
  return v > 0 ? (v + 999) / 1000 : 0;
}

static void *watch(void *arg) {
  int64_t dog = watchdog_ms(), last_ping = 0;
  int sent_ready = 0, stuck_logged = -1;
  struct timespec tick = {0, 50 * 1000000L};
  weir_log_set_thread_name("weir-sdnotify");
  while (!atomic_load(&stop_watch)) {
    if (!sent_ready && all_ready()) {
      weir_sd_notify("READY=1\nSTATUS=every task is running");
      WEIR_INFO("systemd: READY=1 (every stream thread has its tasks)");
      sent_ready = 1;
    }
    if (dog && weir_now_ms() - last_ping >= dog / 2) {
      int stuck = stuck_thread(dog);
      if (stuck < 0) {
        weir_sd_notify("WATCHDOG=1");
        last_ping = weir_now_ms();
      } else if (stuck != stuck_logged) {
        WEIR_ERROR("systemd: stream thread %d has not turned its loop for %lld ms: no more "
                   "watchdog pings, so systemd restarts weir",
                   stuck, (long long)dog);
        stuck_logged = stuck;
      }
    }
    nanosleep(&tick, NULL);
  }
  return NULL;
}

int weir_sd_watch_start(int threads) {
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path || !*path || watching)
    return 0;
  watched_threads = threads < MAX_THREADS ? threads : MAX_THREADS;
  int64_t now = weir_now_ms();
  for (int i = 0; i < watched_threads; i++)
    atomic_store(&last_beat[i], now);
  atomic_store(&stop_watch, 0);
  if (pthread_create(&watcher, NULL, watch, NULL))
    return -1;
  watching = 1;
  return 0;
}

void weir_sd_watch_stop(void) {
  weir_sd_notify("STOPPING=1");
  if (!watching)
    return;
  atomic_store(&stop_watch, 1);
  pthread_join(watcher, NULL);
  watching = 0;
}
