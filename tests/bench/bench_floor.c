/* The queries case's floor: an HTTP responder that does nothing a server
 * could skip. One epoll thread reads a request until its blank line and
 * sends a fixed JSON answer the size of weir's: no parsing, no routing, no
 * store, no allocation. Asked at the goal's rate while the stream runs, it
 * tells what the lookups cost this machine whatever the server (the
 * kernel's loopback TCP and the asking clients), so weir's "stream kept"
 * can be read against the best any server could do here. */
/* memmem, accept4: _GNU_SOURCE, set for the whole harness by its CMake file */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

enum { FLOOR_LISTENERS = 2, FLOOR_EVENTS = 16, FLOOR_POLL_MS = 50, FLOOR_CONNS = 64 };

struct bench_floor {
  pthread_t tid;
  int epoll_fd;
  int listen_fd[FLOOR_LISTENERS];
  int port[FLOOR_LISTENERS];
  char answer[FLOOR_LISTENERS][512];
  int answer_len[FLOOR_LISTENERS];
  int conn[FLOOR_CONNS]; /* open connections (0: a free slot), closed at the stop */
  atomic_int stop;
};

/* A connection's epoll tag: the listener it came through (which answer it
 * gets) in the high bits, its fd in the low 32. */
static uint64_t floor_tag(int listener, int fd, int is_listener) {
  return ((uint64_t)(unsigned)listener << 33) | ((uint64_t)(unsigned)is_listener << 32) |
         (uint32_t)fd;
}

static int floor_listen(int *port) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t len = sizeof sa;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 64) ||
      getsockname(fd, (struct sockaddr *)&sa, &len)) {
    close(fd);
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

static void floor_accept(bench_floor_t *f, int listener) {
  int fd = accept4(f->listen_fd[listener], NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  int one = 1, slot = 0;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  while (slot < FLOOR_CONNS && f->conn[slot])
    slot++;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = floor_tag(listener, fd, 0)};
  if (slot == FLOOR_CONNS || epoll_ctl(f->epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
    close(fd);
    return;
  }
  f->conn[slot] = fd;
}

static void floor_close(bench_floor_t *f, int fd) {
  for (int i = 0; i < FLOOR_CONNS; i++)
    if (f->conn[i] == fd)
      f->conn[i] = 0;
  epoll_ctl(f->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
}

/* The clients send one request and wait for its answer, so a read holds at
 * most one request; its blank line may come in a later read. */
static void floor_serve(bench_floor_t *f, int listener, int fd) {
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n <= 0) {
    floor_close(f, fd);
    return;
  }
  if (memmem(buf, (size_t)n, "\r\n\r\n", 4) || memmem(buf, (size_t)n, "\n\r\n", 3))
    send(fd, f->answer[listener], (size_t)f->answer_len[listener], MSG_NOSIGNAL);
}

static void *floor_main(void *arg) {
  bench_floor_t *f = arg;
  struct epoll_event evs[FLOOR_EVENTS];
  while (!atomic_load(&f->stop)) {
    int n = epoll_wait(f->epoll_fd, evs, FLOOR_EVENTS, FLOOR_POLL_MS);
    for (int i = 0; i < n; i++) {
      uint64_t tag = evs[i].data.u64;
      int listener = (int)(tag >> 33), fd = (int)(uint32_t)tag;
      if (tag & ((uint64_t)1 << 32))
        floor_accept(f, listener);
      else
        floor_serve(f, listener, fd);
    }
  }
  return NULL;
}

static void floor_answer(bench_floor_t *f, int listener, const char *served_by) {
  char body[256];
  int blen = snprintf(body, sizeof body,
                      "{\"store\":\"latest\",\"served_by\":\"%s\",\"key\":\"key-00000000\","
                      "\"value\":\"round 0 of key-00000000\",\"partition\":0}",
                      served_by);
  f->answer_len[listener] =
      snprintf(f->answer[listener], sizeof f->answer[listener],
               "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
               blen, body);
}

bench_floor_t *bench_floor_start(const char *local_by, const char *forwarded_by) {
  bench_floor_t *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  const char *by[FLOOR_LISTENERS] = {local_by, forwarded_by};
  int ok = f->epoll_fd >= 0;
  for (int i = 0; i < FLOOR_LISTENERS; i++) {
    f->listen_fd[i] = ok ? floor_listen(&f->port[i]) : -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = floor_tag(i, f->listen_fd[i], 1)};
    ok = ok && f->listen_fd[i] >= 0 &&
         epoll_ctl(f->epoll_fd, EPOLL_CTL_ADD, f->listen_fd[i], &ev) == 0;
    floor_answer(f, i, by[i]);
  }
  if (ok && pthread_create(&f->tid, NULL, floor_main, f) == 0)
    return f;
  for (int i = 0; i < FLOOR_LISTENERS; i++)
    if (f->listen_fd[i] >= 0)
      close(f->listen_fd[i]);
  if (f->epoll_fd >= 0)
    close(f->epoll_fd);
  free(f);
  return NULL;
}

int bench_floor_port(const bench_floor_t *f, int forwarded) {
  return f->port[forwarded ? 1 : 0];
}

void bench_floor_stop(bench_floor_t *f) {
  if (!f)
    return;
  atomic_store(&f->stop, 1);
  pthread_join(f->tid, NULL);
  for (int i = 0; i < FLOOR_CONNS; i++)
    if (f->conn[i])
      close(f->conn[i]);
  for (int i = 0; i < FLOOR_LISTENERS; i++)
    close(f->listen_fd[i]);
  close(f->epoll_fd);
  free(f);
}
