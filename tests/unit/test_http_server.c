/* The HTTP server on its own: a hand-made ownership table and RocksDB rows,
 * no broker, so every state (a partition running, restoring, elsewhere) is
 * set by the test. Queries, paging, the token, the bounds and the JSON
 * errors are checked through a real socket. */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/directory.h"
#include "http/server.h"
#include "serde/serde.h"
#include "support/http_client.h"
#include "support/state_fixture.h"

#define PARTS 4
#define KEYS 50

static const char ini_fmt[] =
    "[weir]\napplication.id = hs\nbootstrap.servers = embedded\nhttp.listen = %s\n%s"
    "[source:in]\ntopic = in\nkey.serde = string\n"
    "[operator:count]\nplugin = std\ntype = count\ninput = in\nstore = counts\n"
    "[store:counts]\ntype = kv\nkey.serde = string\nvalue.serde = int64\n"
    "[sink:out]\ninput = count\ntopic = out\nvalue.serde = int64\n";

typedef struct fixture {
  weir_test_db_t db;
  weir_topology_t *topo;
  weir_ownership_t *owners;
  weir_http_t *http;
  int port;
} fixture_t;

static unsigned long long processed(void *app) {
  (void)app;
  return 12345;
}

static weir_topology_t *topology(const char *listen, const char *extra, weir_diag_t *d) {
  char ini[2048], set[600];
  snprintf(ini, sizeof ini, ini_fmt, listen, extra);
  weir_cfg_t *cfg = weir_cfg_load_string("hs.ini", ini, d);
  snprintf(set, sizeof set, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  weir_cfg_override(cfg, set, d);
  weir_topology_t *t = d->count ? NULL : weir_topology_build(cfg, NULL, d);
  weir_cfg_free(cfg);
  return t;
}

static int32_t partition_of(const char *key) {
  return rd_kafka_msg_partitioner_murmur2_random(NULL, key, strlen(key), PARTS, NULL, NULL);
}

/* k00..k49 = 0..49, each in its key's partition. */
static void fill(weir_state_db_t *db) {
  char key[8], err[256];
  unsigned char v[8];
  weir_state_batch_t *b = weir_state_batch_new();
  for (int i = 0; i < KEYS; i++) {
    snprintf(key, sizeof key, "k%02d", i);
    weir_int64_encode(i, v);
    weir_state_batch_put(b, "counts", partition_of(key), key, strlen(key), v, 8);
  }
  assert_int_equal(weir_state_batch_write(db, b, err, sizeof err), 0);
  weir_state_batch_free(b);
}

static void start_with(fixture_t *f, const char *extra, struct weir_directory *dir) {
  char err[512];
  weir_diag_t d = {0};
  int32_t parts[1] = {PARTS};
  memset(f, 0, sizeof *f);
  assert_int_equal(weir_test_db_open(&f->db, "weir-http-unit"), 0);
  f->topo = topology("127.0.0.1:0", extra, &d);
  weir_diag_print(&d, stderr);
  weir_diag_free(&d);
  assert_non_null(f->topo);
  f->owners = weir_ownership_new(1, parts, 1);
  assert_non_null(f->owners);
  fill(f->db.db);
  weir_http_env_t env = {.topo = f->topo,
                         .owners = f->owners,
                         .state_db = f->db.db,
                         .advertise = "here:1",
                         .processed = processed,
                         .directory = dir};
  f->http = weir_http_start(&env, err, sizeof err);
  if (!f->http)
    fail_msg("%s", err);
  f->port = weir_http_port(f->http);
  assert_true(f->port > 0);
}

static void start(fixture_t *f, const char *extra) {
  start_with(f, extra, NULL);
}

static void stop(fixture_t *f) {
  weir_http_stop(f->http);
  weir_ownership_free(f->owners);
  weir_topology_free(f->topo);
  weir_test_db_close(&f->db);
}

static void set_all(fixture_t *f, weir_own_state_t s) {
  for (int32_t p = 0; p < PARTS; p++)
    weir_ownership_set(f->owners, 0, p, s, 0);
}

static void expect(int port, const char *path, int status, const char *body_has) {
  http_answer_t a;
  int got = http_get(port, path, NULL, &a);
  if (got != status || (body_has && (!a.body || !strstr(a.body, body_has))))
    fail_msg("GET %s: %d %s, wanted %d with '%s'", path, got, a.body ? a.body : "", status,
             body_has ? body_has : "");
  http_answer_free(&a);
}

/* A key is answered only by a running owner; otherwise 503 + Retry-After. */
static void test_get_follows_ownership(void **state) {
  (void)state;
  fixture_t f;
  http_answer_t a;
  char retry[16];
  start(&f, "");
  int32_t p = partition_of("k07");
  assert_int_equal(http_get(f.port, "/v1/stores/counts/keys/k07", NULL, &a), 503);
  assert_int_equal(http_header(&a, "Retry-After", retry, sizeof retry), 0);
  assert_non_null(strstr(a.body, "not run by this instance"));
  http_answer_free(&a);
  weir_ownership_set(f.owners, 0, p, WEIR_OWN_RESTORING, 0);
  expect(f.port, "/v1/stores/counts/keys/k07", 503, "restoring");
  weir_ownership_set(f.owners, 0, p, WEIR_OWN_RUNNING, 0);
  expect(f.port, "/v1/stores/counts/keys/k07", 200, "\"key\":\"k07\",\"value\":7");
  expect(f.port, "/v1/stores/counts/keys/k07", 200, "\"served_by\":\"here:1\"");
  set_all(&f, WEIR_OWN_RUNNING);
  expect(f.port, "/v1/stores/counts/keys/absent", 404, "\"error\":");
  expect(f.port, "/v1/stores/nope/keys/k07", 404, "no store 'nope'");
  expect(f.port, "/v1/stores", 200, "\"key_serde\":\"string\",\"value_serde\":\"int64\"");
  expect(f.port, "/elsewhere", 404, "\"status\":404");
  weir_ownership_set(f.owners, 0, p, WEIR_OWN_NONE, 0);
  expect(f.port, "/v1/stores/counts/keys/k07", 503, NULL);
  stop(&f);
}

/* The next cursor of a range answer ("" when null). */
static void cursor_of(const char *body, char *out, size_t size) {
  const char *c = strstr(body, "\"next_cursor\":");
  assert_non_null(c);
  c += 14;
  out[0] = '\0';
  if (*c == '"')
    snprintf(out, size, "%.*s", (int)strcspn(c + 1, "\""), c + 1);
}

static int count_rows(const char *body) {
  int n = 0;
  for (const char *c = body; (c = strstr(c, "{\"key\":")); c++)
    n++;
  return n;
}

/* Pages of 7 walk every key once, in order, whatever partition holds it. */
static void test_range_pages(void **state) {
  (void)state;
  fixture_t f;
  http_answer_t a;
  char path[512], cursor[256] = "", key[16];
  int seen = 0, pages = 0;
  start(&f, "");
  set_all(&f, WEIR_OWN_RUNNING);
  do {
    snprintf(path, sizeof path, "/v1/stores/counts/range?limit=7%s%s", cursor[0] ? "&cursor=" : "",
             cursor);
    assert_int_equal(http_get(f.port, path, NULL, &a), 200);
    for (const char *c = a.body; (c = strstr(c, "{\"key\":\"")); c++) {
      snprintf(key, sizeof key, "k%02d", seen);
      assert_memory_equal(c + 8, key, 3);
      seen++;
    }
    cursor_of(a.body, cursor, sizeof cursor);
    http_answer_free(&a);
    pages++;
  } while (cursor[0] && pages < 100);
  assert_int_equal(seen, KEYS);
  assert_int_equal(pages, (KEYS + 6) / 7);
  assert_int_equal(http_get(f.port, "/v1/stores/counts/range?prefix=k1", NULL, &a), 200);
  assert_int_equal(count_rows(a.body), 10);
  http_answer_free(&a);
  assert_int_equal(http_get(f.port, "/v1/stores/counts/range?from=k10&to=k15", NULL, &a), 200);
  assert_int_equal(count_rows(a.body), 5);
  assert_non_null(strstr(a.body, "{\"key\":\"k14\",\"value\":14"));
  http_answer_free(&a);
  expect(f.port, "/v1/stores/counts/range?limit=0", 400, "limit");
  expect(f.port, "/v1/stores/counts/range?limit=5000", 400, "limit");
  expect(f.port, "/v1/stores/counts/range?cursor=zz", 400, "cursor");
  expect(f.port, "/v1/stores/counts/range?prefix=a&from=b", 400, "not both");
  /* A partition elsewhere is named, not silently missing. */
  weir_ownership_set(f.owners, 0, 2, WEIR_OWN_NONE, 0);
  expect(f.port, "/v1/stores/counts/range?limit=1000", 200, "\"partitions_elsewhere\":[2]");
  weir_ownership_set(f.owners, 0, 2, WEIR_OWN_RESTORING, 0);
  expect(f.port, "/v1/stores/counts/range", 503, "restoring");
  stop(&f);
}

static void test_token(void **state) {
  (void)state;
  fixture_t f;
  http_answer_t a;
  char h[64];
  start(&f, "http.token = s3cret\n");
  assert_int_equal(http_get(f.port, "/health", NULL, &a), 401);
  assert_int_equal(http_header(&a, "WWW-Authenticate", h, sizeof h), 0);
  assert_non_null(strstr(a.body, "\"error\":"));
  http_answer_free(&a);
  assert_int_equal(http_get(f.port, "/metrics", "Bearer wrong", &a), 401);
  http_answer_free(&a);
  assert_int_equal(http_get(f.port, "/metrics", "Bearer s3cre", &a), 401);
  http_answer_free(&a);
  assert_int_equal(http_get(f.port, "/health", "Bearer s3cret", &a), 200);
  http_answer_free(&a);
  stop(&f);
}

/* Listening beyond loopback without a token is refused at validation. */
static void test_open_listen_needs_token(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = topology("0.0.0.0:8080", "", &d);
  assert_null(t);
  int named = 0;
  for (size_t i = 0; i < d.count; i++)
    named |= strstr(d.lines[i], "hs.ini:") && strstr(d.lines[i], "http.token") != NULL;
  assert_true(named);
  weir_diag_free(&d);
  t = topology("0.0.0.0:8080", "http.token = x\n", &d);
  assert_non_null(t);
  weir_topology_free(t);
  weir_diag_free(&d);
  t = topology("localhost", "", &d);
  assert_null(t);
  weir_diag_free(&d);
}

/* Methods, bodies, oversized and malformed requests get a 4xx (or a
 * closed connection), and the server goes on answering. */
static void test_bad_requests(void **state) {
  (void)state;
  fixture_t f;
  http_answer_t a;
  static char big[100000];
  start(&f, "");
  const char post[] = "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  assert_int_equal(http_raw(f.port, post, sizeof post - 1, 30000, &a), 0);
  assert_int_equal(a.status, 405);
  assert_non_null(strstr(a.body, "\"error\":"));
  http_answer_free(&a);
  const char body[] = "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  assert_int_equal(http_raw(f.port, body, sizeof body - 1, 30000, &a), 0);
  assert_int_equal(a.status, 413);
  http_answer_free(&a);
  int n = snprintf(big, sizeof big, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
  memset(big + n, 'a', sizeof big - (size_t)n - 5);
  memcpy(big + sizeof big - 5, "\r\n\r\n", 4);
  /* libmicrohttpd answers these itself (its own short HTML body). */
  assert_int_equal(http_raw(f.port, big, sizeof big - 1, 30000, &a), 0);
  assert_int_equal(a.status, 431);
  http_answer_free(&a);
  memcpy(big, "GET /", 5);
  memset(big + 5, 'a', 40000);
  memcpy(big + 40005, " HTTP/1.1\r\n\r\n", 14);
  assert_int_equal(http_raw(f.port, big, 40019, 30000, &a), 0);
  assert_int_equal(a.status, 414);
  http_answer_free(&a);
  const char junk[] = "\x01\x02garbage\r\n\r\n";
  if (http_raw(f.port, junk, sizeof junk - 1, 30000, &a) == 0) { /* or closed at once */
    assert_int_equal(a.status, 400);
    http_answer_free(&a);
  }
  expect(f.port, "/v1/stores/counts/keys/", 404, NULL);
  expect(f.port, "/health", 200, "up");
  stop(&f);
}

/* Every sample follows its family's # TYPE line; the processed counter is
 * the app's. */
static void test_metrics_format(void **state) {
  (void)state;
  fixture_t f;
  http_answer_t a;
  char typed[64][80], type[80] = "";
  int families = 0;
  start(&f, "");
  set_all(&f, WEIR_OWN_RUNNING);
  assert_int_equal(http_get(f.port, "/metrics", NULL, &a), 200);
  char ct[80];
  assert_int_equal(http_header(&a, "Content-Type", ct, sizeof ct), 0);
  assert_non_null(strstr(ct, "text/plain; version=0.0.4"));
  for (char *line = strtok(a.body, "\n"); line; line = strtok(NULL, "\n")) {
    char name[80];
    if (sscanf(line, "# TYPE %79s %79s", name, type) == 2) {
      snprintf(typed[families++ % 64], sizeof typed[0], "%s", name);
      continue;
    }
    if (line[0] == '#')
      continue;
    size_t len = strcspn(line, "{ ");
    assert_true(families > 0);
    const char *family = typed[(families - 1) % 64];
    size_t flen = strlen(family);
    /* A histogram's samples are its name plus _bucket, _sum or _count. */
    int histogram_part = strcmp(type, "histogram") == 0 && len > flen &&
                         strncmp(line, family, flen) == 0 &&
                         (strncmp(line + flen, "_bucket{", 8) == 0 ||
                          strncmp(line + flen, "_sum", len - flen) == 0 ||
                          strncmp(line + flen, "_count", len - flen) == 0);
    if (!histogram_part && (flen != len || strncmp(line, family, len) != 0))
      fail_msg("sample outside its family: %s", line);
    if (strncmp(line, "weir_records_processed_total ", 29) == 0)
      assert_string_equal(line + 29, "12345");
  }
  assert_true(families >= 5);
  http_answer_free(&a);
  stop(&f);
}

/* An owner that accepts one connection, reads one request and holds its
 * answer until the test releases it. */
typedef struct holder {
  pthread_t tid;
  int listen_fd, port;
  atomic_int got, release;
} holder_t;

static void *holder_main(void *arg) {
  holder_t *o = arg;
  char req[4096];
  size_t n = 0;
  struct pollfd p = {.fd = o->listen_fd, .events = POLLIN};
  int fd = poll(&p, 1, 60000) == 1 ? accept(o->listen_fd, NULL, NULL) : -1;
  while (fd >= 0 && n < sizeof req - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
    ssize_t r = recv(fd, req + n, sizeof req - 1 - n, 0);
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  atomic_store(&o->got, 1);
  /* Until released (bounded: a minute). */
  for (int i = 0; i < 6000 && !atomic_load(&o->release); i++)
    poll(NULL, 0, 10);
  static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: 16\r\n\r\n{\"from\":\"owner\"}";
  if (fd >= 0) {
    assert_int_equal(send(fd, answer, sizeof answer - 1, MSG_NOSIGNAL), sizeof answer - 1);
    close(fd);
  }
  return NULL;
}

typedef struct asked {
  pthread_t tid;
  int port, status;
  char body[256];
  atomic_int done;
} asked_t;

static void *ask_forwarded(void *arg) {
  asked_t *a = arg;
  http_answer_t ans;
  a->status = http_get(a->port, "/v1/stores/counts/keys/k07", NULL, &ans);
  snprintf(a->body, sizeof a->body, "%s", ans.body ? ans.body : "");
  http_answer_free(&ans);
  atomic_store(&a->done, 1);
  return NULL;
}

/* One GET on an open keep-alive connection: its status (0: none). */
static int keepalive_get(int fd, const char *path) {
  char buf[4096];
  int n = snprintf(buf, sizeof buf, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
  if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
    return 0;
  size_t got = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 30000) != 1)
      return 0;
    ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
    if (r <= 0)
      return 0;
    got += (size_t)r;
    buf[got] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    const char *cl = end ? strcasestr(buf, "Content-Length:") : NULL;
    if (cl && got >= (size_t)(end + 4 - buf) + (size_t)atol(cl + 15))
      return atoi(buf + 9);
  }
}

/* A forwarded query waits on its owner without holding a polling thread:
 * keep-alive connections opened before it (so spread over both polling
 * threads) are all answered while the owner still holds its answer, and the
 * owner's answer then reaches the asker. When the forward held its polling
 * thread, the connections on that thread waited for it: the owner's answer
 * then came after them, or the forward timed out (502). */
static void test_local_answered_while_a_forward_waits(void **state) {
  (void)state;
  enum { CONNS = 8 };
  fixture_t f;
  holder_t o = {0};
  asked_t fwd = {0};
  int conn[CONNS];
  char addr[64], path[64];
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t len = sizeof sa;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  o.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(bind(o.listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(o.listen_fd, 4), 0);
  assert_int_equal(getsockname(o.listen_fd, (struct sockaddr *)&sa, &len), 0);
  snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sa.sin_port));
  assert_int_equal(pthread_create(&o.tid, NULL, holder_main, &o), 0);
  /* Every partition here but k07's, which the owner runs. */
  struct weir_directory *dir = NULL;
  weir_diag_t d = {0};
  weir_topology_t *t = topology("127.0.0.1:0", "http.advertise = here:1\n", &d);
  assert_non_null(t);
  dir = weir_directory_new_fixed(t);
  assert_non_null(dir);
  weir_directory_set(dir, 0, partition_of("k07"), addr);
  start_with(&f, "http.advertise = here:1\n", dir);
  set_all(&f, WEIR_OWN_RUNNING);
  weir_ownership_set(f.owners, 0, partition_of("k07"), WEIR_OWN_NONE, 0);
  for (int i = 0; i < CONNS; i++) {
    conn[i] = http_connect(f.port);
    assert_true(conn[i] >= 0);
    assert_int_equal(keepalive_get(conn[i], "/v1/stores"), 200); /* accepted by now */
  }
  fwd.port = f.port;
  assert_int_equal(pthread_create(&fwd.tid, NULL, ask_forwarded, &fwd), 0);
  for (int i = 0; i < 3000 && !atomic_load(&o.got); i++)
    poll(NULL, 0, 10); /* until the owner has the forwarded request: bounded, 30 s */
  assert_true(atomic_load(&o.got));
  for (int i = 0, k = 0; i < CONNS; i++, k++) {
    while (partition_of((snprintf(path, sizeof path, "k%02d", k % KEYS), path)) ==
           partition_of("k07"))
      k++;
    snprintf(path, sizeof path, "/v1/stores/counts/keys/k%02d", k % KEYS);
    assert_int_equal(keepalive_get(conn[i], path), 200);
  }
  assert_false(atomic_load(&fwd.done)); /* the owner still holds it */
  atomic_store(&o.release, 1);
  pthread_join(fwd.tid, NULL);
  assert_int_equal(fwd.status, 200);
  assert_string_equal(fwd.body, "{\"from\":\"owner\"}");
  pthread_join(o.tid, NULL);
  for (int i = 0; i < CONNS; i++)
    close(conn[i]);
  close(o.listen_fd);
  stop(&f);
  weir_directory_free(dir);
  weir_topology_free(t);
  weir_diag_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_follows_ownership),
      cmocka_unit_test(test_range_pages),
      cmocka_unit_test(test_token),
      cmocka_unit_test(test_open_listen_needs_token),
      cmocka_unit_test(test_bad_requests),
      cmocka_unit_test(test_metrics_format),
      cmocka_unit_test(test_local_answered_while_a_forward_waits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
