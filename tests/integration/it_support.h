/* Helpers for the in-process integration tests: each test in its own
 * TMPDIR (IT_TEST), a plugin build put in place as a deploy does, a topology
 * from INI text, producing to and reading back from the (embedded) broker.
 * Each test file includes this once. */
#ifndef WEIR_TESTS_IT_SUPPORT_H
#define WEIR_TESTS_IT_SUPPORT_H

#include <dirent.h>
#include <librdkafka/rdkafka.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/app.h"
#include "config/config.h"
#include "support/tmpdir.h"
#include "topology/topology.h"
#include "util/fs.h"

typedef struct it_record {
  char *key; /* NUL-terminated copies; NULL when absent */
  char *value;
  size_t value_len;
  int64_t timestamp;
  int32_t partition;
  char *headers; /* "name=value;name=value" */
} it_record_t;

/* The bound on every wait for an event: generous, so that a slow or loaded
 * machine only makes a test slower, never failing; a test never waits this
 * long when it passes. */
#define IT_WAIT_MS 60000

static long long it_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll `done` (every 10 ms) until it returns non-zero or `timeout_ms`
 * passes; 0 when it did. */
__attribute__((unused)) static int it_wait_until(int (*done)(void *), void *arg, int timeout_ms) {
  long long deadline = it_now_ms() + timeout_ms;
  for (;;) {
    if (done(arg))
      return 0;
    if (it_now_ms() >= deadline)
      return -1;
    usleep(10000);
  }
}

/* The first weir-* entry in the test's TMPDIR (weir's own staging), if any,
 * into name; 0 when there is none. */
__attribute__((unused)) static int it_tmpdir_weir_entry(const weir_test_tmpenv_t *td, char *name,
                                                        size_t size) {
  DIR *d = opendir(td->path);
  struct dirent *e;
  int found = 0;
  while (d && !found && (e = readdir(d)))
    if (strncmp(e->d_name, "weir-", 5) == 0) {
      snprintf(name, size, "%s/%s", td->path, e->d_name);
      found = 1;
    }
  if (d)
    closedir(d);
  return found;
}

/* The test file's own TMPDIR: it_enter_tmpdir and it_leave_tmpdir are the
 * cmocka setup and teardown that make it and remove it around each test
 * (even a failing one); IT_TEST(f) is the test with both. */
__attribute__((unused)) static weir_test_tmpenv_t it_tmp;

__attribute__((unused)) static int it_enter_tmpdir(void **state) {
  (void)state;
  return weir_test_tmpenv_enter(&it_tmp, "weir-it");
}

__attribute__((unused)) static int it_leave_tmpdir(void **state) {
  (void)state;
  weir_test_tmpenv_leave(&it_tmp);
  return 0;
}

#define IT_TEST(f) cmocka_unit_test_setup_teardown(f, it_enter_tmpdir, it_leave_tmpdir)

/* After a stop, nothing weir staged is left in the test's TMPDIR. */
__attribute__((unused)) static void it_expect_no_staging(void) {
  char left[700];
  if (it_tmpdir_weir_entry(&it_tmp, left, sizeof left))
    fail_msg("staging left behind after stop: %s", left);
}

/* Write `text` as the whole of the file at `path`. */
__attribute__((unused)) static void it_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

/* Put fixture build `fixture` in place as dir/name, as a deploy does: copy
 * to dir/tmp_name, then rename. 0, or -1 when a step failed; any thread. */
__attribute__((unused)) static int it_install(const char *fixture, const char *dir,
                                              const char *name, const char *tmp_name) {
  char src[512], part[1024], dst[1024], buf[65536];
  snprintf(src, sizeof src, "%s/%s.so", WEIR_TEST_FIXTURE_DIR, fixture);
  snprintf(part, sizeof part, "%s/%s", dir, tmp_name);
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  FILE *in = fopen(src, "rb"), *out = fopen(part, "wb");
  size_t n;
  int ok = in && out;
  while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
    ok = fwrite(buf, 1, n, out) == n;
  if (in)
    fclose(in);
  if (out && fclose(out) != 0)
    ok = 0;
  return ok && rename(part, dst) == 0 ? 0 : -1;
}

/* A topology from INI text; plugin.dir is the build's plugin directory and,
 * when state_dir is not NULL, state.dir (and so the control socket) is
 * there instead of the INI's or the default ./state. */
__attribute__((unused)) static weir_topology_t *it_topology_in(const char *ini,
                                                               const char *state_dir) {
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("it.ini", ini, &d);
  char set[1024];
  snprintf(set, sizeof set, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  weir_cfg_override(cfg, set, &d);
  if (state_dir) {
    snprintf(set, sizeof set, "weir.state.dir=%s", state_dir);
    weir_cfg_override(cfg, set, &d);
  }
  weir_topology_t *t = d.count ? NULL : weir_topology_build(cfg, NULL, &d);
  weir_diag_print(&d, stderr);
  weir_diag_free(&d);
  weir_cfg_free(cfg);
  return t;
}

__attribute__((unused)) static weir_topology_t *it_topology(const char *ini) {
  return it_topology_in(ini, NULL);
}

static rd_kafka_t *it_producer(const char *bootstrap) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "linger.ms", "1", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!rk)
    fprintf(stderr, "it: producer: %s\n", why);
  return rk;
}

/* Produce one record; header may be NULL ("name", "value"). */
static int it_send(rd_kafka_t *rk, const char *topic, int32_t partition, const char *key,
                   const void *value, size_t value_len, int64_t ts, const char *hname,
                   const char *hvalue) {
  rd_kafka_headers_t *h = NULL;
  if (hname) {
    h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, hname, -1, hvalue, -1);
  }
  rd_kafka_resp_err_t err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
      RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(h),
      RD_KAFKA_V_END);
  if (err && h)
    rd_kafka_headers_destroy(h);
  return err ? -1 : 0;
}

static char *it_dup(const void *p, size_t n) {
  if (!p)
    return NULL;
  char *s = malloc(n + 1);
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

static char *it_headers(const rd_kafka_message_t *m) {
  rd_kafka_headers_t *hdrs;
  char buf[2048] = "";
  size_t used = 0;
  const char *name;
  const void *val;
  size_t size;
  if (rd_kafka_message_headers(m, &hdrs) == 0)
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; i++)
      used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s=%.*s", i ? ";" : "", name,
                               (int)size, val ? (const char *)val : "");
  return strdup(buf);
}

typedef void (*it_record_fn)(const rd_kafka_message_t *m, void *arg);

/* Assign every partition of `topic` from the beginning, once the topic's
 * metadata lists them (a sink topic may not exist yet). Returns the count,
 * 0 when none appeared by `deadline`. */
static int it_assign_all(rd_kafka_t *rk, const char *topic, long long deadline) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  const rd_kafka_metadata_t *md = NULL;
  int parts = 0;
  while (parts == 0 && it_now_ms() < deadline) {
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == 0) {
      if (md->topic_cnt == 1 && !md->topics[0].err)
        parts = md->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(md);
    }
    if (parts == 0)
      usleep(50000);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts ? parts : 1);
  for (int p = 0; p < parts; p++)
    rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  return parts;
}

/* The partitions' end offsets now: what "read to the end" means. */
static void it_ends(rd_kafka_t *rk, const char *topic, int parts, int64_t *end) {
  for (int p = 0; p < parts; p++) {
    int64_t lo = 0, hi = -1;
    if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, IT_WAIT_MS))
      hi = -1; /* unknown: the caller reads until its deadline */
    end[p] = hi;
  }
}

static int it_at_ends(const int64_t *next, const int64_t *end, int parts) {
  for (int p = 0; p < parts; p++)
    if (end[p] < 0 || next[p] < end[p])
      return 0;
  return 1;
}

/* Read `topic` from the beginning, calling fn for each record, until `want`
 * records (or `timeout_ms`), then on to the end offsets the partitions have
 * at that moment, so a record beyond `want` that is already written is seen
 * (a test asserts there is none) without waiting a fixed time. Returns how
 * many records were read. */
__attribute__((unused)) static size_t it_consume_each(const char *bootstrap, const char *topic,
                                                      size_t want, it_record_fn fn, void *arg,
                                                      int timeout_ms) {
  enum { MAX_PARTS = 256 };
  char why[256];
  int64_t next[MAX_PARTS] = {0}, end[MAX_PARTS];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "group.id", "it-reader", NULL, 0);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  long long deadline = it_now_ms() + timeout_ms;
  int parts = it_assign_all(rk, topic, deadline);
  parts = parts > MAX_PARTS ? MAX_PARTS : parts;
  size_t n = 0;
  int draining = 0;
  while (parts > 0 && it_now_ms() < deadline) {
    if (!draining && n >= want) {
      it_ends(rk, topic, parts, end);
      draining = 1;
      deadline = it_now_ms() + IT_WAIT_MS;
    }
    if (draining && it_at_ends(next, end, parts))
      break;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m)
      continue;
    if (!m->err) {
      fn(m, arg);
      n++;
      if (m->partition >= 0 && m->partition < MAX_PARTS)
        next[m->partition] = m->offset + 1;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return n;
}

typedef struct it_store {
  it_record_t *out;
  size_t cap, n;
  size_t dropped; /* past a fixed cap */
  int grows;      /* out is malloc'd and doubles when full */
} it_store_t;

static void it_store_one(const rd_kafka_message_t *m, void *arg) {
  it_store_t *s = arg;
  if (s->n >= s->cap && s->grows) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    it_record_t *grown = realloc(s->out, cap * sizeof *grown);
    if (grown) {
      s->out = grown;
      s->cap = cap;
    }
  }
  if (s->n >= s->cap) {
    s->dropped++;
    return;
  }
  it_record_t *r = &s->out[s->n++];
  r->key = it_dup(m->key, m->key_len);
  r->value = it_dup(m->payload, m->len);
  r->value_len = m->len;
  r->timestamp = rd_kafka_message_timestamp(m, NULL);
  r->partition = m->partition;
  r->headers = it_headers(m);
}

/* it_consume_each into out[] (capacity `cap`); returns how many it holds.
 * Records past the capacity are not kept, and said so: a test that asserts
 * every expected record came out must not take a full buffer for a lost
 * record (it_consume_all has no cap). */
__attribute__((unused)) static size_t it_consume(const char *bootstrap, const char *topic,
                                                 size_t want, it_record_t *out, size_t cap,
                                                 int timeout_ms) {
  it_store_t s = {out, cap, 0, 0, 0};
  it_consume_each(bootstrap, topic, want, it_store_one, &s, timeout_ms);
  if (s.dropped)
    fprintf(stderr, "it: %s: %zu record(s) past the test's buffer of %zu were read and not kept\n",
            topic, s.dropped, cap);
  return s.n;
}

/* it_consume_each into a buffer that grows: every record up to the end
 * offsets, however many times a rebalance made weir produce them again.
 * The caller frees the records (it_records_free) and the array; NULL with
 * *n = 0 when none came. */
__attribute__((unused)) static it_record_t *it_consume_all(const char *bootstrap, const char *topic,
                                                           size_t want, size_t *n, int timeout_ms) {
  it_store_t s = {NULL, 0, 0, 0, 1};
  it_consume_each(bootstrap, topic, want, it_store_one, &s, timeout_ms);
  if (s.dropped)
    fprintf(stderr, "it: %s: out of memory: %zu record(s) not kept\n", topic, s.dropped);
  *n = s.n;
  return s.out;
}

static void it_records_free(it_record_t *r, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(r[i].key);
    free(r[i].value);
    free(r[i].headers);
  }
}

/* The group's committed offset for topic/partition (-1001 when none). */
__attribute__((unused)) static int64_t it_committed(const char *bootstrap, const char *group,
                                                    const char *topic, int32_t partition) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic, partition);
  int64_t off = -2;
  if (rd_kafka_committed(rk, parts, IT_WAIT_MS) == 0)
    off = parts->elems[0].offset;
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return off;
}

static int it_processed_reached(void *arg) {
  void **a = arg;
  return weir_app_processed(a[0]) >= *(unsigned long long *)a[1];
}

/* Wait until the app has processed at least `n` records. */
__attribute__((unused)) static int it_wait_processed(weir_app_t *app, unsigned long long n,
                                                     int timeout_ms) {
  void *a[2] = {app, &n};
  return it_wait_until(it_processed_reached, a, timeout_ms);
}

/* The app of a test that takes no control connection, or the test fails. */
__attribute__((unused)) static weir_app_t *it_start(const weir_topology_t *t,
                                                    int shutdown_timeout_ms) {
  char err[2048];
  weir_app_options_t opts = {.shutdown_timeout_ms = shutdown_timeout_ms, .no_control = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  return app;
}

/* Starts the topology of file `path` written with `before`, writes `after`
 * there, and asserts that a reload is refused with `want` in its report:
 * a setting the threads or stores were built with is never taken and left
 * unapplied. */
__attribute__((unused)) static void it_expect_reload_refused(const char *path, const char *before,
                                                             const char *after, const char *want) {
  char report[1024];
  it_write_file(path, before);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  weir_topology_t *t = cfg ? weir_topology_build(cfg, NULL, &d) : NULL;
  weir_diag_print(&d, stderr);
  assert_non_null(t);
  weir_app_t *app = it_start(t, IT_WAIT_MS);
  it_write_file(path, after);
  assert_int_not_equal(weir_app_reload(app, "test", report, sizeof report), 0);
  if (!strstr(report, want))
    fail_msg("report: %s", report);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

/* Wait (up to timeout_ms) until `group` committed `want` on topic/0; the
 * offset last read. */
__attribute__((unused)) static int64_t it_wait_committed(const char *bootstrap, const char *group,
                                                         const char *topic, int64_t want,
                                                         int timeout_ms) {
  long long deadline = it_now_ms() + timeout_ms;
  int64_t got;
  while ((got = it_committed(bootstrap, group, topic, 0)) != want && it_now_ms() < deadline)
    usleep(100000);
  return got;
}

/* An int64 value as the std operators write it (8 bytes, big-endian); -1
 * when it is not 8 bytes long. */
__attribute__((unused)) static int64_t it_be64(const char *v, size_t len) {
  uint64_t x = 0;
  for (size_t i = 0; i < len && i < 8; i++)
    x = x << 8 | (unsigned char)v[i];
  return len == 8 ? (int64_t)x : -1;
}

/* Whether a line of the file at `path` holds `a`, or `b` when not NULL. */
__attribute__((unused)) static int it_log_has(const char *path, const char *a, const char *b) {
  char line[4096];
  int found = 0;
  fflush(stderr);
  FILE *f = fopen(path, "r");
  while (f && !found && fgets(line, sizeof line, f))
    found = strstr(line, a) || (b && strstr(line, b));
  if (f)
    fclose(f);
  return found;
}

/* Lines of the file at `path` holding every one of `a`, `b` and `c` (the
 * last two may be NULL). */
__attribute__((unused)) static int it_log_count(const char *path, const char *a, const char *b,
                                                const char *c) {
  char line[4096];
  int n = 0;
  fflush(stderr);
  FILE *f = fopen(path, "r");
  while (f && fgets(line, sizeof line, f))
    n += strstr(line, a) && (!b || strstr(line, b)) && (!c || strstr(line, c));
  if (f)
    fclose(f);
  return n;
}

/* For it_wait_until: `want` lines with all of a, b and c (it_log_count). */
typedef struct {
  const char *path;
  const char *a, *b, *c;
  int want;
} it_log_lines_t;

__attribute__((unused)) static int it_log_lines_reached(void *arg) {
  const it_log_lines_t *l = arg;
  return it_log_count(l->path, l->a, l->b, l->c) >= l->want;
}

typedef struct {
  const char *path, *a, *b;
} it_log_wait_t;

static int it_log_reached(void *arg) {
  const it_log_wait_t *w = arg;
  return it_log_has(w->path, w->a, w->b);
}

/* Wait (up to timeout_ms) for a line holding `a` or `b` (may be NULL) in
 * the file at `path`; 0 when one came. */
__attribute__((unused)) static int it_wait_log(const char *path, const char *a, const char *b,
                                               int timeout_ms) {
  it_log_wait_t w = {path, a, b};
  return it_wait_until(it_log_reached, &w, timeout_ms);
}

#endif
