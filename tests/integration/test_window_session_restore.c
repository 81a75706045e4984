/* Integration: session windows with emit = final restarted from their
 * changelog. A 0.5 s session count runs over half the input (one record a
 * second over 5 keys: each session one record, closed by the next record),
 * its state directory is wiped, and the restart restores the sessions and
 * the last close time emitted (Kafka Streams keeps it in its commit's
 * processor metadata): it emits no closed session again, so its output
 * equals an uninterrupted run's, session for session and record for
 * record. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_mock.h"
#include "it_support.h"

#define BASE_TS INT64_C(1700000000000) /* a multiple of 10 s */
#define KEYS 5
#define TOTAL 600 /* one record a second: 60 windows of 10 s */
#define FIRST 295 /* stop in the middle of window 29 */
#define SESSIONS 700

static int show(const char *line) {
  return strstr(line, "restore") || strstr(line, "ERROR") || strstr(line, "WARN");
}

static it_mock_t mock = {.brokers = 1, .capture_log = 1, .show = show};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

/* Retention 60 s, as the tumbling test's: the restore skips what is past it. */
static const char ini_fmt[] =
    "[weir]\napplication.id = %s\nbootstrap.servers = %s\ncommit.interval.ms = 100\n"
    "state.dir = %s/%s\n[kafka]\nsession.timeout.ms = 6000\n"
    "[source:in]\ntopic = ws-in\n"
    "[operator:w]\nplugin = std\ntype = window\ninput = in\nstore = counts\n"
    "window = session\ngap = 500\nemit = final\nemit.interval.ms = 0\nwindow.key.format = text\n"
    "[store:counts]\ntype = session\nretention.ms = 60000\n"
    "[sink:out]\ninput = w\ntopic = %s\nkey.serde = string\nvalue.serde = int64\n";

static weir_topology_t *topology(it_mock_t *c, const char *app, const char *out) {
  char ini[2048];
  snprintf(ini, sizeof ini, ini_fmt, app, c->bootstrap, c->state_dir, app, out);
  return it_topology(ini);
}

static void send_range(const char *bootstrap, int from, int to) {
  char key[16];
  rd_kafka_t *p = it_producer(bootstrap);
  assert_non_null(p);
  for (int i = from; i < to; i++) {
    snprintf(key, sizeof key, "k%d", i % KEYS);
    assert_int_equal(it_send(p, "ws-in", 0, key, "x", 1, BASE_TS + i * 1000, NULL, NULL), 0);
  }
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
}

/* The latest count per session ("k3@<start>/<end>"), and how many records. */
typedef struct {
  char key[SESSIONS][64];
  int64_t count[SESSIONS];
  size_t n, records;
} finals_t;

static void note(const rd_kafka_message_t *m, void *arg) {
  finals_t *f = arg;
  char key[64] = "";
  if (m->key_len < sizeof key)
    memcpy(key, m->key, m->key_len);
  size_t i = 0;
  while (i < f->n && strcmp(f->key[i], key) != 0)
    i++;
  if (i == f->n && f->n < SESSIONS)
    snprintf(f->key[f->n++], sizeof f->key[0], "%s", key);
  if (i < SESSIONS)
    f->count[i] = it_be64(m->payload, m->len);
  f->records++;
}

static int64_t final_of(const finals_t *f, const char *key) {
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->key[i], key) == 0)
      return f->count[i];
  return -1;
}

/* Feed [from, to) in chunks of a minute, each committed before the next,
 * so the changelog gets windows before they expire (ones a restore skips). */
static void run(weir_topology_t *t, const char *bootstrap, const char *group, int from, int to,
                int feed) {
  weir_app_t *app = it_start(t, 20000);
  for (int at = from; at < to; at += 60) {
    int end = at + 60 < to ? at + 60 : to;
    if (feed)
      send_range(bootstrap, at, end);
    assert_int_equal(it_wait_committed(bootstrap, group, "ws-in", feed ? end : to, 3 * IT_WAIT_MS),
                     feed ? end : to);
  }
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
}

static void test_sessions_not_emitted_again_after_restore(void **state) {
  it_mock_t *c = *state;
  static finals_t restarted, straight;
  char dir[700];
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ws-in", 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ws-out", 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ws-straight", 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ws-counts-changelog", 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ws2-counts-changelog", 1, 1), 0);
  weir_topology_t *t = topology(c, "ws", "ws-out");
  assert_non_null(t);

  run(t, c->bootstrap, "ws", 0, FIRST, 1);
  snprintf(dir, sizeof dir, "%s/ws", c->state_dir);
  assert_int_equal(weir_rm_rf(dir), 0); /* the state is lost: restore it */
  run(t, c->bootstrap, "ws", FIRST, TOTAL, 1);
  weir_topology_free(t);
  assert_true(it_log_has(c->log_path, "restore: store 'counts' partition 0", NULL));

  t = topology(c, "ws2", "ws-straight");
  assert_non_null(t);
  run(t, c->bootstrap, "ws2", 0, TOTAL, 0);
  weir_topology_free(t);

  it_consume_each(c->bootstrap, "ws-out", 1, note, &restarted, IT_WAIT_MS);
  it_consume_each(c->bootstrap, "ws-straight", 1, note, &straight, IT_WAIT_MS);
  /* Stream time ends at 599 s: sessions close at stream time - 0.5 s, so
   * every record's session but the last is emitted, each once. */
  assert_int_equal(straight.n, TOTAL - 1);
  assert_int_equal(straight.records, TOTAL - 1);
  assert_int_equal(restarted.n, straight.n);
  /* The last close time emitted is restored with the sessions: the restart
   * emits none of them again. */
  assert_int_equal(restarted.records, straight.records);
  for (size_t i = 0; i < straight.n; i++) {
    assert_int_equal(straight.count[i], 1);
    if (final_of(&restarted, straight.key[i]) != straight.count[i])
      fail_msg("session %s: %lld after the restore, %lld uninterrupted", straight.key[i],
               (long long)final_of(&restarted, straight.key[i]), (long long)straight.count[i]);
  }
  it_records_free(NULL, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_sessions_not_emitted_again_after_restore, setup,
                                      it_mock_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
