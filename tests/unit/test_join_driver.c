/* The std join operator through the test driver, with exact outputs: each
 * kind (stream-table, table-table, stream-stream) with each join it has
 * (inner, left, outer), out-of-order arrivals on both sides, late records
 * past grace, tombstones on either side, a table arriving after the stream,
 * an unmatched record emitted only once its window has closed (never early,
 * KAFKA-10847), and the configurations a join refuses. The left input is
 * topic "l", the right topic "r". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/td_open.h"
#include <cmocka.h>
#include <weir/test_driver.h>

#define HEAD "[weir]\napplication.id = td\nbootstrap.servers = x\ncommit.interval.ms = 100\n"
#define SRCS "[source:l]\ntopic = l\n[source:r]\ntopic = r\n"
#define SINK "[sink:out]\ninput = j\ntopic = out\n"
#define OP "[operator:j]\nplugin = std\ntype = join\ninput = l, r\n"
#define KV(name) "[store:" name "]\ntype = kv\n"
#define WIN(name) "[store:" name "]\ntype = window\nwindow.size.ms = 1\nretention.ms = 1000\n"
/* `extra`: more parameters of the join. */
#define STREAM_TABLE(join, extra)                                                                  \
  OP "kind = stream-table\njoin = " join "\n" extra "store = t\n" KV("t")
#define TABLE_TABLE(join, extra)                                                                   \
  OP "kind = table-table\njoin = " join "\n" extra "store = a, b\n" KV("a") KV("b")
/* Records within 10 ms of each other join; 5 ms of grace. */
#define STREAM_STREAM(join, extra)                                                                 \
  OP "kind = stream-stream\njoin = " join "\nwindow = 10\ngrace = 5\n" extra                       \
     "store = a, b\n" WIN("a") WIN("b")

static void send(weir_test_driver_t *td, const char *topic, const char *key, const char *value,
                 int64_t ts) {
  td_send(td, topic, key, value, ts);
}

static const char *outputs(weir_test_driver_t *td) {
  return td_outputs(td, "out");
}

/* ---------------------------------------------------------------- stream-table */

/* A stream record takes the table's value of its key at the time it is
 * processed: none before the table has the key (inner: no output), the
 * latest after an update, none after a table tombstone. Table updates emit
 * nothing. The merge: the left object's members, a clash taking the
 * right's value, then the right's other members. */
static void test_stream_table_inner(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS STREAM_TABLE("inner", "") SINK);
  send(td, "l", "k1", "{\"order\":1,\"name\":\"?\"}", 100); /* before the table: nothing */
  send(td, "r", "k1", "{\"name\":\"ann\",\"city\":\"x\"}", 150);
  assert_string_equal(outputs(td), "");
  send(td, "l", "k1", "{\"order\":2,\"name\":\"?\"}", 200);
  assert_string_equal(outputs(td), "k1={\"order\":2,\"name\":\"ann\",\"city\":\"x\"}@200 ");
  send(td, "r", "k1", "{\"name\":\"bob\"}", 300);
  send(td, "l", "k1", "{\"order\":3}", 250); /* out of order: the table's value now */
  send(td, "l", "k2", "{\"order\":4}", 260); /* no such key in the table */
  send(td, "l", "k1", NULL, 270);            /* a stream tombstone: skipped */
  assert_string_equal(outputs(td), "k1={\"order\":3,\"name\":\"bob\"}@250 ");
  send(td, "r", "k1", NULL, 400); /* a table tombstone deletes the key */
  send(td, "l", "k1", "{\"order\":5}", 500);
  assert_string_equal(outputs(td), "");
  weir_test_driver_close(td);
}

/* A left join emits every stream record: with a JSON null right side while
 * the table has no value for its key (before the table arrived, after its
 * tombstone), and a record without a key joins with null (KIP-962). */
static void test_stream_table_left(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS STREAM_TABLE("left", "value = nest\n") SINK);
  send(td, "l", "k1", "{\"order\":1}", 100); /* the table arrives after it */
  send(td, "r", "k1", "\"gold\"", 90);
  send(td, "l", "k1", "{\"order\":2}", 110);
  send(td, "l", NULL, "{\"order\":3}", 120);
  send(td, "r", "k1", NULL, 130);
  send(td, "l", "k1", "plain text", 140); /* not JSON: nested as a string */
  assert_string_equal(outputs(td), "k1={\"left\":{\"order\":1},\"right\":null}@100 "
                                   "k1={\"left\":{\"order\":2},\"right\":\"gold\"}@110 "
                                   "-={\"left\":{\"order\":3},\"right\":null}@120 "
                                   "k1={\"left\":\"plain text\",\"right\":null}@140 ");
  /* Escapes inside and between the eight-byte runs a string is copied in. */
  send(td, "l", "k1", "0123456789\"abcdefgh\\ijklmnop\tq", 150);
  send(td, "l", "k1", "\"x", 160);
  assert_string_equal(
      outputs(td),
      "k1={\"left\":\"0123456789\\\"abcdefgh\\\\ijklmnop\\u0009q\",\"right\":null}@150 "
      "k1={\"left\":\"\\\"x\",\"right\":null}@160 ");
  weir_test_driver_close(td);
}

/* ---------------------------------------------------------------- table-table */

/* Inner: a result once both sides have the key, from either side's update,
 * with the larger of the two timestamps; a tombstone when one side's
 * tombstone ends it, and nothing for updates that leave no result. */
static void test_table_table_inner(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS TABLE_TABLE("inner", "") SINK);
  send(td, "l", "k", "{\"a\":1}", 100);
  assert_string_equal(outputs(td), "");
  send(td, "r", "k", "{\"b\":2}", 50); /* out of order: the left's timestamp wins */
  assert_string_equal(outputs(td), "k={\"a\":1,\"b\":2}@100 ");
  send(td, "l", "k", "{\"a\":3,\"b\":0}", 120);
  assert_string_equal(outputs(td), "k={\"a\":3,\"b\":2}@120 ");
  send(td, "r", "k", NULL, 130);
  assert_string_equal(outputs(td), "k=DEL@130 ");
  send(td, "l", "k", "{\"a\":4}", 140); /* no right: nothing */
  send(td, "l", "k", NULL, 150);        /* no result before: no tombstone */
  send(td, "r", "z", NULL, 160);        /* a tombstone for a key never seen */
  assert_string_equal(outputs(td), "");
  weir_test_driver_close(td);
}

/* Left: every left value, with a null right while the right has none; a
 * left tombstone deletes the result; right updates without a left emit
 * nothing. */
static void test_table_table_left(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS TABLE_TABLE("left", "value = nest\n") SINK);
  send(td, "l", "k", "{\"a\":1}", 100);
  send(td, "r", "k", "{\"b\":2}", 90);
  send(td, "r", "k", NULL, 110);
  send(td, "l", "k", NULL, 120);
  send(td, "r", "k", "{\"b\":5}", 130);
  assert_string_equal(outputs(td), "k={\"left\":{\"a\":1},\"right\":null}@100 "
                                   "k={\"left\":{\"a\":1},\"right\":{\"b\":2}}@100 "
                                   "k={\"left\":{\"a\":1},\"right\":null}@110 "
                                   "k=DEL@120 ");
  weir_test_driver_close(td);
}

/* Outer: a result while either side has the key; the tombstone only when
 * the last side goes. */
static void test_table_table_outer(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS TABLE_TABLE("outer", "") SINK);
  send(td, "r", "k", "{\"b\":1}", 100);
  send(td, "l", "k", "{\"a\":1}", 110);
  send(td, "l", "k", NULL, 120);
  send(td, "r", "k", NULL, 130);
  send(td, "l", "k", NULL, 140);
  assert_string_equal(outputs(td), "k={\"b\":1}@100 k={\"a\":1,\"b\":1}@110 k={\"b\":1}@120 "
                                   "k=DEL@130 ");
  weir_test_driver_close(td);
}

/* ---------------------------------------------------------------- stream-stream */

/* Inner: every pair within 10 ms, once, when its second record arrives,
 * with the larger timestamp; out of order on both sides; two records of one
 * key and time both kept; late records (own window + grace behind stream
 * time) and tombstones dropped. */
static void test_stream_stream_inner(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS STREAM_STREAM("inner", "value = nest\n") SINK);
  send(td, "l", "k", "\"A\"", 100);
  send(td, "r", "k", "\"B\"", 105);
  send(td, "r", "k", "\"C\"", 95);  /* out of order, right */
  send(td, "l", "k", "\"D\"", 92);  /* out of order, left: 92 + 10 + 5 >= 105 */
  send(td, "r", "k", "\"E\"", 111); /* 11 ms after A: no pair */
  assert_string_equal(outputs(td), "k={\"left\":\"A\",\"right\":\"B\"}@105 "
                                   "k={\"left\":\"A\",\"right\":\"C\"}@100 "
                                   "k={\"left\":\"D\",\"right\":\"C\"}@95 ");
  send(td, "l", "k", "\"F\"", 95); /* late (95 + 10 + 5 < 111), though B and C are near */
  send(td, "r", "k", "\"G\"", 90); /* late too (90 + 10 + 5 < 111), though A and D are near */
  send(td, "l", "k", NULL, 110);   /* a tombstone: skipped */
  assert_string_equal(outputs(td), "");
  send(td, "l", "j", "\"H\"", 120);
  send(td, "l", "j", "\"I\"", 120); /* the same key and time */
  send(td, "r", "j", "\"J\"", 121);
  assert_string_equal(outputs(td), "j={\"left\":\"H\",\"right\":\"J\"}@121 "
                                   "j={\"left\":\"I\",\"right\":\"J\"}@121 ");
  weir_test_driver_close(td);
}

/* Left: an unmatched left record is emitted with a null right only once no
 * right record could still match it: stream time > t + before + after +
 * grace (here t + 25). A right record that arrives in time joins it, and no
 * null was emitted before (KAFKA-10847: Kafka Streams had emitted one,
 * then the pair). Unmatched right records are never emitted. */
static void test_stream_stream_left(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS STREAM_STREAM("left", "value = nest\n") SINK);
  send(td, "l", "x", "\"X\"", 100);
  send(td, "l", "k", "\"A\"", 100);
  send(td, "r", "k", "\"B\"", 108);
  send(td, "r", "q", "\"Q\"", 109); /* unmatched right: never emitted */
  assert_string_equal(outputs(td), "k={\"left\":\"A\",\"right\":\"B\"}@108 ");
  send(td, "l", "z", "\"Z\"", 125); /* X's window is not closed yet: 125 = 100 + 25 */
  assert_string_equal(outputs(td), "");
  send(td, "r", "w", "\"W\"", 126); /* closed now: X with a null, before W */
  assert_string_equal(outputs(td), "x={\"left\":\"X\",\"right\":null}@100 ");
  /* The trap: P at 200, stream time 224, then a right record at 210 (not
   * late: 210 + 10 + 5 >= 224) matches P. Emitting P's null at stream time
   * > 200 + after + grace = 215 would have been early. */
  send(td, "l", "p", "\"P\"", 200);
  send(td, "l", "y", "\"Y\"", 224);
  assert_string_equal(outputs(td), "z={\"left\":\"Z\",\"right\":null}@125 ");
  send(td, "r", "p", "\"R\"", 210);
  assert_string_equal(outputs(td), "p={\"left\":\"P\",\"right\":\"R\"}@210 ");
  send(td, "l", "v", "\"V\"", 300); /* closes P (matched: nothing) and Y */
  assert_string_equal(outputs(td), "y={\"left\":\"Y\",\"right\":null}@224 ");
  weir_test_driver_close(td);
}

/* retention.ms = before + after + grace (25 here), the least README allows:
 * unmatched records are still emitted when stream time jumps past their
 * close. The join reads them when a record moves stream time on; a store
 * that had already expired them by the task's new stream time (live: t + 1
 * >= stream time - 25) lost every one a jump of more than a millisecond
 * closed. The join differential test against Kafka Streams found left and
 * outer joins emitting no unmatched record at all this way. */
static void test_stream_stream_least_retention(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(
      HEAD SRCS OP "kind = stream-stream\njoin = outer\nwindow = 10\ngrace = 5\nvalue = nest\n"
                   "store = a, b\n"
                   "[store:a]\ntype = window\nwindow.size.ms = 1\nretention.ms = 25\n"
                   "[store:b]\ntype = window\nwindow.size.ms = 1\nretention.ms = 25\n" SINK);
  send(td, "l", "x", "\"X\"", 100);
  send(td, "r", "y", "\"Y\"", 101);
  send(td, "l", "k", "\"A\"", 110);
  send(td, "r", "k", "\"B\"", 112);
  assert_string_equal(outputs(td), "k={\"left\":\"A\",\"right\":\"B\"}@112 ");
  send(td, "l", "z", "\"Z\"", 1000); /* closes X, Y (and A, B: matched) */
  assert_string_equal(outputs(td), "x={\"left\":\"X\",\"right\":null}@100 "
                                   "y={\"left\":null,\"right\":\"Y\"}@101 ");
  send(td, "r", "w", "\"W\"", 1026); /* closes Z, one millisecond after its close */
  assert_string_equal(outputs(td), "z={\"left\":\"Z\",\"right\":null}@1000 ");
  weir_test_driver_close(td);
}

/* Outer: unmatched records of both sides, once closed, left side first,
 * each in time order; matched ones never; out-of-order arrivals on both
 * sides. */
static void test_stream_stream_outer(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS STREAM_STREAM("outer", "") SINK);
  send(td, "r", "b", "{\"r\":1}", 104);
  send(td, "l", "a", "{\"l\":1}", 100);
  send(td, "l", "k", "{\"l\":2}", 102);
  send(td, "r", "k", "{\"r\":2}", 98); /* out of order: matches l:2 */
  send(td, "r", "c", "{\"r\":3}", 96);
  send(td, "l", "d", "{\"l\":4}", 99);
  assert_string_equal(outputs(td), "k={\"l\":2,\"r\":2}@102 ");
  send(td, "l", "e", "{\"l\":5}", 124); /* closes time <= 98: c (k@98 matched), not d@99 */
  assert_string_equal(outputs(td), "c={\"r\":3}@96 ");
  send(td, "r", "e", "{\"r\":5}", 130); /* closes time <= 104, then joins e */
  assert_string_equal(outputs(td), "d={\"l\":4}@99 a={\"l\":1}@100 b={\"r\":1}@104 "
                                   "e={\"l\":5,\"r\":5}@130 ");
  send(td, "l", "f", "{\"l\":6}", 200);
  assert_string_equal(outputs(td), "");
  weir_test_driver_close(td);
}

/* before/after differ: a left record at t joins right records in [t -
 * before, t + after], a right record at t' left records in [t' - after, t'
 * + before]; a right record is late past t' + before + grace. With before =
 * 10, after = 0, an unmatched left record at 100 waits for stream time >
 * 110: a right record at 95 is still taken at stream time 105 and matches
 * it (Kafka Streams' t + after + grace rule would have emitted its null at
 * 101). */
static void test_stream_stream_before_after(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(
      HEAD SRCS OP "kind = stream-stream\njoin = left\nbefore = 10\nafter = 0\nvalue = nest\n"
                   "store = a, b\n" WIN("a") WIN("b") SINK);
  send(td, "l", "k", "\"A\"", 100);
  send(td, "r", "k", "\"B\"", 101); /* after A: no pair (after = 0) */
  send(td, "r", "z", "\"Z\"", 105);
  send(td, "r", "k", "\"C\"", 95); /* 95 + 10 >= 105: taken, within 10 ms before A */
  assert_string_equal(outputs(td), "k={\"left\":\"A\",\"right\":\"C\"}@100 ");
  send(td, "l", "x", "\"X\"", 105); /* at 104 it would be late: 104 + after 0 < 105 */
  send(td, "l", "k", "\"D\"", 110); /* B (101) and C? C is 15 before: only B */
  assert_string_equal(outputs(td), "k={\"left\":\"D\",\"right\":\"B\"}@110 ");
  send(td, "r", "w", "\"W\"", 115); /* closes time <= 104: A was matched */
  assert_string_equal(outputs(td), "");
  send(td, "r", "w", "\"W\"", 116); /* closes X (105 + 10 < 116) */
  assert_string_equal(outputs(td), "x={\"left\":\"X\",\"right\":null}@105 ");
  weir_test_driver_close(td);
}

/* A record the join skips still moves the task's stream time, by which its
 * window stores expire (at their next write). Here a left tombstone at 5000
 * does, with retention 1000; C (105) and D (106) come after it. The join's
 * time used to stay at 100 (it had skipped the tombstone), so it took C and
 * D, while its stores had expired B by 5000 or not, depending on whether
 * they had been written since: the inner join found B for both (its right
 * store was not written after the jump), the outer join for C only
 * (flagging B as matched wrote the right store, which expired B first), and
 * lost U (C's own put wrote the left store before U was emitted): fewer
 * results than the inner join on the same input (the join differential
 * test's late input: 772 against 819). Now the join's time is at least the
 * task's, as Kafka Streams' shared time moves with a record it skips: C and
 * D are late for both, the tombstone closes U, B and V (the outer join's
 * nulls), and joining goes on at the new time. */
static void stream_stream_after_jump(const char *ini, const char *want) {
  weir_test_driver_t *td = open_ini(ini);
  send(td, "r", "k", "\"B\"", 100);
  send(td, "l", "u", "\"U\"", 101);
  send(td, "r", "v", "\"V\"", 102);
  send(td, "l", "z", NULL, 5000); /* skipped, but the task's stream time is 5000 */
  send(td, "l", "k", "\"C\"", 105);
  send(td, "l", "k", "\"D\"", 106);
  send(td, "r", "k", "\"E\"", 5000);
  send(td, "l", "k", "\"F\"", 4995);
  send(td, "r", "w", "\"W\"", 5001);
  send(td, "r", "y", NULL, 9000);
  assert_string_equal(outputs(td), want);
  weir_test_driver_close(td);
}

static void test_stream_stream_skipped_moves_time(void **state) {
  (void)state;
  stream_stream_after_jump(HEAD SRCS STREAM_STREAM("inner", "value = nest\n") SINK,
                           "k={\"left\":\"F\",\"right\":\"E\"}@5000 ");
  stream_stream_after_jump(HEAD SRCS STREAM_STREAM("outer", "value = nest\n") SINK,
                           "u={\"left\":\"U\",\"right\":null}@101 "
                           "k={\"left\":null,\"right\":\"B\"}@100 "
                           "v={\"left\":null,\"right\":\"V\"}@102 "
                           "k={\"left\":\"F\",\"right\":\"E\"}@5000 "
                           "w={\"left\":null,\"right\":\"W\"}@5001 ");
}

/* A commit does not change what a join emits. The join writes its
 * bookkeeping row into its left store at each commit, which moves that
 * store to the task's stream time: after a skipped record far ahead (r's
 * tombstone at 5000), a commit expired A, so the late-by-then C (104) found
 * A without the commit and nothing with it; commits come every
 * commit.interval.ms of wall clock, so the join's output depended on
 * timing (the late input's ss-inner: 819 results in one run, 813 in
 * another). C is late for both now. */
static const char *stream_stream_commit_run(int commit) {
  weir_test_driver_t *td = open_ini(HEAD SRCS STREAM_STREAM("inner", "value = nest\n") SINK);
  send(td, "l", "k", "\"A\"", 100);
  send(td, "r", "k", "\"B\"", 100);
  send(td, "r", "z", NULL, 5000);
  if (commit)
    assert_int_equal(weir_test_driver_commit(td), WEIR_OK);
  send(td, "r", "k", "\"C\"", 104);
  const char *out = outputs(td);
  weir_test_driver_close(td);
  return out;
}

static void test_stream_stream_commit_changes_nothing(void **state) {
  (void)state;
  const char *want = "k={\"left\":\"A\",\"right\":\"B\"}@100 ";
  assert_string_equal(stream_stream_commit_run(0), want);
  assert_string_equal(stream_stream_commit_run(1), want);
}

/* The same random input through an inner and an outer join of one
 * topology (the join differential test's late input, scaled down: four
 * keys, one side per phase, records in order, out of order within grace,
 * late past it, and tombstones at stream time or 5 s ahead), run twice:
 * without commits, and with one after every tenth record. Every inner
 * result must be among the outer's (an outer join emits every matched
 * pair), and a commit must change nothing. Before the join's time followed
 * its task's, the first seed gave the outer join fewer results than the
 * inner one (258 against 421, 178 inner pairs missing), as the join
 * differential test's late input did (772 against 819). The counts pin the
 * generator (and what the join drops: tombstones ahead move its time). */
#define DIFF_JOIN(name, type)                                                                      \
  "[operator:" name                                                                                \
  "]\nplugin = std\ntype = join\ninput = l, r\nkind = stream-stream\njoin = " type                 \
  "\nwindow = 2000\ngrace = 1000\nvalue = nest\nstore = " name "-a, " name "-b\n[store:" name      \
  "-a]\ntype = window\nwindow.size.ms = 1\nretention.ms = 5000\n[store:" name                      \
  "-b]\ntype = window\nwindow.size.ms = 1\nretention.ms = 5000\n[sink:o-" name "]\ninput = " name  \
  "\ntopic = o-" name "\n"

typedef struct lines {
  char **line;
  size_t n, cap;
} lines_t;

static void lines_read(weir_test_driver_t *td, const char *topic, lines_t *s) {
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, topic, &r);
  for (size_t i = 0; i < n; i++) {
    char b[256];
    snprintf(b, sizeof b, "%s|%s|%lld", r[i].key, r[i].value ? r[i].value : "DEL",
             (long long)r[i].timestamp);
    if (s->n == s->cap) {
      s->cap = s->cap ? 2 * s->cap : 256;
      s->line = realloc(s->line, s->cap * sizeof *s->line);
      assert_non_null(s->line);
    }
    s->line[s->n++] = strdup(b);
    assert_non_null(s->line[s->n - 1]);
  }
}

static int line_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_free(lines_t *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->line[i]);
  free(s->line);
}

static void diff_run(uint64_t seed, int commits, lines_t *inner, lines_t *outer) {
  weir_test_driver_t *td =
      open_ini(HEAD SRCS DIFF_JOIN("inner", "inner") DIFF_JOIN("outer", "outer"));
  uint64_t x = seed;
  long long clock = 1000000;
  int seq = 0;
  for (int phase = 0; phase < 12; phase++) {
    const char *side = phase % 2 ? "l" : "r";
    for (int n = 0; n < 60; n++, seq++) {
      char k[8], v[16];
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      uint64_t dice = x % 100, key = (x >> 8) % 4, back = (x >> 16) % 2000;
      snprintf(k, sizeof k, "k%d", (int)key);
      snprintf(v, sizeof v, "\"%s%d\"", side, seq);
      const char *value = v;
      long long ts;
      if (dice < 4)
        ts = clock + 5000, value = NULL; /* a tombstone ahead */
      else if (dice < 6)
        ts = clock, value = NULL; /* a tombstone at stream time */
      else if (dice < 12)
        ts = clock - 5001 - (long long)back; /* late past window + grace */
      else if (dice < 30)
        ts = clock - (long long)(back / 2); /* out of order within grace */
      else
        ts = clock += (long long)((x >> 24) % 250);
      assert_int_equal(
          weir_test_driver_pipe(td, side, k, strlen(k), value, value ? strlen(value) : 0, ts), 0);
      if (commits && seq % 10 == 0)
        assert_int_equal(weir_test_driver_commit(td), WEIR_OK);
    }
  }
  send(td, "l", "k0", "\"end\"", clock + 600000); /* closes every window */
  lines_read(td, "o-inner", inner);
  lines_read(td, "o-outer", outer);
  weir_test_driver_close(td);
  qsort(inner->line, inner->n, sizeof *inner->line, line_cmp);
  qsort(outer->line, outer->n, sizeof *outer->line, line_cmp);
}

static void assert_same(const lines_t *a, const lines_t *b) {
  assert_int_equal(a->n, b->n);
  for (size_t i = 0; i < a->n; i++)
    assert_string_equal(a->line[i], b->line[i]);
}

static void test_stream_stream_outer_holds_inner(void **state) {
  (void)state;
  static const struct {
    uint64_t seed;
    size_t inner, outer;
  } runs[] = {{1, 99, 307}, {2, 145, 410}, {3, 114, 289}, {4, 176, 320}};
  for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
    lines_t in0 = {0}, out0 = {0}, in1 = {0}, out1 = {0};
    diff_run(0x9e3779b97f4a7c15ULL * runs[r].seed, 0, &in0, &out0);
    diff_run(0x9e3779b97f4a7c15ULL * runs[r].seed, 1, &in1, &out1);
    size_t missing = 0;
    for (size_t i = 0, o = 0; i < in0.n;) {
      int c = o < out0.n ? strcmp(in0.line[i], out0.line[o]) : -1;
      if (c == 0)
        i++, o++;
      else if (c < 0)
        missing++, i++;
      else
        o++;
    }
    print_message("seed %d: inner %zu results, outer %zu, inner ones missing from outer %zu\n",
                  (int)runs[r].seed, in0.n, out0.n, missing);
    assert_int_equal(missing, 0);
    assert_same(&in0, &in1);
    assert_same(&out0, &out1);
    assert_int_equal(in0.n, runs[r].inner);
    assert_int_equal(out0.n, runs[r].outer);
    lines_free(&in0), lines_free(&out0), lines_free(&in1), lines_free(&out1);
  }
}

/* late = error: a late record follows processing.error.policy, here to the
 * dead-letter topic, unchanged, and joins nothing. */
static void test_stream_stream_late_to_dead_letter(void **state) {
  (void)state;
  const weir_test_record_t *r;
  weir_test_driver_t *td = open_ini(
      "[weir]\napplication.id = td\nbootstrap.servers = x\nprocessing.error.policy = "
      "dead-letter\ndead.letter.topic = dlq\n" SRCS STREAM_STREAM("inner", "late = error\n") SINK);
  send(td, "l", "k", "{\"l\":1}", 100);
  send(td, "r", "z", "{\"r\":0}", 200);
  send(td, "r", "k", "{\"r\":1}", 100); /* 100 + 10 + 5 < 200: late */
  assert_int_equal(weir_test_driver_read(td, "dlq", &r), 1);
  assert_string_equal(r[0].key, "k");
  assert_string_equal(r[0].value, "{\"r\":1}");
  assert_int_equal(r[0].timestamp, 100);
  assert_string_equal(outputs(td), "");
  weir_test_driver_close(td);
}

/* ---------------------------------------------------------------- inputs */

/* Joins in a chain: the first join's output is the second's left input,
 * and each tells its sides apart by the node that delivers a record (SDK
 * 1.3), whatever topic the record came from. */
static void test_joins_chained(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(
      HEAD SRCS "[source:g]\ntopic = g\n"
                "[operator:j1]\nplugin = std\ntype = join\ninput = l, r\nkind = stream-table\n"
                "join = left\nstore = t1\n" KV(
                    "t1") "[operator:j]\nplugin = std\ntype = join\n"
                          "input = j1, g\nkind = stream-table\njoin = left\nstore = t2\n" KV("t2")
                              SINK);
  send(td, "r", "k", "{\"name\":\"ann\"}", 10);
  send(td, "g", "k", "{\"region\":\"eu\"}", 20);
  send(td, "l", "k", "{\"order\":1}", 30);
  send(td, "l", "z", "{\"order\":2}", 40);
  assert_string_equal(outputs(td), "k={\"order\":1,\"name\":\"ann\",\"region\":\"eu\"}@30 "
                                   "z={\"order\":2}@40 ");
  weir_test_driver_close(td);
}

/* Both sides fed by one source, directly and through a passthrough: one
 * input record reaches the join twice, once as each side. */
static void test_one_record_on_both_sides(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(
      HEAD "[source:s]\ntopic = s\n[operator:p]\nplugin = std\ntype = passthrough\ninput = s\n"
           "[operator:j]\nplugin = std\ntype = join\ninput = s, p\nkind = table-table\n"
           "value = nest\nstore = a, b\n" KV("a") KV("b") SINK);
  send(td, "s", "k", "1", 10);
  assert_string_equal(outputs(td), "k={\"left\":1,\"right\":1}@10 ");
  weir_test_driver_close(td);
}

/* ---------------------------------------------------------------- refusals */

#define R_SINK "[sink:o2]\ninput = r\ntopic = o2\n"

/* Each refusal names the operator's file:line (line 9: [operator:j]). */
static void test_refusals(void **state) {
  (void)state;
  td_expect_refused(HEAD SRCS "[operator:j]\nplugin = std\ntype = join\ninput = l\nkind = "
                              "table-table\nstore = a, b\n" KV("a") KV("b") SINK R_SINK,
                    "operator 'j' (test-driver.ini:9, ");
  td_expect_refused(HEAD SRCS "[operator:j]\nplugin = std\ntype = join\ninput = l\nkind = "
                              "table-table\nstore = a, b\n" KV("a") KV("b") SINK R_SINK,
                    "a join reads two inputs, left then right: input = LEFT, RIGHT (it lists 1)");
  td_expect_refused(HEAD SRCS OP "kind = table-table\nstore = a, b\ngroup.by = value\n" KV("a")
                        KV("b") SINK,
                    "a join cannot have group.by");
  td_expect_refused(HEAD SRCS STREAM_TABLE("outer", "") SINK,
                    "kind = stream-table joins are inner or "
                    "left");
  td_expect_refused(HEAD SRCS OP "kind = stream-stream\nstore = a, b\n" WIN("a") WIN("b") SINK,
                    "kind = stream-stream needs a join window: window = MS");
  td_expect_refused(HEAD SRCS STREAM_TABLE("inner", "window = 10\n") SINK,
                    "window is only for kind = stream-stream; remove it");
  td_expect_refused(HEAD SRCS OP "kind = stream-stream\nwindow = 5\nstore = a, b\n" KV("a") WIN("b")
                        SINK,
                    "store 'a' (left side) must have type = window for kind = stream-stream");
  td_expect_refused(HEAD SRCS OP "kind = table-table\nstore = a\n" KV("a") SINK,
                    "the right side needs a store: list two in `store =`");
  td_expect_refused(HEAD SRCS OP "kind = stream-table\n" SINK,
                    "the right side needs a store: list one in `store =`");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream_table_inner),
      cmocka_unit_test(test_stream_table_left),
      cmocka_unit_test(test_table_table_inner),
      cmocka_unit_test(test_table_table_left),
      cmocka_unit_test(test_table_table_outer),
      cmocka_unit_test(test_stream_stream_inner),
      cmocka_unit_test(test_stream_stream_left),
      cmocka_unit_test(test_stream_stream_outer),
      cmocka_unit_test(test_stream_stream_before_after),
      cmocka_unit_test(test_stream_stream_least_retention),
      cmocka_unit_test(test_stream_stream_late_to_dead_letter),
      cmocka_unit_test(test_stream_stream_skipped_moves_time),
      cmocka_unit_test(test_stream_stream_commit_changes_nothing),
      cmocka_unit_test(test_stream_stream_outer_holds_inner),
      cmocka_unit_test(test_joins_chained),
      cmocka_unit_test(test_one_record_on_both_sides),
      cmocka_unit_test(test_refusals),
  };
  int failed = cmocka_run_group_tests_name("rocksdb stores", tests, NULL, NULL);
  td_store_backend = "memory"; /* the same outputs from in-memory stores */
  return failed + cmocka_run_group_tests_name("in-memory stores", tests, NULL, NULL);
}
