/* The std window operator through the test driver, with exact outputs:
 * out of order within grace, a record exactly on the grace boundary, hopping
 * windows, two sessions merged by a bridging record (tombstones for the
 * replaced ones), emit = final emitting each window exactly once, late
 * records failed to the dead-letter topic, Kafka Streams' windowed key
 * bytes, and the differential test's own config (tests/kstreams/
 * weir-windows.ini) emitting every sliding window and session as Kafka
 * Streams does, with outputs worked out from its KStreamSlidingWindowAggregate
 * and KStreamSessionWindowAggregate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "support/td_open.h"
#include <cmocka.h>
#include <weir/test_driver.h>

#define HEAD "[weir]\napplication.id = td\nbootstrap.servers = x\ncommit.interval.ms = 100\n"
#define SRC "[source:in]\ntopic = in\n"
#define SINK "[sink:out]\ninput = w\ntopic = out\n"
#define OP "[operator:w]\nplugin = std\ntype = window\ninput = in\nstore = s\n"
#define WSTORE(size) "[store:s]\ntype = window\nwindow.size.ms = " size "\n"
#define SSTORE "[store:s]\ntype = session\n"

static int send_rc(weir_test_driver_t *td, const char *key, int64_t ts) {
  return weir_test_driver_pipe(td, "in", key, strlen(key), "v", 1, ts);
}

static void send(weir_test_driver_t *td, const char *key, int64_t ts) {
  assert_int_equal(send_rc(td, key, ts), 0);
}

static int64_t be64(const void *p) {
  const unsigned char *b = p;
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | b[i];
  return (int64_t)v;
}

/* What reached `out` since the last read, as "key=count@timestamp "
 * (count "null" for a tombstone): keys are text (window.key.format = text),
 * counts int64. */
static void outputs(weir_test_driver_t *td, char *buf, size_t size) {
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, "out", &r), used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    char count[32] = "null";
    if (r[i].value) {
      assert_int_equal(r[i].value_len, 8);
      snprintf(count, sizeof count, "%lld", (long long)be64(r[i].value));
    }
    used += (size_t)snprintf(buf + used, size - used, "%s=%s@%lld ", r[i].key, count,
                             (long long)r[i].timestamp);
  }
}

/* A record older than stream time is still counted while its window's end
 * plus grace is ahead of stream time; its output carries the window's
 * latest timestamp, as Kafka Streams' TimestampedWindowStore does. */
static void test_out_of_order_within_grace(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td = open_ini(HEAD SRC OP "window = tumbling\nsize = 10000\ngrace = 5000\n"
                                                "window.key.format = text\n" WSTORE("10000") SINK);
  send(td, "a", 1000);
  send(td, "a", 12000);
  send(td, "a", 8000); /* stream time 12000 < end 10000 + grace 5000 */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@0/10000=1@1000 a@10000/20000=1@12000 a@0/10000=2@8000 ");
  weir_test_driver_close(td);
}

/* Kafka Streams' rule (KStreamWindowAggregate: a window takes a record only
 * if windowEnd > streamTime - grace): at stream time 14999 the window [0,
 * 10000) with grace 5000 still takes a record; at exactly 15000 = end +
 * grace it is closed and the record is late (dropped, nothing forwarded). */
static void test_record_exactly_on_the_grace_boundary(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td = open_ini(HEAD SRC OP "window = tumbling\nsize = 10000\ngrace = 5000\n"
                                                "window.key.format = text\n" WSTORE("10000") SINK);
  send(td, "a", 1000);
  send(td, "b", 14999);
  send(td, "a", 5000); /* taken: 10000 + 5000 > 14999 */
  send(td, "b", 15000);
  send(td, "a", 6000); /* late: 10000 + 5000 <= 15000 */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@0/10000=1@1000 b@10000/20000=1@14999 a@0/10000=2@5000 "
                           "b@10000/20000=2@15000 ");
  weir_test_driver_close(td);
}

/* Hopping windows: a record is in every window that holds it. */
static void test_hopping_windows(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td = open_ini(HEAD SRC OP "window = hopping\nsize = 10000\nadvance = 5000\n"
                                                "window.key.format = text\n" WSTORE("10000") SINK);
  send(td, "a", 7000);
  send(td, "a", 12000);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@0/10000=1@7000 a@5000/15000=1@7000 a@5000/15000=2@12000 "
                           "a@10000/20000=1@12000 ");
  weir_test_driver_close(td);
}

/* Two sessions 20 s apart with a 10 s gap are bridged by a record between
 * them: both are deleted downstream (tombstones, timestamp = their end) and
 * the merged session carries all three records. */
static void test_sessions_merged_by_a_bridging_record(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td =
      open_ini(HEAD SRC OP "window = session\ngap = 10000\nwindow.key.format = text\n" SSTORE SINK);
  /* From 1000, not 0: a record forwarded with timestamp 0 takes its input's
   * (weir.h), so a session ending at 0 could not show its own end. */
  send(td, "a", 1000);
  send(td, "a", 21000);
  send(td, "b", 11000);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@1000/1000=1@1000 a@21000/21000=1@21000 b@11000/11000=1@11000 ");
  send(td, "a", 11000);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@1000/1000=null@1000 a@21000/21000=null@21000 a@1000/21000=3@21000 ");
  send(td, "a", 26000); /* extends it: the old session replaced, as Kafka Streams does */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@1000/21000=null@21000 a@1000/26000=4@26000 ");
  weir_test_driver_close(td);
}

/* Sliding windows (Kafka Streams' SlidingWindows, size = the largest time
 * difference, both ends inclusive): a record updates the windows holding
 * it, opens its left window, and its predecessor's and its own right
 * windows; an out-of-order record lands in every window it belongs to
 * (grace 5: with 0, its left window [2, 12] would be closed already at
 * stream time 15 and not made, as in Kafka Streams). */
static void test_sliding_windows(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td = open_ini(HEAD SRC OP "window = sliding\nsize = 10\ngrace = 5\n"
                                                "window.key.format = text\n" WSTORE("10") SINK);
  send(td, "a", 10);
  send(td, "a", 15);
  send(td, "a", 12);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@0/10=1@10 a@11/21=1@15 a@5/15=2@15 a@5/15=3@15 a@11/21=2@15 "
                           "a@2/12=2@12 a@13/23=1@15 ");
  send(td, "b", 3); /* early records (before size) share [0, size] */
  send(td, "b", 5);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "b@0/10=1@3 b@4/14=1@5 b@0/10=2@5 ");
  weir_test_driver_close(td);
}

/* emit = final: each window once, when stream time reaches end + grace, in
 * start then key order; a late record changes nothing; nothing is repeated
 * as stream time goes on. */
static void test_emit_final_once_per_window(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td =
      open_ini(HEAD SRC OP "window = tumbling\nsize = 10000\ngrace = 2000\nemit = final\n"
                           "window.key.format = text\n" WSTORE("10000") SINK);
  send(td, "b", 2000);
  send(td, "a", 1000);
  send(td, "a", 11000);
  send(td, "a", 11999); /* close time 9999: nothing closed */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "");
  send(td, "a", 12000); /* 10000 + 2000 <= 12000: [0, 10000) closes */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@0/10000=1@1000 b@0/10000=1@2000 ");
  send(td, "a", 3000); /* late */
  send(td, "a", 13000);
  assert_int_equal(weir_test_driver_commit(td), 0);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "");
  send(td, "b", 40000); /* closes [10000, 20000) and nothing else */
  send(td, "b", 41000);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@10000/20000=4@13000 ");
  weir_test_driver_close(td);
}

/* Sessions with emit = final: once end + gap + grace < stream time. */
static void test_emit_final_sessions(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td =
      open_ini(HEAD SRC OP "window = session\ngap = 1000\nemit = final\nemit.interval.ms = 0\n"
                           "window.key.format = text\n" SSTORE SINK);
  send(td, "a", 100);
  send(td, "a", 600);
  send(td, "a", 1600); /* close time 600: end 600 is not < 600 */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "");
  send(td, "b", 2700); /* close time 1700: [100, 1600] closes */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@100/1600=3@1600 ");
  send(td, "b", 9000);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "b@2700/2700=1@2700 ");
  weir_test_driver_close(td);
}

/* late = error: the late record follows processing.error.policy, here to
 * the dead-letter topic, unchanged. */
static void test_late_record_to_dead_letter(void **state) {
  (void)state;
  const weir_test_record_t *r;
  weir_test_driver_t *td =
      open_ini("[weir]\napplication.id = td\nbootstrap.servers = x\nprocessing.error.policy = "
               "dead-letter\ndead.letter.topic = dlq\n" SRC OP
               "window = tumbling\nsize = 1000\nlate = error\n" WSTORE("1000") SINK);
  send(td, "a", 5000);
  send(td, "a", 100);
  assert_int_equal(weir_test_driver_read(td, "dlq", &r), 1);
  assert_string_equal(r[0].key, "a");
  assert_int_equal(r[0].timestamp, 100);
  assert_int_equal(weir_test_driver_read(td, "out", &r), 1); /* the first one's update */
  weir_test_driver_close(td);
}

/* Default keys are Kafka Streams' windowed bytes (WindowedSerdes): time
 * windows key + 8-byte BE start, sessions key + 8-byte end + 8-byte start. */
static void test_windowed_key_bytes(void **state) {
  (void)state;
  const weir_test_record_t *r;
  weir_test_driver_t *td =
      open_ini(HEAD SRC OP "window = tumbling\nsize = 1000\n" WSTORE("1000") SINK);
  send(td, "k", 4500);
  assert_int_equal(weir_test_driver_read(td, "out", &r), 1);
  assert_int_equal(r[0].key_len, 9);
  assert_memory_equal(r[0].key, "k", 1);
  assert_int_equal(be64(r[0].key + 1), 4000);
  weir_test_driver_close(td);
  td = open_ini(HEAD SRC OP "window = session\ngap = 10\n" SSTORE SINK);
  send(td, "k", 4500);
  send(td, "k", 4505);
  assert_int_equal(weir_test_driver_read(td, "out", &r), 3);
  assert_int_equal(r[2].key_len, 17);
  assert_int_equal(be64(r[2].key + 1), 4505);
  assert_int_equal(be64(r[2].key + 9), 4500);
  weir_test_driver_close(td);
}

/* A kv store, or none, is refused at open with a line that says what to add. */
static void test_store_kind_checked(void **state) {
  (void)state;
  char err[2048] = "";
  weir_test_driver_t *td =
      weir_test_driver_open(HEAD SRC OP "window = session\ngap = 10\n[store:s]\ntype = kv\n" SINK,
                            WEIR_TEST_PLUGIN_DIR, err, sizeof err);
  assert_null(td);
  assert_non_null(strstr(err, "type = session"));
}

/* The store's window.size.ms must be the operator's size (it decides when
 * windows expire): a mismatch fails the record with a line that says so. */
static void test_store_size_must_match(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD SRC OP "window = tumbling\nsize = 1000\n" WSTORE("5000") SINK);
  send(td, "a", 100);
  assert_int_equal(send_rc(td, "a", 200), WEIR_EFAIL);
  assert_non_null(strstr(weir_test_driver_error(td), "operator 'w'"));
  weir_test_driver_close(td);
}

/* Stream time is the operator's, as Kafka Streams' observedStreamTime: a
 * record without a key (which no window takes) does not move it, so it
 * neither closes windows nor makes the next record late. */
static void test_null_key_moves_no_stream_time(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td =
      open_ini(HEAD SRC OP "window = session\ngap = 1000\nemit = final\nemit.interval.ms = 0\n"
                           "window.key.format = text\n" SSTORE SINK);
  send(td, "a", 1000);
  assert_int_equal(weir_test_driver_pipe(td, "in", NULL, 0, "v", 1, 10000), 0);
  send(td, "a", 1500); /* merges: stream time is still 1000 */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "");
  send(td, "b", 5000); /* close time 5000 - 1000: [1000, 1500] closes */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@1000/1500=2@1500 ");
  weir_test_driver_close(td);
}

/* A null value is counted by tumbling, hopping and session windows (Kafka
 * Streams' KStreamWindowAggregate and KStreamSessionWindowAggregate skip
 * only a null key) and skipped by sliding windows
 * (KStreamSlidingWindowAggregate skips a null key or value). */
static void test_null_value_counted_except_sliding(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td = open_ini(HEAD SRC OP "window = tumbling\nsize = 10000\n"
                                                "window.key.format = text\n" WSTORE("10000") SINK);
  send(td, "a", 1000);
  assert_int_equal(weir_test_driver_pipe(td, "in", "a", 1, NULL, 0, 2000), 0);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@0/10000=1@1000 a@0/10000=2@2000 ");
  weir_test_driver_close(td);
  td = open_ini(HEAD SRC OP "window = session\ngap = 10\nwindow.key.format = text\n" SSTORE SINK);
  send(td, "a", 1000);
  assert_int_equal(weir_test_driver_pipe(td, "in", "a", 1, NULL, 0, 1005), 0);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@1000/1000=1@1000 a@1000/1000=null@1000 a@1000/1005=2@1005 ");
  weir_test_driver_close(td);
  td = open_ini(HEAD SRC OP "window = sliding\nsize = 10\nwindow.key.format = text\n" WSTORE("10")
                    SINK);
  send(td, "a", 20);
  assert_int_equal(weir_test_driver_pipe(td, "in", "a", 1, NULL, 0, 25), 0);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@10/20=1@20 ");
  weir_test_driver_close(td);
}

/* emit = final, sliding windows: like Kafka Streams, only a record that
 * processInOrder/Reverse takes looks for closed windows, not an early one
 * (before `size`) nor a late one. With an interval of a day only the first
 * look happens: here the second record's, which emits [0, 10000]. */
static void test_sliding_early_record_does_not_look(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td = open_ini(
      HEAD SRC OP "window = sliding\nsize = 10000\nemit = final\n"
                  "emit.interval.ms = 86400000\nwindow.key.format = text\n" WSTORE("10000") SINK);
  send(td, "a", 1000);  /* early: [0, 10000] */
  send(td, "a", 20000); /* close time 20000: windows starting up to 9999 close */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "a@0/10000=1@1000 ");
  weir_test_driver_close(td);
}

/* Sliding windows of a busy key: 300 records 1 ms apart, all within one
 * size, are 599 windows (each record's left window, and the right window
 * of every record but the last), every one read back by the next record:
 * no cap on how many windows a record sees. The last record's left window
 * holds all 300; the first record's right window the 299 after it. */
static void test_sliding_windows_of_a_busy_key(void **state) {
  (void)state;
  enum { N = 300 };
  weir_test_driver_t *td = open_ini(HEAD SRC OP "window = sliding\nsize = 1000\n"
                                                "window.key.format = text\n" WSTORE("1000") SINK);
  for (int i = 0; i < N; i++)
    send(td, "a", 10000 + i);
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, "out", &r);
  static char seen[2 * N][32];
  size_t windows = 0;
  long long last_left = -1, first_right = -1;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < windows && strcmp(seen[j], r[i].key) != 0)
      j++;
    if (j == windows) {
      assert_true(windows < 2 * N);
      snprintf(seen[windows++], sizeof seen[0], "%s", (const char *)r[i].key);
    }
    if (strcmp(r[i].key, "a@9299/10299") == 0)
      last_left = (long long)be64(r[i].value);
    if (strcmp(r[i].key, "a@10001/11001") == 0)
      first_right = (long long)be64(r[i].value);
  }
  assert_int_equal(windows, 2 * N - 1);
  assert_int_equal(last_left, N);
  assert_int_equal(first_right, N - 1);
  weir_test_driver_close(td);
}

/* emit = final keeps its last close time in the session store as a
 * session of the empty key (for a restart, see
 * tests/integration/test_window_session_restore.c): sessions of records
 * with an empty key merge, close and are emitted as any other's, the mark
 * never with them. */
static void test_empty_key_sessions_beside_the_close_mark(void **state) {
  (void)state;
  char got[1024];
  weir_test_driver_t *td =
      open_ini(HEAD SRC OP "window = session\ngap = 1000\nemit = final\nemit.interval.ms = 0\n"
                           "window.key.format = text\n" SSTORE SINK);
  send(td, "", 1000);
  send(td, "", 3000);                               /* close time 2000: [1000, 1000] out */
  assert_int_equal(weir_test_driver_commit(td), 0); /* the mark at 2000 */
  outputs(td, got, sizeof got);
  assert_string_equal(got, "@1000/1000=1@1000 ");
  send(td, "", 2500); /* within a gap of the mark's end: merges with [3000, 3000] only */
  send(td, "x", 6000);
  assert_int_equal(weir_test_driver_commit(td), 0); /* the mark moved to 5000 */
  send(td, "", 5600);                               /* a gap from it: a session of its own */
  send(td, "x", 9000);
  outputs(td, got, sizeof got);
  assert_string_equal(got, "@2500/3000=2@3000 @5600/5600=1@5600 x@6000/6000=1@6000 ");
  weir_test_driver_close(td);
}

/* ------------------------------------------------ the differential test's config */

/* tests/kstreams/weir-windows.ini with its @NAME@ filled in (the sizes of
 * tests/e2e/test_window_kstreams.c: 5 s windows, 2 s hop, 1 s gap, 2 s
 * grace), and bootstrap.servers, which the e2e test passes with --set. */
static char *kstreams_ini(void) {
  static const char *const subst[][2] = {
      {"@APP_ID@", "td"},         {"@STATE_DIR@", "/tmp"}, {"@INPUT@", "in"},
      {"@OUTPUT_PREFIX@", "out"}, {"@SIZE_MS@", "5000"},   {"@ADVANCE_MS@", "2000"},
      {"@GAP_MS@", "1000"},       {"@GRACE_MS@", "2000"},  {"@RETENTION_MS@", "86400000"},
  };
  FILE *f = fopen(WEIR_TEST_SOURCE_DIR "/tests/kstreams/weir-windows.ini", "r");
  assert_non_null(f);
  static char text[16384], out[20000];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  size_t used = 0;
  for (const char *p = text; *p;) {
    size_t i = 0, len = 0;
    for (; *p == '@' && i < sizeof subst / sizeof subst[0]; i++)
      if (strncmp(p, subst[i][0], len = strlen(subst[i][0])) == 0)
        break;
    int hit = *p == '@' && i < sizeof subst / sizeof subst[0]; /* else: a comment's '@' */
    const char *put = hit ? subst[i][1] : p;
    size_t put_len = hit ? strlen(put) : 1;
    assert_true(used + put_len + 64 < sizeof out);
    memcpy(out + used, put, put_len);
    used += put_len;
    p += hit ? len : 1;
    if (used >= 7 && strncmp(out + used - 7, "[weir]\n", 7) == 0)
      used += (size_t)snprintf(out + used, 64, "bootstrap.servers = x\n");
  }
  out[used] = '\0';
  return out;
}

/* Outputs of topic `topic` as "key=count@timestamp " (text keys, counts
 * as decimal strings or int64, as the sink's serde leaves them). */
static void topic_outputs(weir_test_driver_t *td, const char *topic, char *buf, size_t size) {
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, topic, &r), used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    long long count = r[i].value_len == 8 ? (long long)be64(r[i].value) : -1;
    used += (size_t)snprintf(buf + used, size - used, "%s=%lld@%lld ", r[i].key, count,
                             (long long)r[i].timestamp);
  }
}

/* The weir side of the differential test, as Kafka Streams runs with
 * --emit-check-ms 0: every record looks for closed sliding windows and
 * sessions. A whole input processed within a second of wall clock still
 * has every window emitted by the record that closes it (with a 1 s check
 * interval only the first record looked, and the flush record closed
 * nothing). And as Kafka Streams (KStreamSessionWindowAggregate: sessions
 * close at stream time - grace - gap, and that same bound drops late
 * records), a record within grace can merge into a session already
 * emitted: the merged session is emitted again when it closes. */
static void test_kstreams_config_emits_every_window(void **state) {
  (void)state;
  char got[2048];
  weir_test_driver_t *td = open_ini(kstreams_ini());
  send(td, "a", 10000);
  send(td, "a", 12000);
  send(td, "a", 13001); /* close times: sessions 10001, sliding windows 11001 */
  topic_outputs(td, "out-session", got, sizeof got);
  assert_string_equal(got, "a@10000/10000=1@10000 ");
  topic_outputs(td, "out-sliding", got, sizeof got);
  assert_string_equal(got, "a@5000/10000=1@10000 ");
  /* Session: merges into [10000, 10000], as its end 10500 >= 10001. Sliding:
   * counted in [7000, 12000], [8001, 13001], [10001, 15001]; its own left
   * window [5500, 10500] ends before 11001 and is not made; its right
   * window [10501, 15501] is (Kafka Streams checks no close time there). */
  send(td, "a", 10500);
  send(td, "b", 30000); /* closes every window of a */
  topic_outputs(td, "out-session", got, sizeof got);
  assert_string_equal(got, "a@10000/10500=2@10500 a@12000/12000=1@12000 a@13001/13001=1@13001 ");
  topic_outputs(td, "out-sliding", got, sizeof got);
  assert_string_equal(got, "a@7000/12000=3@12000 a@8001/13001=4@13001 a@10001/15001=3@13001 "
                           "a@10501/15501=2@13001 a@12001/17001=1@13001 ");
  weir_test_driver_close(td);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_out_of_order_within_grace),
      cmocka_unit_test(test_record_exactly_on_the_grace_boundary),
      cmocka_unit_test(test_hopping_windows),
      cmocka_unit_test(test_sessions_merged_by_a_bridging_record),
      cmocka_unit_test(test_sliding_windows),
      cmocka_unit_test(test_emit_final_once_per_window),
      cmocka_unit_test(test_emit_final_sessions),
      cmocka_unit_test(test_late_record_to_dead_letter),
      cmocka_unit_test(test_windowed_key_bytes),
      cmocka_unit_test(test_store_kind_checked),
      cmocka_unit_test(test_store_size_must_match),
      cmocka_unit_test(test_kstreams_config_emits_every_window),
      cmocka_unit_test(test_null_key_moves_no_stream_time),
      cmocka_unit_test(test_null_value_counted_except_sliding),
      cmocka_unit_test(test_sliding_early_record_does_not_look),
      cmocka_unit_test(test_sliding_windows_of_a_busy_key),
      cmocka_unit_test(test_empty_key_sessions_beside_the_close_mark),
  };
  int failed = cmocka_run_group_tests_name("rocksdb stores", tests, NULL, NULL);
  td_store_backend = "memory"; /* the same outputs from in-memory stores */
  return failed + cmocka_run_group_tests_name("in-memory stores", tests, NULL, NULL);
}
