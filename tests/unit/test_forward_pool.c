/* Forwarding keeps its connections to an owner open between queries, and a
 * kept connection the owner closed meanwhile (its idle limit, a restart)
 * costs a retry, never a failed query. The owner here is a small fake that
 * answers each request with how many it has answered and counts the
 * connections it accepted; how it ends an answer (Content-Length or close)
 * and whether it hangs up after each is set by each test. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/forward.h"

enum { POLL_MS = 100 };

typedef struct owner {
  pthread_t tid;
  int listen_fd, port;
  int hang_up;   /* close each connection after one answer (no notice given) */
  int no_length; /* answers carry no Content-Length: they end at the close */
  atomic_int stop, accepted, answered;
  char reading[2048];
  pthread_mutex_t mu;      /* guards last_request */
  char last_request[2048]; /* the last whole request head */
} owner_t;

/* Read one request head; 0, or -1 when the client closed or `stop`. */
static int read_request(owner_t *o, int fd) {
  size_t got = 0;
  o->reading[0] = '\0';
  while (!strstr(o->reading, "\r\n\r\n")) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (atomic_load(&o->stop))
      return -1;
    if (poll(&p, 1, POLL_MS) != 1)
      continue;
    ssize_t n = recv(fd, o->reading + got, sizeof o->reading - 1 - got, 0);
    if (n <= 0)
      return -1;
    got += (size_t)n;
    o->reading[got] = '\0';
  }
  pthread_mutex_lock(&o->mu);
  memcpy(o->last_request, o->reading, got + 1);
  pthread_mutex_unlock(&o->mu);
  return 0;
}

static void answer(owner_t *o, int fd) {
  char body[64], msg[256];
  int n = atomic_fetch_add(&o->answered, 1) + 1;
  int len = snprintf(body, sizeof body, "{\"n\":%d}", n);
  int m = o->no_length
              ? snprintf(msg, sizeof msg,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n%s", body)
              : snprintf(msg, sizeof msg,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: %d\r\n\r\n%s",
                         len, body);
  assert_int_equal(send(fd, msg, (size_t)m, MSG_NOSIGNAL), m);
}

static void *owner_main(void *arg) {
  owner_t *o = arg;
  while (!atomic_load(&o->stop)) {
    struct pollfd p = {.fd = o->listen_fd, .events = POLLIN};
    if (poll(&p, 1, POLL_MS) != 1)
      continue;
    int fd = accept(o->listen_fd, NULL, NULL);
    if (fd < 0)
      continue;
    atomic_fetch_add(&o->accepted, 1);
    while (read_request(o, fd) == 0) {
      answer(o, fd);
      if (o->hang_up || o->no_length)
        break;
    }
    close(fd);
  }
  return NULL;
}

static owner_t *owner_start(int hang_up, int no_length) {
  owner_t *o = calloc(1, sizeof *o);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t len = sizeof sa;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_non_null(o);
  pthread_mutex_init(&o->mu, NULL);
  o->hang_up = hang_up;
  o->no_length = no_length;
  o->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(o->listen_fd >= 0);
  assert_int_equal(bind(o->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(o->listen_fd, 8), 0);
  assert_int_equal(getsockname(o->listen_fd, (struct sockaddr *)&sa, &len), 0);
  o->port = ntohs(sa.sin_port);
  assert_int_equal(pthread_create(&o->tid, NULL, owner_main, o), 0);
  return o;
}

static void owner_stop(owner_t *o) {
  atomic_store(&o->stop, 1);
  pthread_join(o->tid, NULL);
  close(o->listen_fd);
  pthread_mutex_destroy(&o->mu);
  free(o);
}

/* The last whole request the owner read, copied. */
static const char *owner_request(owner_t *o) {
  static char copy[2048];
  pthread_mutex_lock(&o->mu);
  memcpy(copy, o->last_request, sizeof copy);
  pthread_mutex_unlock(&o->mu);
  return copy;
}

/* One forwarded GET; its body into `body`, its status returned. */
static int forward(weir_forward_pool_t *pool, const owner_t *o, char *body, size_t size) {
  char addr[64];
  weir_http_resp_t r = {.status = 200};
  snprintf(addr, sizeof addr, "127.0.0.1:%d", o->port);
  weir_forward_get(pool, addr, "/v1/stores/s/keys/k", NULL, "127.0.0.1:1", &r);
  snprintf(body, size, "%s", r.body.data ? r.body.data : "");
  weir_out_free(&r.body);
  return r.status;
}

/* Five forwarded GETs, answered 1 to 5 in turn. */
static void forward_five(weir_forward_pool_t *pool, const owner_t *o) {
  char body[128], want[32];
  for (int i = 1; i <= 5; i++) {
    snprintf(want, sizeof want, "{\"n\":%d}", i);
    assert_int_equal(forward(pool, o, body, sizeof body), 200);
    assert_string_equal(body, want);
  }
}

static void kept_connection_carries_every_query(void **state) {
  (void)state;
  owner_t *o = owner_start(0, 0);
  weir_forward_pool_t *pool = weir_forward_pool_new();
  forward_five(pool, o);
  assert_int_equal(atomic_load(&o->accepted), 1);
  assert_null(strcasestr(owner_request(o), "Connection: close"));
  assert_non_null(strstr(owner_request(o), WEIR_FORWARD_HEADER ": 127.0.0.1:1\r\n"));
  weir_forward_pool_free(pool);
  owner_stop(o);
}

/* The owner hangs up after every answer, without saying so: each next
 * query finds its kept connection closed and goes again on a new one. */
static void closed_kept_connection_is_retried(void **state) {
  (void)state;
  owner_t *o = owner_start(1, 0);
  weir_forward_pool_t *pool = weir_forward_pool_new();
  forward_five(pool, o);
  assert_int_equal(atomic_load(&o->answered), 5);
  assert_int_equal(atomic_load(&o->accepted), 5);
  weir_forward_pool_free(pool);
  owner_stop(o);
}

/* An answer with no length ends at the close, and that connection is not
 * kept. */
static void answer_without_length_reads_to_close(void **state) {
  (void)state;
  char body[128];
  owner_t *o = owner_start(0, 1);
  weir_forward_pool_t *pool = weir_forward_pool_new();
  assert_int_equal(forward(pool, o, body, sizeof body), 200);
  assert_string_equal(body, "{\"n\":1}");
  assert_int_equal(forward(pool, o, body, sizeof body), 200);
  assert_string_equal(body, "{\"n\":2}");
  assert_int_equal(atomic_load(&o->accepted), 2);
  weir_forward_pool_free(pool);
  owner_stop(o);
}

/* No pool: a connection per query, and the owner is told to close it. */
static void without_pool_each_query_closes(void **state) {
  (void)state;
  char body[128];
  owner_t *o = owner_start(0, 0);
  assert_int_equal(forward(NULL, o, body, sizeof body), 200);
  assert_int_equal(forward(NULL, o, body, sizeof body), 200);
  assert_string_equal(body, "{\"n\":2}");
  assert_non_null(strcasestr(owner_request(o), "Connection: close"));
  owner_stop(o);
}

/* Nobody listening: a 502 that names the owner, with Retry-After. */
static void owner_away_is_502(void **state) {
  (void)state;
  char body[256];
  owner_t *o = owner_start(0, 0);
  weir_forward_pool_t *pool = weir_forward_pool_new();
  int port = o->port;
  owner_stop(o); /* its port now refuses */
  weir_http_resp_t r = {.status = 200};
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
  weir_forward_get(pool, addr, "/v1/stores/s/keys/k", NULL, NULL, &r);
  assert_int_equal(r.status, 502);
  assert_int_equal(r.retry_after, 1);
  snprintf(body, sizeof body, "%s", r.body.data);
  assert_non_null(strstr(body, addr));
  weir_out_free(&r.body);
  weir_forward_pool_free(pool);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(kept_connection_carries_every_query),
      cmocka_unit_test(closed_kept_connection_is_retried),
      cmocka_unit_test(answer_without_length_reads_to_close),
      cmocka_unit_test(without_pool_each_query_closes),
      cmocka_unit_test(owner_away_is_502),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
