/* Integration: topologies run in-process on the embedded broker; each test
 * asserts the exact records that reach the sink topics, and the offsets
 * committed for the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker/embedded.h"
#include "it_support.h"
#include "serde/serde.h"

#define BASE_TS INT64_C(1700000000000)

/* Each test's state.dir (its control socket) in its own TMPDIR, not in the
 * build tree where a second run of the suite would meet it. */
static weir_topology_t *topology(const char *ini) {
  return it_topology_in(ini, it_tmp.path);
}

static weir_app_t *start(const weir_topology_t *t) {
  char err[2048];
  weir_app_options_t opts = {.shutdown_timeout_ms = IT_WAIT_MS};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fprintf(stderr, "start failed: %s\n", err);
  assert_non_null(app);
  return app;
}

static int cmp_records(const void *a, const void *b) {
  const it_record_t *x = a, *y = b;
  int c = strcmp(x->key ? x->key : "", y->key ? y->key : "");
  return c ? c : strcmp(x->value ? x->value : "", y->value ? y->value : "");
}

static const char split_ini[] =
    "[weir]\napplication.id = it-split\nbootstrap.servers = embedded\n"
    "commit.interval.ms = 200\nembedded.partitions = 3\n"
    "[source:in]\ntopic = in\nvalue.serde = string\n"
    "[operator:split]\nplugin = std\ntype = split\ninput = in\nseparator = \" \"\n"
    "[operator:keep]\nplugin = std\ntype = filter\ninput = split\npattern = ^drop\naction = drop\n"
    "[sink:out]\ninput = keep\ntopic = out\nkey.serde = string\nvalue.serde = string\n";

/* Every input line becomes its words minus the dropped ones, each keeping
 * the input's key, timestamp and headers; offsets are committed to the end. */
static void test_split_filter_exact(void **state) {
  enum { N = 30 };
  char value[64], key[16], hval[16];
  it_record_t got[3 * N];
  weir_topology_t *t = topology(split_ini);
  assert_non_null(t);
  weir_app_t *app = start(t);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "k%02d", i);
    snprintf(value, sizeof value, "a%02d drop%02d b%02d", i, i, i);
    snprintf(hval, sizeof hval, "v%02d", i);
    assert_int_equal(it_send(p, "in", i % 3, key, value, strlen(value), BASE_TS + i, "h", hval), 0);
  }
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
  size_t n = it_consume(weir_app_bootstrap(app), "out", 2 * N, got, 3 * N, IT_WAIT_MS);
  assert_int_equal(n, 2 * N);
  qsort(got, n, sizeof *got, cmp_records);
  for (int i = 0; i < N; i++) {
    for (int w = 0; w < 2; w++) {
      const it_record_t *r = &got[2 * i + w];
      snprintf(key, sizeof key, "k%02d", i);
      snprintf(value, sizeof value, "%c%02d", w ? 'b' : 'a', i);
      snprintf(hval, sizeof hval, "h=v%02d", i);
      assert_string_equal(r->key, key);
      assert_string_equal(r->value, value);
      assert_int_equal(r->timestamp, BASE_TS + i);
      assert_string_equal(r->headers, hval);
    }
  }
  it_records_free(got, n);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  for (int part = 0; part < 3; part++)
    assert_int_equal(it_committed(weir_app_bootstrap(app), "it-split", "in", part), N / 3);
  weir_app_free(app);
  weir_topology_free(t);
}

static const char branch_ini[] =
    "[weir]\napplication.id = it-branch\nbootstrap.servers = embedded\nembedded.partitions = 2\n"
    "[source:in]\ntopic = in\n"
    "[operator:route]\nplugin = std\ntype = branch\ninput = in\n"
    "route = errors: ^ERROR\nroute = warnings: ^WARN\ndefault = rest\n"
    "[sink:errors]\ninput = route\ntopic = errors\n"
    "[sink:warnings]\ninput = route\ntopic = warnings\n"
    "[sink:rest]\ninput = route\ntopic = rest\n";

static void expect_values(const char *bootstrap, const char *topic, const char *const *values,
                          size_t count) {
  it_record_t got[16];
  size_t n = it_consume(bootstrap, topic, count, got, 16, IT_WAIT_MS);
  assert_int_equal(n, count);
  qsort(got, n, sizeof *got, cmp_records);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(got[i].value, values[i]);
  it_records_free(got, n);
}

static void test_branch_routes_by_name(void **state) {
  static const char *const lines[] = {"ERROR disk", "WARN slow", "INFO ok", "ERROR net", "debug"};
  weir_topology_t *t = topology(branch_ini);
  assert_non_null(t);
  weir_app_t *app = start(t);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  for (int i = 0; i < 5; i++)
    it_send(p, "in", i % 2, "k", lines[i], strlen(lines[i]), BASE_TS, NULL, NULL);
  rd_kafka_flush(p, IT_WAIT_MS);
  rd_kafka_destroy(p);
  static const char *const errors[] = {"ERROR disk", "ERROR net"};
  static const char *const warnings[] = {"WARN slow"};
  static const char *const rest[] = {"INFO ok", "debug"};
  expect_values(weir_app_bootstrap(app), "errors", errors, 2);
  expect_values(weir_app_bootstrap(app), "warnings", warnings, 1);
  expect_values(weir_app_bootstrap(app), "rest", rest, 2);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

static const char deser_ini[] =
    "[weir]\napplication.id = it-deser\nbootstrap.servers = embedded\nembedded.partitions = 1\n"
    "deserialization.policy = %s\ndead.letter.topic = dlq\ncommit.interval.ms = 100\n"
    "[source:in]\ntopic = in\nvalue.serde = int64\n"
    "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
    "[sink:out]\ninput = pass\ntopic = out\nvalue.serde = int64\n";

static void send_int64_and_garbage(const char *bootstrap) {
  unsigned char v1[8], v3[8];
  weir_int64_encode(41, v1);
  weir_int64_encode(-7, v3);
  rd_kafka_t *p = it_producer(bootstrap);
  it_send(p, "in", 0, "one", v1, 8, BASE_TS, NULL, NULL);
  it_send(p, "in", 0, "two", "bad", 3, BASE_TS + 1, "trace", "t2");
  it_send(p, "in", 0, "three", v3, 8, BASE_TS + 2, NULL, NULL);
  rd_kafka_flush(p, IT_WAIT_MS);
  rd_kafka_destroy(p);
}

/* A value that is not int64 goes, unchanged, to the dead-letter topic with
 * the reason and its origin in headers; the good records go on. */
static void test_deserialization_dead_letter(void **state) {
  char ini[sizeof deser_ini + 32];
  it_record_t got[4];
  snprintf(ini, sizeof ini, deser_ini, "dead-letter");
  weir_topology_t *t = topology(ini);
  assert_non_null(t);
  weir_app_t *app = start(t);
  send_int64_and_garbage(weir_app_bootstrap(app));
  size_t n = it_consume(weir_app_bootstrap(app), "out", 2, got, 4, IT_WAIT_MS);
  assert_int_equal(n, 2);
  assert_string_equal(got[0].key, "one");
  assert_int_equal(weir_int64_decode((const unsigned char *)got[0].value), 41);
  assert_string_equal(got[1].key, "three");
  assert_int_equal(weir_int64_decode((const unsigned char *)got[1].value), -7);
  it_records_free(got, n);
  n = it_consume(weir_app_bootstrap(app), "dlq", 1, got, 4, IT_WAIT_MS);
  assert_int_equal(n, 1);
  assert_string_equal(got[0].key, "two");
  assert_string_equal(got[0].value, "bad");
  assert_int_equal(got[0].timestamp, BASE_TS + 1);
  assert_non_null(strstr(got[0].headers, "trace=t2;weir.error.reason=value is not int64"));
  assert_non_null(strstr(got[0].headers, ";weir.source.topic=in;weir.source.partition=0;"
                                         "weir.source.offset=1"));
  it_records_free(got, n);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  assert_int_equal(it_committed(weir_app_bootstrap(app), "it-deser", "in", 0), 3);
  weir_app_free(app);
  weir_topology_free(t);
}

/* policy = fail: the app stops with exit code 1 and commits nothing past
 * the bad record, so a restart sees it again. */
static void test_deserialization_fail_stops(void **state) {
  char ini[sizeof deser_ini + 32];
  it_record_t got[4];
  snprintf(ini, sizeof ini, deser_ini, "fail");
  weir_topology_t *t = topology(ini);
  assert_non_null(t);
  weir_app_t *app = start(t);
  send_int64_and_garbage(weir_app_bootstrap(app));
  assert_int_equal(weir_app_wait_stop(app, IT_WAIT_MS), 1);
  assert_int_equal(weir_app_join(app), 1);
  size_t n = it_consume(weir_app_bootstrap(app), "out", 1, got, 4, IT_WAIT_MS);
  assert_int_equal(n, 1);
  assert_string_equal(got[0].key, "one");
  it_records_free(got, n);
  assert_int_equal(it_committed(weir_app_bootstrap(app), "it-deser", "in", 0), 1);
  weir_app_free(app);
  weir_topology_free(t);
}

/* A record an operator cannot write to its sink (a string where int64 is
 * declared) follows processing.error.policy = dead-letter. */
static void test_sink_serde_mismatch_dead_letter(void **state) {
  static const char ini[] =
      "[weir]\napplication.id = it-sinkserde\nbootstrap.servers = embedded\n"
      "embedded.partitions = 1\nprocessing.error.policy = dead-letter\ndead.letter.topic = dlq\n"
      "[source:in]\ntopic = in\n"
      "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
      "[sink:out]\ninput = pass\ntopic = out\nvalue.serde = int64\n";
  it_record_t got[4];
  weir_topology_t *t = topology(ini);
  assert_non_null(t);
  weir_app_t *app = start(t);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  it_send(p, "in", 0, "k", "12345678", 8, BASE_TS, NULL, NULL);
  it_send(p, "in", 0, "k", "short", 5, BASE_TS, NULL, NULL);
  rd_kafka_flush(p, IT_WAIT_MS);
  rd_kafka_destroy(p);
  size_t n = it_consume(weir_app_bootstrap(app), "dlq", 1, got, 4, IT_WAIT_MS);
  assert_int_equal(n, 1);
  assert_string_equal(got[0].value, "short");
  assert_non_null(strstr(got[0].headers, "weir.error.reason=sink 'out': record does not match"));
  it_records_free(got, n);
  n = it_consume(weir_app_bootstrap(app), "out", 1, got, 4, IT_WAIT_MS);
  assert_int_equal(n, 1);
  assert_string_equal(got[0].value, "12345678");
  it_records_free(got, n);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

/* A sink topic that does not exist on a real (non-embedded) cluster stops
 * the start with one line naming the sink, the topic and the file:line. */
static void test_missing_sink_topic_is_refused(void **state) {
  char err[1024], ini[1024];
  weir_embedded_t *broker = weir_embedded_start(1, err, sizeof err);
  assert_non_null(broker);
  assert_int_equal(weir_embedded_create_topic(broker, "in", 2, err, sizeof err), 0);
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = it-missing\nbootstrap.servers = %s\n"
           "[source:in]\ntopic = in\n"
           "[sink:out]\ninput = in\ntopic = nowhere\n",
           weir_embedded_bootstrap(broker));
  weir_topology_t *t = topology(ini);
  assert_non_null(t);
  weir_app_t *app = weir_app_start(t, NULL, err, sizeof err);
  assert_null(app);
  assert_non_null(strstr(err, "it.ini:6: sink 'out': topic 'nowhere' does not exist on"));
  assert_null(strchr(err, '\n')); /* one line: the source topic exists */
  weir_topology_free(t);
  weir_embedded_stop(broker);
}

/* Inputs of one sub-topology with different partition counts cannot be
 * co-partitioned: refused before anything runs, naming both topics. */
static void test_copartitioning_is_checked(void **state) {
  char err[2048], ini[1024];
  weir_embedded_t *broker = weir_embedded_start(1, err, sizeof err);
  assert_non_null(broker);
  weir_embedded_create_topic(broker, "left", 2, err, sizeof err);
  weir_embedded_create_topic(broker, "right", 3, err, sizeof err);
  weir_embedded_create_topic(broker, "joined", 2, err, sizeof err);
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = it-copart\nbootstrap.servers = %s\n"
           "[source:l]\ntopic = left\n[source:r]\ntopic = right\n"
           "[operator:both]\nplugin = std\ntype = passthrough\ninput = l, r\n"
           "[sink:out]\ninput = both\ntopic = joined\n",
           weir_embedded_bootstrap(broker));
  weir_topology_t *t = topology(ini);
  assert_non_null(t);
  assert_null(weir_app_start(t, NULL, err, sizeof err));
  assert_string_equal(err, "it.ini:6: sub-topology 0 reads topic 'left' (2 partitions) and "
                           "topic 'right' (3 partitions): inputs joined in one sub-topology "
                           "must be co-partitioned; give them the same partition count");
  weir_topology_free(t);
  weir_embedded_stop(broker);
}

/* Two unconnected parts run as two sets of tasks; each gets its records. */
static void test_two_subtopologies_run_side_by_side(void **state) {
  static const char ini[] =
      "[weir]\napplication.id = it-two\nbootstrap.servers = embedded\nembedded.partitions = 2\n"
      "[source:a]\ntopic = ta\n[sink:oa]\ninput = a\ntopic = oa\n"
      "[source:b]\ntopic = tb\n"
      "[operator:upper]\nplugin = std\ntype = filter\ninput = b\npattern = ^B\n"
      "[sink:ob]\ninput = upper\ntopic = ob\n";
  weir_topology_t *t = topology(ini);
  assert_non_null(t);
  assert_int_equal(t->subtopology_count, 2);
  weir_app_t *app = start(t);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  it_send(p, "ta", 0, "k", "a0", 2, BASE_TS, NULL, NULL);
  it_send(p, "ta", 1, "k", "a1", 2, BASE_TS, NULL, NULL);
  it_send(p, "tb", 0, "k", "B0", 2, BASE_TS, NULL, NULL);
  it_send(p, "tb", 1, "k", "b1", 2, BASE_TS, NULL, NULL);
  rd_kafka_flush(p, IT_WAIT_MS);
  rd_kafka_destroy(p);
  static const char *const oa[] = {"a0", "a1"};
  static const char *const ob[] = {"B0"};
  expect_values(weir_app_bootstrap(app), "oa", oa, 2);
  expect_values(weir_app_bootstrap(app), "ob", ob, 1);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

/* Headers pass through whether a record has them or not, in plain and in
 * lz4 batches: the task skips librdkafka's parse of a record whose bytes show
 * no headers (kafka/wire_headers.h), and must skip it for those only. Values
 * of 0, 2, 63, 64 and 300 bytes (a 1- and a 2-byte varint length), with and
 * without a header, mixed in one batch. */
static void test_headers_with_and_without(void **state) {
  static const char ini[] = "[weir]\napplication.id = it-headers\nbootstrap.servers = embedded\n"
                            "embedded.partitions = 1\n"
                            "[source:in]\ntopic = in\n"
                            "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
                            "[sink:out]\ninput = pass\ntopic = out\n";
  enum { N = 40 };
  static const size_t sizes[] = {0, 2, 63, 64, 300};
  char value[300], key[16], hval[16], want[32];
  it_record_t got[N];
  memset(value, 'x', sizeof value);
  weir_topology_t *t = topology(ini);
  assert_non_null(t);
  weir_app_t *app = start(t);
  rd_kafka_t *plain = it_producer(weir_app_bootstrap(app));
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", weir_app_bootstrap(app), NULL, 0);
  rd_kafka_conf_set(conf, "linger.ms", "100", NULL, 0);
  rd_kafka_conf_set(conf, "compression.type", "lz4", NULL, 0);
  rd_kafka_t *lz4 = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  assert_non_null(lz4);
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "k%02d", i);
    snprintf(hval, sizeof hval, "v%02d", i);
    assert_int_equal(it_send(i < N / 2 ? plain : lz4, "in", 0, key, value, sizes[i % 5],
                             BASE_TS + i, i % 2 ? "h" : NULL, hval),
                     0);
    if (i == N / 2 - 1)
      assert_int_equal(rd_kafka_flush(plain, IT_WAIT_MS), 0);
  }
  assert_int_equal(rd_kafka_flush(lz4, IT_WAIT_MS), 0);
  rd_kafka_destroy(plain);
  rd_kafka_destroy(lz4);
  size_t n = it_consume(weir_app_bootstrap(app), "out", N, got, N, IT_WAIT_MS);
  assert_int_equal(n, N);
  qsort(got, n, sizeof *got, cmp_records);
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "k%02d", i);
    snprintf(want, sizeof want, "h=v%02d", i);
    assert_string_equal(got[i].key, key);
    assert_int_equal(got[i].value_len, sizes[i % 5]);
    assert_string_equal(got[i].headers, i % 2 ? want : "");
  }
  it_records_free(got, n);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      IT_TEST(test_split_filter_exact),
      IT_TEST(test_branch_routes_by_name),
      IT_TEST(test_deserialization_dead_letter),
      IT_TEST(test_deserialization_fail_stops),
      IT_TEST(test_sink_serde_mismatch_dead_letter),
      IT_TEST(test_missing_sink_topic_is_refused),
      IT_TEST(test_copartitioning_is_checked),
      IT_TEST(test_two_subtopologies_run_side_by_side),
      IT_TEST(test_headers_with_and_without),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
