/* join_support — what the join end-to-end tests share (test_join_kstreams:
 * weir against Kafka Streams; test_join_rebalance: two weir instances with a
 * rebalance against one): the phased input of ten joins over seven
 * co-partitioned topics and a global table (tests/kstreams/weir-joins.ini
 * for weir), and the oracle that reads two sets of outputs and compares them
 * (multisets of results; per-key sequences and final values for
 * table-table). test_join_kstreams.c's header says why the input is built
 * as it is and what is compared. Include after cmocka.h. */
#ifndef WEIR_TESTS_JOIN_SUPPORT_H
#define WEIR_TESTS_JOIN_SUPPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "window_diff.h"

enum {
  PARTITIONS = 3,
  KEYS = 12,       /* k00..k11; key i on partition i % PARTITIONS */
  PHASES = 6,      /* even: right side, odd: left side */
  STREAM_PER = 40, /* stream records a partition a phase */
  WINDOW_MS = 2000,
  GRACE_MS = 1000,
  /* on time but behind stream time: less than min(grace, window) */
  OOO_MS = GRACE_MS < WINDOW_MS ? GRACE_MS : WINDOW_MS,
  SIDES = 7, /* the inputs the groups consume (not sg-g, the global table) */
  MODES = 10,
  SG_PER = 20, /* stream-global records a partition a left phase */
};
__attribute__((unused)) static const char *const sides[SIDES] = {"st-l", "st-r", "tt-l", "tt-r",
                                                                 "ss-l", "ss-r", "sg-s"};
__attribute__((unused)) static const char *const modes[MODES] = {
    "st-inner", "st-left", "tt-inner", "tt-left",  "tt-outer",
    "ss-inner", "ss-left", "ss-outer", "sg-inner", "sg-left"};
__attribute__((unused)) static const long long START_AGO_MS = 3600000LL;
__attribute__((unused)) static const long long FLUSH_AHEAD_MS = 600000LL;

/* ------------------------------------------------------------ the input */

__attribute__((unused)) static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
__attribute__((unused)) static uint64_t rnd(uint64_t below) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return rnd_state % below;
}

typedef struct input {
  char prefix[64]; /* the input topics are PREFIX-SIDE */
  rd_kafka_t *p;
  long long produced;
  long long clock[4][PARTITIONS]; /* st, tt, ss, sg: each partition's stream time */
  long long global_produced;      /* of those, to the global table's topic */
  int seq;
  /* what the input holds, checked so the test tests it */
  int table_deletes, null_keys, stream_tombstones, out_of_order, late, table_after, on_bound;
  /* stream-stream: each side's in-order records of its last phase */
  char hist_key[2][PARTITIONS][STREAM_PER][8];
  long long hist_ts[2][PARTITIONS][STREAM_PER];
  int hist_n[2][PARTITIONS];
} input_t;

__attribute__((unused)) static void produce(input_t *in, const char *side, int part,
                                            const char *key, const char *value, long long ts) {
  char topic[128];
  snprintf(topic, sizeof topic, "%s-%s", in->prefix, side);
  while (rd_kafka_producev(
             in->p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
             RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0), RD_KAFKA_V_TIMESTAMP(ts),
             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    rd_kafka_poll(in->p, 10);
  rd_kafka_poll(in->p, 0);
  in->produced++;
}

__attribute__((unused)) static const char *key_of(int i, char *buf, size_t size) {
  snprintf(buf, size, "k%02d", i);
  return buf;
}

__attribute__((unused)) static const char *next_value(input_t *in, const char *prefix, char *buf,
                                                      size_t size) {
  snprintf(buf, size, "%s%d", prefix, in->seq++);
  return buf;
}

/* A table phase: some keys updated (once or twice), some deleted (deleting a
 * key the table lacks too). In phase 0 a quarter of the keys get none, so
 * their first table value comes after stream records of theirs. */
__attribute__((unused)) static void table_phase(input_t *in, int kind, const char *side,
                                                const char *prefix, int phase) {
  char k[16], v[32];
  for (int i = 0; i < KEYS; i++) {
    int part = i % PARTITIONS;
    uint64_t dice = rnd(100);
    if (phase == 0 && i % 4 == 3) {
      in->table_after++;
      continue;
    }
    long long *clock = &in->clock[kind][part];
    if (dice < 25) {
      produce(in, side, part, key_of(i, k, sizeof k), NULL, *clock += 1 + (long long)rnd(50));
      in->table_deletes++;
    } else if (dice < 75) {
      for (int n = 1 + (int)rnd(2); n > 0; n--)
        produce(in, side, part, key_of(i, k, sizeof k), next_value(in, prefix, v, sizeof v),
                *clock += 1 + (long long)rnd(50));
    }
  }
}

/* A stream phase of stream-table: each partition's keys, a few records with
 * no key (a left join keeps them, KIP-962) or no value (skipped). */
__attribute__((unused)) static void st_stream_phase(input_t *in) {
  char k[16], v[32];
  for (int part = 0; part < PARTITIONS; part++)
    for (int n = 0; n < STREAM_PER; n++) {
      long long *clock = &in->clock[0][part];
      uint64_t dice = rnd(100);
      const char *key = key_of(part + PARTITIONS * (int)rnd(KEYS / PARTITIONS), k, sizeof k);
      long long ts = dice < 20 ? *clock - (long long)rnd(1000) : (*clock += (long long)rnd(200));
      if (dice >= 20 && dice < 24) {
        key = NULL;
        in->null_keys++;
      }
      const char *value = next_value(in, "s", v, sizeof v);
      if (dice >= 24 && dice < 27) {
        value = NULL;
        in->stream_tombstones++;
      }
      produce(in, "st-l", part, key, value, ts);
    }
}

/* WEIR_TEST_JOIN_LATE=1: stream-stream input with records late past
 * window + grace and tombstones ahead of stream time, where the two differ
 * by design (see the header): the test then fails, showing how. */
__attribute__((unused)) static int with_late(void) {
  const char *v = getenv("WEIR_TEST_JOIN_LATE");
  return v && strcmp(v, "1") == 0;
}

/* A phase of one side of stream-stream: mostly in order, some behind stream
 * time by less than OOO_MS, a few tombstones at stream time (skipped by
 * both); with_late(): some late past window + grace, tombstones ahead. */
/* A record exactly `window` after one of the other side's last phase with
 * the same key (a left record: the right one `before` it; a right record:
 * `after` the left one), or one millisecond more: a window bound off by one
 * cannot pass. The first such record whose pair is on time, less than
 * OOO_MS behind stream time. */
__attribute__((unused)) static void ss_on_bound(input_t *in, int right, int part,
                                                const char *prefix) {
  char v[32];
  long long clock = in->clock[2][part];
  for (int i = 0; i < in->hist_n[!right][part]; i++) {
    long long ts = in->hist_ts[!right][part][i] + WINDOW_MS + (long long)rnd(2);
    if (ts <= clock - OOO_MS + 1)
      continue;
    produce(in, right ? "ss-r" : "ss-l", part, in->hist_key[!right][part][i],
            next_value(in, prefix, v, sizeof v), ts);
    if (ts > clock)
      in->clock[2][part] = ts;
    in->on_bound++;
    return;
  }
}

__attribute__((unused)) static void ss_phase(input_t *in, const char *side, const char *prefix) {
  char k[16], v[32];
  int right = strcmp(side, "ss-r") == 0;
  for (int part = 0; part < PARTITIONS; part++)
    for (int n = 0; n < STREAM_PER; n++) {
      long long *clock = &in->clock[2][part];
      if (n == 0) {
        ss_on_bound(in, right, part, prefix);
        in->hist_n[right][part] = 0;
      }
      uint64_t dice = rnd(100);
      const char *key = key_of(part + PARTITIONS * (int)rnd(KEYS / PARTITIONS), k, sizeof k);
      if (dice < 4) {
        produce(in, side, part, key, NULL, *clock + (with_late() ? 5000 : 0));
        in->stream_tombstones++;
        continue;
      }
      long long ts;
      if (dice < 10 && with_late()) {
        ts = *clock - (WINDOW_MS + GRACE_MS + 1) - (long long)rnd(2000);
        in->late++;
      } else if (dice < 30) {
        ts = *clock - (long long)rnd(OOO_MS);
        in->out_of_order++;
      } else {
        ts = *clock += (long long)rnd(250);
        int h = in->hist_n[right][part]++;
        snprintf(in->hist_key[right][part][h], sizeof in->hist_key[0][0][0], "%s", key);
        in->hist_ts[right][part][h] = ts;
      }
      produce(in, side, part, key, next_value(in, prefix, v, sizeof v), ts);
    }
}

/* The global table, before either engine starts (both read it whole before
 * processing; a later update would race the stream): keys k00..k11, some
 * updated, some deleted, a quarter never there, as k12 and k13. */
__attribute__((unused)) static void produce_global(input_t *in) {
  char k[16], v[32];
  for (int i = 0; i < KEYS; i++) {
    uint64_t dice = rnd(100);
    if (i % 4 == 3)
      continue;
    for (int n = 1 + (int)rnd(2); n > 0; n--)
      produce(in, "sg-g", i % PARTITIONS, key_of(i, k, sizeof k), next_value(in, "g", v, sizeof v),
              in->clock[3][0] += 1);
    if (dice < 25) {
      produce(in, "sg-g", i % PARTITIONS, key_of(i, k, sizeof k), NULL, in->clock[3][0] += 1);
      in->table_deletes++;
    }
  }
  in->global_produced = in->produced;
}

/* Stream records of stream-global: keys of their own, the lookup key in the
 * value ("c=kNN"), on any partition (no co-partitioning). */
__attribute__((unused)) static void sg_stream_phase(input_t *in) {
  char k[16], v[48];
  for (int part = 0; part < PARTITIONS; part++)
    for (int n = 0; n < SG_PER; n++) {
      int seq = in->seq++;
      snprintf(k, sizeof k, "o%d", seq);
      snprintf(v, sizeof v, "c=k%02d;n%d", (int)rnd(KEYS + 2), seq);
      produce(in, "sg-s", part, k, v, in->clock[3][part] += (long long)rnd(200));
    }
}

__attribute__((unused)) static void produce_phase(input_t *in, int phase) {
  int right = phase % 2 == 0;
  if (right)
    table_phase(in, 0, "st-r", "t", phase);
  else
    st_stream_phase(in);
  table_phase(in, 1, right ? "tt-r" : "tt-l", right ? "b" : "a", phase);
  ss_phase(in, right ? "ss-r" : "ss-l", right ? "y" : "x");
  if (!right)
    sg_stream_phase(in);
}

/* Ten minutes ahead on both sides of stream-stream, under keys of their own. */
__attribute__((unused)) static void produce_flush(input_t *in) {
  for (int part = 0; part < PARTITIONS; part++) {
    long long ts = in->clock[2][part] + FLUSH_AHEAD_MS;
    produce(in, "ss-l", part, "flush-l", "fl", ts);
    produce(in, "ss-r", part, "flush-r", "fr", ts);
  }
}
/* ------------------------------------------------------------ the outputs */

__attribute__((unused)) static void add_line(wdiff_set_t *s, const char *line) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->lines = realloc(s->lines, s->cap * sizeof *s->lines);
    assert_non_null(s->lines);
  }
  s->lines[s->n] = strdup(line);
  assert_non_null(s->lines[s->n]);
  s->n++;
}

/* One key of a table-table output: its results in order. */
typedef struct tt_key {
  char key[32];
  int present;
  char seq[8192];
  size_t len;
} tt_key_t;

typedef struct output {
  wdiff_set_t lines; /* stream results: key | value | ts; tables: key = sequence */
  wdiff_set_t finals;
  long long records;
  tt_key_t keys[KEYS + 4];
  int nkeys;
} output_t;

__attribute__((unused)) static void tt_add(output_t *o, const rd_kafka_message_t *m) {
  int i = 0;
  while (i < o->nkeys &&
         !(strlen(o->keys[i].key) == m->key_len && memcmp(o->keys[i].key, m->key, m->key_len) == 0))
    i++;
  assert_true(i < KEYS + 4 && m->key && m->key_len < sizeof o->keys[0].key);
  tt_key_t *k = &o->keys[i];
  if (i == o->nkeys) {
    memset(k, 0, sizeof *k);
    memcpy(k->key, m->key, m->key_len);
    o->nkeys++;
  }
  if (!m->payload && !k->present) /* deletes no result: Kafka Streams only */
    return;
  int n =
      snprintf(k->seq + k->len, sizeof k->seq - k->len, "%s%.*s", k->len ? " > " : "",
               m->payload ? (int)m->len : 8, m->payload ? (const char *)m->payload : "<delete>");
  assert_true(n > 0 && (size_t)n < sizeof k->seq - k->len);
  k->len += (size_t)n;
  k->present = m->payload != NULL;
}

__attribute__((unused)) static void take(output_t *o, int table, const rd_kafka_message_t *m) {
  char line[512];
  if (table) {
    tt_add(o, m);
    return;
  }
  snprintf(line, sizeof line, "%.*s | %.*s | %lld", m->key ? (int)m->key_len : 6,
           m->key ? (const char *)m->key : "<null>", m->payload ? (int)m->len : 11,
           m->payload ? (const char *)m->payload : "<tombstone>",
           (long long)rd_kafka_message_timestamp(m, NULL));
  add_line(&o->lines, line);
}

/* All of `topic`, in each partition's order, up to the end offsets seen
 * first. Done when the consumer's position reached them, not when a count of
 * records did: under exactly_once a partition holds transaction markers
 * (and maybe aborted records) that a read_committed reader (librdkafka's
 * default isolation.level) never sees. */
__attribute__((unused)) static void read_output(const e2e_broker_t *b, const char *topic, int table,
                                                output_t *o) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_CONSUMER, NULL);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
  int64_t hi[PARTITIONS];
  int left = 0;
  for (int p = 0; p < PARTITIONS; p++) {
    int64_t lo = 0;
    assert_int_equal(rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p], 10000), 0);
    left += lo < hi[p];
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = lo;
  }
  rd_kafka_assign(rk, parts);
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  while (left > 0 && e2e_now_ms() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (m && !m->err && m->offset < hi[m->partition]) {
      take(o, table, m);
      o->records++;
    }
    if (m)
      rd_kafka_message_destroy(m);
    assert_int_equal(rd_kafka_position(rk, parts), 0);
    left = 0;
    for (int p = 0; p < PARTITIONS; p++)
      left += parts->elems[p].offset < hi[p];
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  if (left)
    fail_msg("%s: %d partition(s) not read to their end in %d ms", topic, left, E2E_WAIT_MS);
  for (int i = 0; table && i < o->nkeys; i++) {
    char line[8300];
    tt_key_t *k = &o->keys[i];
    if (!k->len) /* only tombstones that deleted no result: as if none */
      continue;
    snprintf(line, sizeof line, "%s = %s", k->key, k->seq);
    add_line(&o->lines, line);
    const char *last = strrchr(k->seq, '>');
    snprintf(line, sizeof line, "%s = %s", k->key,
             !k->present ? "<absent>"
             : last      ? last + 2
                         : k->seq);
    add_line(&o->finals, line);
  }
}

__attribute__((unused)) static size_t count_having(const wdiff_set_t *s, const char *needle) {
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++)
    n += strstr(s->lines[i], needle) != NULL;
  return n;
}

/* What the reference output of each mode must hold for the comparison to
 * mean something: at least this many lines with each needle. */
__attribute__((unused)) static void check_meaningful(const char *mode, const wdiff_set_t *ref) {
  int stream = strncmp(mode, "tt-", 3) != 0;
  assert_true(ref->n >= (stream ? 50u : 6u));
  if (stream)
    assert_true(count_having(ref, "\"left\":\"") >= 50 && count_having(ref, "\"right\":\"") >= 50);
  if (strcmp(mode, "st-left") == 0 || strcmp(mode, "ss-left") == 0 ||
      strcmp(mode, "ss-outer") == 0 || strcmp(mode, "sg-left") == 0)
    assert_true(count_having(ref, "\"right\":null") >= 10);
  if (strcmp(mode, "st-left") == 0)
    assert_true(count_having(ref, "<null> |") >= 3);
  /* The late input's right side is mostly late or matched: its outer join
   * has few unmatched right records (the count is printed). */
  if (strcmp(mode, "ss-outer") == 0)
    assert_true(count_having(ref, "\"left\":null") >= (with_late() ? 1u : 10u));
  if (!stream)
    assert_true(count_having(ref, "<delete>") >= 2);
  if (strcmp(mode, "tt-outer") == 0 || strcmp(mode, "tt-left") == 0)
    assert_true(count_having(ref, "\"right\":null") >= 2);
  if (strcmp(mode, "tt-outer") == 0)
    assert_true(count_having(ref, "\"left\":null") >= 2);
}

/* Two outputs of one input: `a`, the one under test, and `b`, the
 * reference (Kafka Streams; one instance). */
typedef struct join_pair {
  const char *tag;               /* the test's name, heading every line */
  const char *a_prefix, *a_name; /* output topics PREFIX-MODE */
  const char *b_prefix, *b_name;
  long long a_records[MODES], b_records[MODES];
} join_pair_t;

__attribute__((unused)) static size_t join_diff(const join_pair_t *jp, const char *mode,
                                                const char *what, wdiff_set_t *a, wdiff_set_t *b) {
  size_t d = wdiff_compare(a, jp->a_name, b, jp->b_name, NULL, 0);
  if (d) {
    fprintf(stderr, "%s: %s %s: %zu differences (- %s only, + %s only):\n", jp->tag, mode, what, d,
            jp->a_name, jp->b_name);
    wdiff_compare(a, jp->a_name, b, jp->b_name, stderr, 40);
  }
  return d;
}

/* Every mode's two outputs read (the record counts into jp), checked to hold
 * what the test is for (check_meaningful on b's) and compared; the number
 * of differences, each printed. */
__attribute__((unused)) static size_t join_compare_outputs(const e2e_broker_t *b, join_pair_t *jp) {
  size_t all = 0;
  for (int i = 0; i < MODES; i++) {
    char at[128], bt[128];
    int table = strncmp(modes[i], "tt-", 3) == 0;
    output_t *x = calloc(1, sizeof *x), *y = calloc(1, sizeof *y);
    assert_true(x && y);
    snprintf(at, sizeof at, "%s-%s", jp->a_prefix, modes[i]);
    snprintf(bt, sizeof bt, "%s-%s", jp->b_prefix, modes[i]);
    read_output(b, at, table, x);
    read_output(b, bt, table, y);
    jp->a_records[i] = x->records;
    jp->b_records[i] = y->records;
    fprintf(stderr, "%s: %-8s %s %lld records, %s %lld%s\n", jp->tag, modes[i], jp->a_name,
            x->records, jp->b_name, y->records, table ? " (compared per key below)" : "");
    if (table)
      fprintf(stderr, "%s: %-8s %d keys; %zu with a result at the end\n", jp->tag, modes[i],
              y->nkeys, y->finals.n - count_having(&y->finals, "<absent>"));
    check_meaningful(modes[i], &y->lines);
    all += join_diff(jp, modes[i], table ? "sequences" : "results", &x->lines, &y->lines);
    if (table)
      all += join_diff(jp, modes[i], "final values", &x->finals, &y->finals);
    wdiff_free(&x->lines), wdiff_free(&x->finals), wdiff_free(&y->lines), wdiff_free(&y->finals);
    free(x), free(y);
  }
  return all;
}

/* ------------------------------------------------------------ helpers */

/* The input's producer, its clocks an hour back on a minute's bound, and the
 * global table produced (before any engine starts: see produce_global). */
__attribute__((unused)) static input_t *join_input_new(const e2e_broker_t *b, const char *prefix) {
  input_t *in = calloc(1, sizeof *in);
  assert_non_null(in);
  snprintf(in->prefix, sizeof in->prefix, "%s", prefix);
  in->p = e2e_client(b, RD_KAFKA_PRODUCER, NULL);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  long long start = ((long long)now.tv_sec * 1000 - START_AGO_MS) / 60000 * 60000;
  for (int k = 0; k < 4; k++)
    for (int p = 0; p < PARTITIONS; p++)
      in->clock[k][p] = start;
  produce_global(in);
  assert_int_equal(rd_kafka_flush(in->p, 30000), 0);
  return in;
}

/* Phase `phase` (PHASES: the flush), flushed. */
__attribute__((unused)) static void join_produce(input_t *in, int phase) {
  if (phase < PHASES)
    produce_phase(in, phase);
  else
    produce_flush(in);
  assert_int_equal(rd_kafka_flush(in->p, 30000), 0);
}

/* Says what the input held and asserts it holds what the test is for;
 * frees it. */
__attribute__((unused)) static void join_input_done(input_t *in, const char *tag) {
  rd_kafka_destroy(in->p);
  fprintf(stderr,
          "%s: input: %lld records; %d table deletes, %d keys whose table comes after the "
          "stream, %d stream records without a key, %d stream tombstones, %d stream-stream "
          "records out of order within grace, %d late past it%s, %d on a window bound\n",
          tag, in->produced, in->table_deletes, in->table_after, in->null_keys,
          in->stream_tombstones, in->out_of_order, in->late,
          with_late() ? " (WEIR_TEST_JOIN_LATE=1)" : "", in->on_bound);
  assert_true(in->table_deletes >= 10 && in->null_keys >= 3 && in->out_of_order >= 50 &&
              in->stream_tombstones >= 10 && in->table_after >= 3 && in->on_bound >= 10);
  free(in);
}

/* The input records the group `app` committed, over the consumed sides. */
__attribute__((unused)) static long long join_committed(const e2e_broker_t *b, const char *app,
                                                        const char *in_prefix) {
  long long sum = 0;
  char topic[128];
  for (int i = 0; i < SIDES; i++) {
    snprintf(topic, sizeof topic, "%s-%s", in_prefix, sides[i]);
    sum += e2e_committed(b, app, topic, PARTITIONS);
  }
  return sum;
}

/* names[i] = PREFIX-SIDE for the consumed sides, then PREFIX-sg-g, each in
 * topics[], NULL-ended (SIDES + 2 entries). */
__attribute__((unused)) static void join_input_topics(const char *prefix, char (*names)[128],
                                                      const char **topics) {
  for (int i = 0; i < SIDES; i++)
    snprintf(names[i], 128, "%s-%s", prefix, sides[i]);
  snprintf(names[SIDES], 128, "%s-sg-g", prefix);
  for (int i = 0; i <= SIDES; i++)
    topics[i] = names[i];
  topics[SIDES + 1] = NULL;
}

/* names[i] = PREFIX-MODE, in topics[], NULL-ended (MODES + 1 entries). */
__attribute__((unused)) static void join_output_topics(const char *prefix, char (*names)[128],
                                                       const char **topics) {
  for (int i = 0; i < MODES; i++) {
    snprintf(names[i], 128, "%s-%s", prefix, modes[i]);
    topics[i] = names[i];
  }
  topics[MODES] = NULL;
}

#endif
