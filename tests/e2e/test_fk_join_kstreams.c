/* End to end, on the real Kafka broker: weir's foreign-key join (std `join`,
 * kind = foreign-key) against Kafka Streams' own (KTable.join / leftJoin
 * with a foreign-key extractor; tests/kstreams/src/main/java/weir/kstreams/
 * Joins.java, modes fk-inner and fk-left) and against a model of the two
 * tables kept by this test.
 *
 * Input: a left table P-fk-l (3 partitions, keys o00..o39, values
 * "f=kNN;n=SEQ" naming a right key, or "n=SEQ" naming none) and a right
 * table P-fk-r (2 partitions: not co-partitioned, nor need they be; keys
 * k00..k11, while the left values name k00..k13). Both are produced keyed,
 * placed by murmur2 as Java's producers place them. Phases alternate right
 * and left (the next once both engines committed the previous); each
 * updates some keys once or twice (a left key's second update overtakes the
 * answer to its first), deletes some, moves left rows to other right keys
 * or to none.
 *
 * What is compared: the final value of each left key in each output (its
 * last record; a tombstone or no record: absent), which the model computes
 * from the final tables (inner: the nested pair when the row names a right
 * key that has a row; left: the nested pair or the row with a null right).
 * A foreign-key join's intermediate results depend on how its subscriptions
 * and answers interleave with updates (in both engines), so only the final
 * values are deterministic. weir runs as two instances of one application
 * for part of it: a second one starts before phase 3 (and takes tasks with
 * their stores) and is killed with SIGKILL after phase 6 (the first takes
 * them back, restoring the stores from their changelogs); at least once,
 * the finals are the same. WEIR_TEST_FK_EOS=1 runs weir under exactly_once
 * (e2e/test_fk_join_kstreams_eos). Done is event-based: the outputs are read again
 * until both engines' final values equal the model (or a bound passes, and
 * the differences are printed). Also checked: weir's two internal topics of
 * the join have the partitions of the table each one's reader keeps.
 *
 * Skipped (exit 77, with a banner) on `weir broker`: Kafka Streams needs the
 * Admin API, which the mock lacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "e2e.h"
#include "kstreams_support.h"
#include "state_support.h"
#include "window_diff.h"

enum {
  L_PARTS = 3,
  R_PARTS = 2,
  L_KEYS = 40,
  R_KEYS = 12, /* right rows k00..k11; left values name k00..k13 */
  NAMED = R_KEYS + 2,
  PHASES = 10, /* even: right, odd: left */
  FK_MODES = 2,
};
static const char *const fk_modes[FK_MODES] = {"fk-inner", "fk-left"};

static const int PHASE_WAIT_MS = 150000;
static const int FINAL_WAIT_MS = 180000;
static const int BUILD_WAIT_MS = 600000;

static char in_prefix[64], weir_prefix[64], ks_prefix[64], weir_app[64], ks_app[64];
static char ini_path[256], weir_log[256], ks_log[256], build_log[256], state_dir[256];
static char ini2_path[256], weir2_log[256], state2_dir[256];
static char ks_out[512];

/* ------------------------------------------------------------ the input */

static uint64_t rnd_state = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(uint64_t below) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return rnd_state % below;
}

typedef struct fk_input {
  rd_kafka_t *p;
  long long produced, clock;
  int seq;
  char *left[L_KEYS]; /* the model: each table's current values (NULL: none) */
  char *right[NAMED];
  int left_deletes, right_deletes, moves, no_key, twice;
} fk_input_t;

static void put(fk_input_t *in, const char *side, const char *key, const char *value) {
  char topic[128];
  snprintf(topic, sizeof topic, "%s-%s", in_prefix, side);
  int64_t ts = in->clock += 1 + (long long)rnd(20);
  while (rd_kafka_producev(in->p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                           RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(ts),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    rd_kafka_poll(in->p, 10);
  in->produced++;
}

static void set(char **slot, const char *value) {
  free(*slot);
  *slot = value ? strdup(value) : NULL;
}

static void right_phase(fk_input_t *in, int phase) {
  char k[16], v[32];
  for (int i = 0; i < R_KEYS; i++) {
    uint64_t dice = rnd(100);
    snprintf(k, sizeof k, "k%02d", i);
    if (phase == 0 && i % 4 == 3)
      continue; /* its rows come after left rows naming it */
    if (dice < 25) {
      put(in, "fk-r", k, NULL);
      set(&in->right[i], NULL);
      in->right_deletes++;
    } else if (dice < 80) {
      for (int n = 1 + (int)rnd(2); n > 0; n--) {
        snprintf(v, sizeof v, "r%d", in->seq++);
        put(in, "fk-r", k, v);
        set(&in->right[i], v);
      }
    }
  }
}

/* A left value: usually naming a right key (sometimes one with no row ever),
 * sometimes none. */
static void left_value(fk_input_t *in, char *v, size_t size) {
  if (rnd(100) < 15) {
    snprintf(v, size, "n=%d", in->seq++);
    in->no_key++;
  } else {
    snprintf(v, size, "f=k%02d;n=%d", (int)rnd(NAMED), in->seq++);
  }
}

static void left_phase(fk_input_t *in) {
  char k[16], v[32];
  for (int i = 0; i < L_KEYS; i++) {
    uint64_t dice = rnd(100);
    snprintf(k, sizeof k, "o%02d", i);
    if (dice < 15) {
      put(in, "fk-l", k, NULL);
      in->left_deletes += in->left[i] != NULL;
      set(&in->left[i], NULL);
    } else if (dice < 85) {
      int n = 1 + (dice < 35);
      in->twice += n == 2;
      while (n--) {
        in->moves += in->left[i] != NULL;
        left_value(in, v, sizeof v);
        put(in, "fk-l", k, v);
        set(&in->left[i], v);
      }
    }
  }
}

/* ------------------------------------------------------------ the outputs */

static void add(wdiff_set_t *s, const char *line) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->lines = realloc(s->lines, s->cap * sizeof *s->lines);
    assert_non_null(s->lines);
  }
  assert_non_null(s->lines[s->n] = strdup(line));
  s->n++;
}

/* The right key a left value names: its index, or -1. */
static int named(const char *v) {
  const char *f = strstr(v, "f=k");
  return f ? atoi(f + 3) : -1;
}

/* What the model says each left key's final value is, for `mode`. */
static void expected(const fk_input_t *in, const char *mode, wdiff_set_t *out) {
  char line[256];
  for (int i = 0; i < L_KEYS; i++) {
    const char *l = in->left[i];
    int r = l ? named(l) : -1;
    const char *w = r >= 0 ? in->right[r] : NULL;
    if (!l || (!w && strcmp(mode, "fk-inner") == 0))
      continue;
    snprintf(line, sizeof line, "o%02d = {\"left\":\"%s\",\"right\":%s%s%s}", i, l, w ? "\"" : "",
             w ? w : "null", w ? "\"" : "");
    add(out, line);
  }
}

/* `topic`'s last value of each key, up to the end offsets seen first: 0,
 * or -1 when it could not be read to them. */
static int read_finals(rd_kafka_t *rk, const char *topic, wdiff_set_t *out, long long *records) {
  char last[L_KEYS][200];
  int present[L_KEYS] = {0};
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(L_PARTS);
  int64_t hi[L_PARTS];
  for (int p = 0; p < L_PARTS; p++) {
    int64_t lo = 0;
    assert_int_equal(rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p], 10000), 0);
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = lo;
  }
  rd_kafka_assign(rk, parts);
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  int left = 1;
  *records = 0;
  while (left && e2e_now_ms() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (m && !m->err && m->offset < hi[m->partition] && m->key_len == 3) {
      char key[4] = {0};
      memcpy(key, m->key, 3);
      int i = atoi(key + 1);
      assert_true(i >= 0 && i < L_KEYS && m->len < sizeof last[0]);
      present[i] = m->payload != NULL;
      snprintf(last[i], sizeof last[i], "%.*s", (int)m->len, (const char *)m->payload);
      (*records)++;
    }
    if (m)
      rd_kafka_message_destroy(m);
    assert_int_equal(rd_kafka_position(rk, parts), 0);
    left = 0;
    for (int p = 0; p < L_PARTS; p++)
      left += parts->elems[p].offset < hi[p];
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_assign(rk, NULL);
  if (left) {
    fprintf(stderr, "fk-join-kstreams: %s: %d partition(s) not read to their end in %d ms\n", topic,
            left, E2E_WAIT_MS);
    return -1;
  }
  for (int i = 0; i < L_KEYS; i++) {
    char line[256];
    if (!present[i])
      continue;
    snprintf(line, sizeof line, "o%02d = %s", i, last[i]);
    add(out, line);
  }
  return 0;
}

/* Differences of one engine's outputs from the model (printed when `out`). */
static size_t differences(rd_kafka_t *reader, const fk_input_t *in, const char *prefix,
                          const char *name, FILE *out) {
  size_t all = 0;
  for (int m = 0; m < FK_MODES; m++) {
    wdiff_set_t want = {0}, got = {0};
    char topic[128];
    long long records;
    snprintf(topic, sizeof topic, "%s-%s", prefix, fk_modes[m]);
    expected(in, fk_modes[m], &want);
    size_t d = read_finals(reader, topic, &got, &records)
                   ? 1
                   : wdiff_compare(&got, name, &want, "the model", NULL, 0);
    if (out) {
      fprintf(out,
              "fk-join-kstreams: %s %s: %lld records, %zu keys with a result, %zu expected, "
              "%zu differences\n",
              name, fk_modes[m], records, got.n, want.n, d);
      if (d)
        wdiff_compare(&got, name, &want, "the model", out, 40);
    }
    all += d;
    wdiff_free(&want), wdiff_free(&got);
  }
  return all;
}

/* ------------------------------------------------------------ the contenders */

/* WEIR_TEST_FK_EOS=1 (ctest's e2e/test_fk_join_kstreams_eos): weir under
 * processing.guarantee = exactly_once, its outputs read read_committed (the
 * killed instance's open transaction aborted, not seen). */
static int exactly_once(void) {
  const char *v = getenv("WEIR_TEST_FK_EOS");
  return v && strcmp(v, "1") == 0;
}

/* One weir instance of the application, with its own state and log. */
static proc_t start_weir(const e2e_broker_t *b, const char *ini, const char *state,
                         const char *log) {
  const ks_subst_t subs[] = {{"APP_ID", weir_app},
                             {"STATE_DIR", state},
                             {"INPUT_PREFIX", in_prefix},
                             {"OUTPUT_PREFIX", weir_prefix},
                             {"GUARANTEE", exactly_once() ? "exactly_once" : "at_least_once"}};
  ks_write_ini(WEIR_TEST_SOURCE_DIR "/tests/kstreams/weir-fk-joins.ini", ini, subs,
               sizeof subs / sizeof subs[0]);
  return e2e_weir_run(b, ini, log);
}

/* Until the second instance owns some of the 5 tasks (3 of the left table's
 * sub-topology, 2 of the right's). */
static int wait_shared(void) {
  long long deadline = e2e_now_ms() + PHASE_WAIT_MS, t0 = e2e_now_ms();
  ss_owned_t o = {0};
  while (e2e_now_ms() < deadline) {
    ss_parse_owned(weir2_log, 0, &o);
    if (o.n > 0)
      break;
    usleep(100000); /* polls its log for a "gained tasks" line, up to PHASE_WAIT_MS */
  }
  fprintf(stderr, "fk-join-kstreams: the second weir instance owns %d task(s) (%lld ms)\n", o.n,
          e2e_now_ms() - t0);
  return o.n > 0;
}

static proc_t start_kstreams(const e2e_broker_t *b) {
  char parts[16];
  snprintf(parts, sizeof parts, "%d", L_PARTS);
  char *argv[] = {(char *)ks_script,
                  "joins",
                  "--bootstrap",
                  (char *)b->bootstrap,
                  "--app-id",
                  ks_app,
                  "--input-prefix",
                  in_prefix,
                  "--output-prefix",
                  ks_prefix,
                  "--modes",
                  "fk-inner,fk-left",
                  "--partitions",
                  parts,
                  "--commit-interval-ms",
                  "100",
                  NULL};
  return proc_start(argv, 0, ks_log);
}

static long long committed(const e2e_broker_t *b, const char *app) {
  char l[128], r[128];
  snprintf(l, sizeof l, "%s-fk-l", in_prefix);
  snprintf(r, sizeof r, "%s-fk-r", in_prefix);
  return e2e_committed(b, app, l, L_PARTS) + e2e_committed(b, app, r, R_PARTS);
}

static int wait_committed(const e2e_broker_t *b, proc_t *weir, proc_t *ks, long long total,
                          int phase) {
  long long deadline = e2e_now_ms() + PHASE_WAIT_MS, t0 = e2e_now_ms(), w = 0, k = 0;
  while (e2e_now_ms() < deadline && (w < total || k < total)) {
    if (w < total && (w = committed(b, weir_app)) < total &&
        !ks_still_running(weir, "fk-join-kstreams", "weir"))
      break;
    if (k < total && (k = committed(b, ks_app)) < total &&
        !ks_still_running(ks, "fk-join-kstreams", "Kafka Streams"))
      break;
    if (w < total || k < total)
      usleep(100000); /* polls both groups' committed offsets, up to PHASE_WAIT_MS */
  }
  fprintf(stderr,
          "fk-join-kstreams: phase %d: committed %lld/%lld by weir, %lld/%lld by Kafka "
          "Streams (%lld ms)\n",
          phase, w, total, k, total, e2e_now_ms() - t0);
  return w >= total && k >= total;
}

/* ------------------------------------------------------------ the test */

static void test_fk_joins_equal_kafka_streams_and_the_model(void **state) {
  (void)state;
  char names[6][128];
  const char *left[2], *right[2], *outs[2 * FK_MODES + 1];
  snprintf(names[0], 128, "%s-fk-l", in_prefix);
  snprintf(names[1], 128, "%s-fk-r", in_prefix);
  left[0] = names[0], right[0] = names[1], left[1] = right[1] = NULL;
  for (int m = 0; m < FK_MODES; m++) {
    snprintf(names[2 + m], 128, "%s-%s", weir_prefix, fk_modes[m]);
    snprintf(names[4 + m], 128, "%s-%s", ks_prefix, fk_modes[m]);
    outs[m] = names[2 + m], outs[FK_MODES + m] = names[4 + m];
  }
  outs[2 * FK_MODES] = NULL;
  ks_build(ks_out, build_log, BUILD_WAIT_MS, "fk-join-kstreams");
  e2e_broker_t b;
  assert_int_equal(e2e_broker_start(&b, left, L_PARTS, NULL), 0);
  assert_int_equal(e2e_broker_start(&b, right, R_PARTS, NULL), 0);
  assert_int_equal(e2e_broker_start(&b, outs, L_PARTS, NULL), 0);

  fk_input_t in = {0};
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", b.bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "partitioner", "murmur2_random", NULL, 0);
  assert_non_null(in.p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, NULL, 0));
  struct timespec now; /* wall-clock time: e2e_now_ms() is monotonic, and records from 1970
                        * are past the broker's retention */
  clock_gettime(CLOCK_REALTIME, &now);
  in.clock = ((long long)now.tv_sec * 1000 - 3600000LL) / 60000 * 60000;
  long long t0 = e2e_now_ms();
  fprintf(stderr, "fk-join-kstreams: weir under %s\n",
          exactly_once() ? "exactly_once" : "at_least_once");
  proc_t ks = start_kstreams(&b);
  proc_t weir = start_weir(&b, ini_path, state_dir, weir_log), weir2 = {.pid = -1};
  int ok = 1, shared = 0, killed = 0;
  for (int phase = 0; ok && phase < PHASES; phase++) {
    if (phase == 3) { /* a second instance takes some tasks, restoring their stores */
      weir2 = start_weir(&b, ini2_path, state2_dir, weir2_log);
      shared = wait_shared();
    }
    if (phase % 2 == 0)
      right_phase(&in, phase);
    else
      left_phase(&in);
    assert_int_equal(rd_kafka_flush(in.p, 30000), 0);
    ok = wait_committed(&b, &weir, &ks, in.produced, phase);
    if (phase == 6) /* and dies: the first takes its tasks back, restoring them */
      killed = proc_stop(&weir2, SIGKILL, E2E_WAIT_MS) == 128 + SIGKILL;
  }
  rd_kafka_destroy(in.p);
  fprintf(stderr,
          "fk-join-kstreams: input: %lld records; %d left deletes, %d right deletes, %d "
          "left updates of a present row, %d left values naming no key, %d keys updated "
          "twice in a row\n",
          in.produced, in.left_deletes, in.right_deletes, in.moves, in.no_key, in.twice);
  assert_true(in.left_deletes >= 5 && in.right_deletes >= 5 && in.moves >= 20 && in.no_key >= 5 &&
              in.twice >= 10);
  /* The answers of the last phase may still be on their way: read again
   * until both equal the model. */
  long long deadline = e2e_now_ms() + FINAL_WAIT_MS;
  size_t w = 1, k = 1;
  rd_kafka_t *reader = e2e_client(&b, RD_KAFKA_CONSUMER, "fk-join-reader");
  assert_non_null(reader);
  while (ok && (w || k) && e2e_now_ms() < deadline) {
    w = w ? differences(reader, &in, weir_prefix, "weir", NULL) : 0;
    k = k ? differences(reader, &in, ks_prefix, "Kafka Streams", NULL) : 0;
    if (w || k)
      usleep(250000); /* polls the outputs' final values, up to FINAL_WAIT_MS */
  }
  w = differences(reader, &in, weir_prefix, "weir", stderr);
  k = differences(reader, &in, ks_prefix, "Kafka Streams", stderr);
  rd_kafka_destroy_flags(reader, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  char sub[160], resp[160];
  snprintf(sub, sizeof sub, "%s-fk-inner-subscription-registration", weir_app);
  snprintf(resp, sizeof resp, "%s-fk-inner-subscription-response", weir_app);
  int sub_parts = e2e_topic_partitions(&b, sub), resp_parts = e2e_topic_partitions(&b, resp);
  int weir_rc = weir.pid > 0 ? proc_stop(&weir, SIGTERM, E2E_WAIT_MS) : 0;
  if (ks.pid > 0)
    proc_stop(&ks, SIGTERM, E2E_WAIT_MS);
  /* The model's finals hold what the test is for: results, and nulls. */
  wdiff_set_t inner = {0}, outer = {0};
  expected(&in, "fk-inner", &inner);
  expected(&in, "fk-left", &outer);
  fprintf(stderr, "fk-join-kstreams: the model: %zu inner results, %zu left results; %lld ms\n",
          inner.n, outer.n, e2e_now_ms() - t0);
  assert_true(inner.n >= 5 && outer.n >= inner.n + 3);
  wdiff_free(&inner), wdiff_free(&outer);
  for (int i = 0; i < L_KEYS; i++)
    free(in.left[i]);
  for (int i = 0; i < NAMED; i++)
    free(in.right[i]);
  assert_true(ok);
  assert_true(shared && killed);
  assert_int_equal(sub_parts, R_PARTS);
  assert_int_equal(resp_parts, L_PARTS);
  assert_int_equal(weir_rc, 0);
  assert_int_equal(k, 0);
  assert_int_equal(w, 0);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  snprintf(in_prefix, sizeof in_prefix, "ksfk-in-%d", pid);
  snprintf(weir_prefix, sizeof weir_prefix, "ksfk-weir-%d", pid);
  snprintf(ks_prefix, sizeof ks_prefix, "ksfk-ks-%d", pid);
  snprintf(weir_app, sizeof weir_app, "ksfk-weir-app-%d", pid);
  snprintf(ks_app, sizeof ks_app, "ksfk-ks-app-%d", pid);
  e2e_file(ini_path, sizeof ini_path, "weir.ini");
  e2e_file(weir_log, sizeof weir_log, "weir.log");
  e2e_file(ini2_path, sizeof ini2_path, "weir2.ini");
  e2e_file(weir2_log, sizeof weir2_log, "weir2.log");
  e2e_file(state2_dir, sizeof state2_dir, "state2");
  e2e_file(ks_log, sizeof ks_log, "kstreams.log");
  e2e_file(build_log, sizeof build_log, "kstreams-build.log");
  e2e_file(state_dir, sizeof state_dir, "state");
  snprintf(ks_out, sizeof ks_out, "%s/../kstreams", WEIR_TEST_FIXTURE_DIR);
}

int main(void) {
  const char *real = getenv("WEIR_TEST_KAFKA_BOOTSTRAP");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fk_joins_equal_kafka_streams_and_the_model)};
  if (!real || !*real)
    return ks_skipped("weir's foreign-key join",
                      "needs the real Kafka broker (make test's stage 3): Kafka Streams needs the "
                      "Admin API, which `weir broker` lacks");
  return e2e_main("fk-join-kstreams", setup, tests, 1);
}
