/* End to end: `weir run` as a process against `weir broker`, killed with
 * SIGKILL mid-stream and started again: every input has its output
 * (duplicates allowed, losses not); then SIGTERM stops it cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "proc.h"

#define N_TOTAL 30000
#define PARTITIONS 4

static char bootstrap[256];
static char ini_path[256];
static char log_path[256];

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static rd_kafka_t *client(rd_kafka_type_t type) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  if (type == RD_KAFKA_CONSUMER)
    rd_kafka_conf_set(conf, "group.id", "e2e-reader", NULL, 0);
  else
    rd_kafka_conf_set(conf, "linger.ms", "5", NULL, 0);
  return rd_kafka_new(type, conf, NULL, 0);
}

static void produce_range(rd_kafka_t *p, int from, int to) {
  char key[32], value[32];
  for (int i = from; i < to; i++) {
    snprintf(key, sizeof key, "k%d", i);
    snprintf(value, sizeof value, "%d", i);
    while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC("in"), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, strlen(key)),
                             RD_KAFKA_V_VALUE(value, strlen(value)),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(p, 10);
    rd_kafka_poll(p, 0);
  }
}

static long long out_count(rd_kafka_t *rk) {
  long long sum = 0;
  for (int p = 0; p < PARTITIONS; p++) {
    int64_t lo, hi;
    if (rd_kafka_query_watermark_offsets(rk, "out", p, &lo, &hi, 2000) == 0)
      sum += hi;
  }
  return sum;
}

/* Read all of `out` and mark which inputs have an output. */
static int count_covered(unsigned char *seen, long long *records) {
  rd_kafka_t *rk = client(RD_KAFKA_CONSUMER);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
  int64_t lo, hi, total = 0;
  for (int p = 0; p < PARTITIONS; p++) {
    rd_kafka_query_watermark_offsets(rk, "out", p, &lo, &hi, 2000);
    total += hi - lo;
    rd_kafka_topic_partition_list_add(parts, "out", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  long long got = 0, deadline = now_ms() + 20000;
  int covered = 0;
  memset(seen, 0, N_TOTAL);
  while (got < total && now_ms() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m)
      continue;
    if (!m->err) {
      char v[32];
      snprintf(v, sizeof v, "%.*s", (int)m->len, (const char *)m->payload);
      int i = atoi(v);
      if (i >= 0 && i < N_TOTAL && !seen[i]++)
        covered++;
      got++;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  *records = got;
  return covered;
}

static proc_t start_run(void) {
  char set_bootstrap[300], set_dir[600];
  snprintf(set_bootstrap, sizeof set_bootstrap, "weir.bootstrap.servers=%s", bootstrap);
  snprintf(set_dir, sizeof set_dir, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  char *argv[] = {WEIR_TEST_BINARY, "run", ini_path, "--set", set_bootstrap, "--set", set_dir, NULL};
  return proc_start(argv, 0, log_path);
}

static void test_kill9_loses_nothing(void **state) {
  char *broker_argv[] = {WEIR_TEST_BINARY, "broker", "--partitions", "4", "--topic", "in",
                         "--topic", "out", NULL};
  proc_t broker = proc_start(broker_argv, 1, log_path);
  assert_int_equal(proc_read_line(&broker, bootstrap, sizeof bootstrap, 10000), 0);
  FILE *f = fopen(ini_path, "w");
  fprintf(f, "[weir]\napplication.id = e2e-kill9\nbootstrap.servers = embedded\n"
             "commit.interval.ms = 300\n[source:in]\ntopic = in\n"
             "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
             "[sink:out]\ninput = pass\ntopic = out\n"
             /* The killed member must leave the group soon (the mock needs > 3000). */
             "[kafka]\nsession.timeout.ms = 6000\n");
  fclose(f);

  rd_kafka_t *prod = client(RD_KAFKA_PRODUCER);
  produce_range(prod, 0, N_TOTAL / 3);
  rd_kafka_flush(prod, 10000);
  proc_t run = start_run();
  long long deadline = now_ms() + 30000;
  while (out_count(prod) < N_TOTAL / 6 && now_ms() < deadline)
    usleep(20000);
  assert_true(out_count(prod) >= N_TOTAL / 6);
  /* Kill while input is still arriving: the tail is in flight somewhere. */
  produce_range(prod, N_TOTAL / 3, 2 * N_TOTAL / 3);
  assert_int_equal(proc_stop(&run, SIGKILL, 5000), 128 + SIGKILL);
  long long at_kill = out_count(prod);
  produce_range(prod, 2 * N_TOTAL / 3, N_TOTAL);
  rd_kafka_flush(prod, 10000);
  rd_kafka_destroy(prod);
  fprintf(stderr, "e2e: killed with %lld outputs written\n", at_kill);

  run = start_run();
  static unsigned char seen[N_TOTAL];
  long long records = 0;
  int covered = 0;
  deadline = now_ms() + 60000;
  while ((covered = count_covered(seen, &records)) < N_TOTAL && now_ms() < deadline)
    usleep(500000);
  fprintf(stderr, "e2e: %d of %d inputs have output; %lld output records (%lld duplicates)\n",
          covered, N_TOTAL, records, records - covered);
  assert_int_equal(covered, N_TOTAL);
  assert_int_equal(proc_stop(&run, SIGTERM, 30000), 0);
  assert_int_equal(proc_stop(&broker, SIGTERM, 10000), 0);
}

int main(void) {
  snprintf(ini_path, sizeof ini_path, "/tmp/weir-e2e-%d.ini", (int)getpid());
  snprintf(log_path, sizeof log_path, "/tmp/weir-e2e-%d.log", (int)getpid());
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9_loses_nothing)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (rc) {
    FILE *f = fopen(log_path, "r");
    char line[1024];
    fprintf(stderr, "---- weir processes' stderr ----\n");
    while (f && fgets(line, sizeof line, f))
      fputs(line, stderr);
    if (f)
      fclose(f);
  }
  unlink(ini_path);
  unlink(log_path);
  return rc;
}
