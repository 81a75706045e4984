/* The broker under an end-to-end test: the real Kafka broker when the suite
 * runs under tests/kafka/kafka.sh (WEIR_TEST_KAFKA_BOOTSTRAP is set), else a
 * `weir broker` process started here. Topics are created through the Admin
 * API on the real broker (the production path) and on the command line of
 * `weir broker` (the mock has no Admin API). Names carry the test's pid so
 * runs on one long-lived broker never meet. */
#ifndef WEIR_TESTS_E2E_H
#define WEIR_TESTS_E2E_H

#include <dirent.h>
#include <librdkafka/rdkafka.h>
#include <sys/stat.h>

#include "kafka/admin.h"
#include "proc.h"
#include "util/fs.h"

/* The bound on waiting for anything a test waits for (a log line, an
 * offset, a commit): generous, so that only a hang reaches it. */
#define E2E_WAIT_MS 60000

typedef struct e2e_broker {
  char bootstrap[256];
  int real;
  proc_t proc; /* weir broker, when not real */
} e2e_broker_t;

__attribute__((unused)) static long long e2e_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the broker's metadata lists every topic of the NULL-ended list. */
__attribute__((unused)) static int e2e_topics_listed(rd_kafka_t *rk, const char *const *topics) {
  const rd_kafka_metadata_t *md = NULL;
  int all = rd_kafka_metadata(rk, 1, NULL, &md, 5000) == 0;
  for (size_t i = 0; all && topics[i]; i++) {
    int found = 0;
    for (int k = 0; k < md->topic_cnt; k++)
      found |= strcmp(md->topics[k].topic, topics[i]) == 0 && !md->topics[k].err;
    all = found;
  }
  if (md)
    rd_kafka_metadata_destroy(md);
  return all;
}

/* `topics` is NULL-ended; each gets `partitions`. 0 on success. */
__attribute__((unused)) static int e2e_broker_start(e2e_broker_t *b, const char *const *topics,
                                                    int partitions, const char *log) {
  const char *real = getenv("WEIR_TEST_KAFKA_BOOTSTRAP");
  memset(b, 0, sizeof *b);
  b->proc.pid = -1;
  if (real && *real) {
    char err[1024];
    weir_topic_spec_t specs[16];
    size_t n = 0;
    b->real = 1;
    snprintf(b->bootstrap, sizeof b->bootstrap, "%s", real);
    for (; topics[n] && n < 16; n++)
      specs[n] = (weir_topic_spec_t){topics[n], partitions, 1, NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", b->bootstrap, NULL, 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, NULL, 0);
    int rc = weir_admin_create_topics(rk, specs, n, 30000, err, sizeof err);
    if (rc)
      fprintf(stderr, "e2e: %s\n", err);
    /* Kafka answers CreateTopics before its metadata lists the topics. */
    for (int tries = 0; !rc && tries < 150 && !e2e_topics_listed(rk, topics); tries++)
      usleep(100000);
    rd_kafka_destroy(rk);
    fprintf(stderr, "e2e: on the real Kafka broker at %s\n", b->bootstrap);
    return rc;
  }
  char parts[16];
  char *argv[40] = {WEIR_TEST_BINARY, "broker", "--partitions", parts};
  int a = 4;
  snprintf(parts, sizeof parts, "%d", partitions);
  for (size_t i = 0; topics[i] && a < 36; i++) {
    argv[a++] = "--topic";
    argv[a++] = (char *)topics[i];
  }
  argv[a] = NULL;
  b->proc = proc_start(argv, 1, log);
  int rc = proc_read_line(&b->proc, b->bootstrap, sizeof b->bootstrap, E2E_WAIT_MS);
  fprintf(stderr, "e2e: on `weir broker` at %s\n", b->bootstrap);
  return rc;
}

__attribute__((unused)) static int e2e_broker_stop(e2e_broker_t *b) {
  return b->real ? 0 : proc_stop(&b->proc, SIGTERM, 10000);
}

/* make test runs the end-to-end tests that stop, restart or freeze the real
 * broker on a broker of their own (label e2e_broker_fault), and the others
 * side by side on a shared one, with WEIR_TEST_KAFKA_SHARED=1
 * (tests/e2e/both-brokers.sh). A test that would stop or freeze the shared
 * broker fails here, with the fix, instead of failing the tests beside it.
 * 1 when `what` must not be done. */
__attribute__((unused)) static int e2e_broker_shared(const char *what) {
  const char *shared = getenv("WEIR_TEST_KAFKA_SHARED");
  if (!shared || strcmp(shared, "1") != 0)
    return 0;
  fprintf(stderr,
          "e2e: refused to %s the Kafka broker: other tests share it (WEIR_TEST_KAFKA_SHARED=1); "
          "give this test the label e2e_broker_fault in tests/e2e/CMakeLists.txt\n",
          what);
  return 1;
}

/* SIGSTOP or SIGCONT to the broker's process: `weir broker`, or the real
 * broker's JVM (its pid in WEIR_TEST_KAFKA_DIR/kafka.pid). The pid
 * signalled, or -1. */
__attribute__((unused)) static pid_t e2e_broker_signal(const e2e_broker_t *b, int sig) {
  pid_t pid = b->real ? -1 : b->proc.pid;
  if (b->real && e2e_broker_shared(sig == SIGSTOP ? "freeze" : "signal"))
    return -1;
  if (b->real) {
    char path[600];
    const char *dir = getenv("WEIR_TEST_KAFKA_DIR");
    snprintf(path, sizeof path, "%s/kafka.pid", dir ? dir : "");
    FILE *f = dir ? fopen(path, "r") : NULL;
    long v = -1;
    if (f && fscanf(f, "%ld", &v) != 1)
      v = -1;
    if (f)
      fclose(f);
    pid = (pid_t)v;
  }
  return pid > 0 && kill(pid, sig) == 0 ? pid : -1;
}

/* Records a test's own producers failed to deliver (seen when they poll), so
 * that an input missing from weir's output can be told from one that never
 * reached the input topic. */
__attribute__((unused)) static int e2e_undelivered;
__attribute__((unused)) static char e2e_undelivered_why[128];

__attribute__((unused)) static void e2e_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                                                    void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) {
    e2e_undelivered++;
    snprintf(e2e_undelivered_why, sizeof e2e_undelivered_why, "%s", rd_kafka_err2str(m->err));
  }
}

__attribute__((unused)) static rd_kafka_t *e2e_client(const e2e_broker_t *b, rd_kafka_type_t type,
                                                      const char *group) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", b->bootstrap, NULL, 0);
  if (type == RD_KAFKA_CONSUMER) {
    rd_kafka_conf_set(conf, "group.id", group ? group : "e2e-reader", NULL, 0);
  } else {
    rd_kafka_conf_set(conf, "linger.ms", "5", NULL, 0);
    rd_kafka_conf_set_dr_msg_cb(conf, e2e_on_delivery);
  }
  return rd_kafka_new(type, conf, NULL, 0);
}

/* Values are the decimal numbers from..to-1, keys "k<n>". */
__attribute__((unused)) static void e2e_produce_range(rd_kafka_t *p, const char *topic, int from,
                                                      int to) {
  char key[32], value[32];
  for (int i = from; i < to; i++) {
    snprintf(key, sizeof key, "k%d", i);
    snprintf(value, sizeof value, "%d", i);
    while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, strlen(key)),
                             RD_KAFKA_V_VALUE(value, strlen(value)),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(p, 10);
    rd_kafka_poll(p, 0);
  }
}

__attribute__((unused)) static long long e2e_end_offsets(rd_kafka_t *rk, const char *topic,
                                                         int partitions) {
  long long sum = 0;
  for (int p = 0; p < partitions; p++) {
    int64_t lo, hi;
    if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000) == 0)
      sum += hi;
  }
  return sum;
}

__attribute__((unused)) static long long e2e_wait_end_offsets(rd_kafka_t *rk, const char *topic,
                                                              int partitions, long long want,
                                                              int timeout_ms) {
  long long deadline = e2e_now_ms() + timeout_ms, n = 0;
  while ((n = e2e_end_offsets(rk, topic, partitions)) < want && e2e_now_ms() < deadline)
    usleep(50000);
  return n;
}

typedef void (*e2e_record_fn)(const rd_kafka_message_t *m, void *ctx);

/* Partition p's first and end offsets, asked again every 100 ms until the
 * broker answers with them or `deadline` passes: a partition without a
 * leader for a moment (a busy shared broker) must not look empty. (librdkafka
 * 2.0.2 waits for each answer whatever the 5000 ms says.) */
__attribute__((unused)) static int e2e_end_offset(rd_kafka_t *rk, const char *topic, int p,
                                                  long long deadline, int64_t *lo, int64_t *hi) {
  rd_kafka_resp_err_t err;
  while ((err = rd_kafka_query_watermark_offsets(rk, topic, p, lo, hi, 5000)) &&
         e2e_now_ms() < deadline)
    usleep(100000);
  if (err)
    fprintf(stderr, "e2e: cannot read the end offset of %s [%d]: %s\n", topic, p,
            rd_kafka_err2str(err));
  return err ? -1 : 0;
}

/* Each partition's end offset into `ends` (-1 where none came by E2E_WAIT_MS). */
__attribute__((unused)) static void e2e_end_offsets_each(rd_kafka_t *rk, const char *topic,
                                                         int partitions, int64_t *ends) {
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  for (int p = 0; p < partitions; p++) {
    int64_t lo, hi;
    ends[p] = e2e_end_offset(rk, topic, p, deadline, &lo, &hi) ? -1 : hi;
  }
}

/* Reads `topic` from partition p's offset from[p] (from = NULL: from the
 * beginning) up to its end offset at the call, for up to E2E_WAIT_MS,
 * handing `each` every record below those ends; returns how many it read.
 * Each partition is read to its own end: a count over all of them ended
 * the read early once records written meanwhile to one partition made up
 * for those still unread in another. */
__attribute__((unused)) static long long e2e_read_each(const e2e_broker_t *b, const char *topic,
                                                       int partitions, const int64_t *from,
                                                       e2e_record_fn each, void *ctx) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_CONSUMER, NULL);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
  int64_t *next = calloc((size_t)partitions, sizeof *next);
  int64_t *end = calloc((size_t)partitions, sizeof *end);
  long long got = 0, deadline = e2e_now_ms() + E2E_WAIT_MS;
  for (int p = 0; p < partitions; p++) {
    int64_t lo = 0, hi = 0;
    if (e2e_end_offset(rk, topic, p, deadline, &lo, &hi))
      continue; /* not read: its records count as missing */
    next[p] = from ? from[p] : lo;
    end[p] = hi;
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
        from ? from[p] : RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  int open = partitions;
  while (open > 0 && e2e_now_ms() < deadline) {
    open = 0;
    for (int p = 0; p < partitions; p++)
      open += next[p] < end[p];
    rd_kafka_message_t *m = open ? rd_kafka_consumer_poll(rk, 100) : NULL;
    if (!m)
      continue;
    int p = m->partition;
    if (!m->err && p >= 0 && p < partitions) {
      if (m->offset < end[p]) {
        each(m, ctx);
        got++;
      }
      if (m->offset + 1 > next[p])
        next[p] = m->offset + 1;
    }
    rd_kafka_message_destroy(m);
  }
  free(next);
  free(end);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return got;
}

/* A record's value as the decimal number the tests write, or -1 when it is
 * not one. */
__attribute__((unused)) static long e2e_value_number(const rd_kafka_message_t *m) {
  char v[32], *end;
  snprintf(v, sizeof v, "%.*s", (int)m->len, (const char *)m->payload);
  long i = strtol(v, &end, 10);
  return end != v && !*end && i >= 0 ? i : -1;
}

typedef struct e2e_seen {
  unsigned *seen;
  int n;
  long long *other; /* values that are no number below n, or NULL */
} e2e_seen_t;

__attribute__((unused)) static void e2e_count_number(const rd_kafka_message_t *m, void *ctx) {
  e2e_seen_t *s = ctx;
  long i = e2e_value_number(m);
  if (i >= 0 && i < s->n)
    s->seen[i]++;
  else if (s->other)
    (*s->other)++;
}

/* Reads `topic` from partition p's offset from[p] on (from = NULL: from the
 * beginning); seen[value]++ for each record whose value is a number below
 * `n`, the others counted in *other (when not NULL). Returns the number of
 * records read. */
__attribute__((unused)) static long long e2e_read_from(const e2e_broker_t *b, const char *topic,
                                                       int partitions, const int64_t *from,
                                                       unsigned *seen, int n, long long *other) {
  e2e_seen_t s = {seen, n, other};
  memset(seen, 0, (size_t)n * sizeof *seen);
  if (other)
    *other = 0;
  return e2e_read_each(b, topic, partitions, from, e2e_count_number, &s);
}

/* All of `topic`, as e2e_read_from. */
__attribute__((unused)) static long long e2e_read_all(const e2e_broker_t *b, const char *topic,
                                                      int partitions, unsigned *seen, int n) {
  return e2e_read_from(b, topic, partitions, NULL, seen, n, NULL);
}

/* The group's committed offsets summed over the topic's partitions. */
__attribute__((unused)) static long long e2e_committed(const e2e_broker_t *b, const char *group,
                                                       const char *topic, int partitions) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_CONSUMER, group);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
  long long sum = 0;
  for (int p = 0; p < partitions; p++)
    rd_kafka_topic_partition_list_add(parts, topic, p);
  if (rd_kafka_committed(rk, parts, 10000) == 0)
    for (int p = 0; p < partitions; p++)
      sum += parts->elems[p].offset > 0 ? parts->elems[p].offset : 0;
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return sum;
}

/* The topic's partition count, or -1 when it does not exist. */
__attribute__((unused)) static int e2e_topic_partitions(const e2e_broker_t *b, const char *topic) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_PRODUCER, NULL);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  const rd_kafka_metadata_t *md = NULL;
  int n = -1;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == 0 && md->topic_cnt == 1 && !md->topics[0].err)
    n = md->topics[0].partition_cnt;
  if (md)
    rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return n;
}

/* Start `weir run INI` with the broker and the build's plugins. */
__attribute__((unused)) static proc_t e2e_weir_run(const e2e_broker_t *b, const char *ini,
                                                   const char *log) {
  char set_bootstrap[300], set_dir[600];
  snprintf(set_bootstrap, sizeof set_bootstrap, "weir.bootstrap.servers=%s", b->bootstrap);
  snprintf(set_dir, sizeof set_dir, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  char *argv[] = {WEIR_TEST_BINARY, "run",   (char *)ini, "--set",
                  set_bootstrap,    "--set", set_dir,     NULL};
  return proc_start(argv, 0, log);
}

/* Print a log file to stderr (on failure). */
__attribute__((unused)) static void e2e_dump_log(const char *path) {
  FILE *f = fopen(path, "r");
  char line[1024];
  fprintf(stderr, "---- %s ----\n", path);
  while (f && fgets(line, sizeof line, f))
    fputs(line, stderr);
  if (f)
    fclose(f);
}

/* How many lines of the file hold `needle`. */
__attribute__((unused)) static int e2e_log_count(const char *path, const char *needle) {
  FILE *f = fopen(path, "r");
  char line[4096];
  int n = 0;
  while (f && fgets(line, sizeof line, f))
    n += strstr(line, needle) != NULL;
  if (f)
    fclose(f);
  return n;
}

/* Wait until `needle` is in `count` lines of the file. 0 when it is, -1
 * after timeout_ms. */
__attribute__((unused)) static int e2e_wait_log(const char *path, const char *needle, int count,
                                                int timeout_ms) {
  long long deadline = e2e_now_ms() + timeout_ms;
  while (e2e_log_count(path, needle) < count) {
    if (e2e_now_ms() >= deadline) {
      fprintf(stderr, "e2e: %s never showed \"%s\" %d time(s) in %d ms\n", path, needle, count,
              timeout_ms);
      return -1;
    }
    usleep(50000);
  }
  return 0;
}

/* ------------------------------------------------------------ main() */

/* The test's own directory (mkdtemp under $TMPDIR, else /tmp): its INI
 * files, logs and state directories, removed as one at the end. */
static char e2e_dir[200];

/* `buf` = e2e_dir/name. */
__attribute__((unused)) static const char *e2e_file(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", e2e_dir, name);
  return buf;
}

/* Every *.log of the test's directory to stderr (on failure). */
__attribute__((unused)) static void e2e_dump_logs(void) {
  DIR *d = opendir(e2e_dir);
  struct dirent *e;
  char path[512];
  while (d && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0)
      e2e_dump_log(e2e_file(path, sizeof path, e->d_name));
  }
  if (d)
    closedir(d);
}

/* Runs the tests with `setup(pid)` first (names topics and files), then
 * kills what an assertion left running, prints the logs of a failed run and
 * removes the directory (kept, and named, with WEIR_TEST_KEEP_LOGS=1 when a
 * test failed). */
__attribute__((unused)) static int e2e_main(const char *name, void (*setup)(int pid),
                                            const struct CMUnitTest *tests, size_t count) {
  const char *tmp = getenv("TMPDIR");
  snprintf(e2e_dir, sizeof e2e_dir, "%s/weir-e2e-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
  if (!mkdtemp(e2e_dir)) {
    fprintf(stderr, "e2e: cannot create %s: %s\n", e2e_dir, strerror(errno));
    return 1;
  }
  if (setup)
    setup((int)getpid());
  /* WEIR_TEST_ONLY=test_name (cmocka's * and ? wildcards): one scenario. */
  const char *only = getenv("WEIR_TEST_ONLY");
  if (only && *only)
    cmocka_set_test_filter(only);
  int rc = _cmocka_run_group_tests(name, tests, count, NULL, NULL);
  proc_kill_all();
  const char *keep = getenv("WEIR_TEST_KEEP_LOGS");
  if (rc)
    e2e_dump_logs();
  if (rc && keep && strcmp(keep, "1") == 0)
    fprintf(stderr, "e2e: logs kept in %s (WEIR_TEST_KEEP_LOGS=1)\n", e2e_dir);
  else if (weir_rm_rf(e2e_dir))
    fprintf(stderr, "e2e: cannot remove %s: %s\n", e2e_dir, strerror(errno));
  return rc;
}

/* main(): E2E_MAIN(name, setup, cmocka_unit_test(a), cmocka_unit_test(b)). */
#define E2E_MAIN(name, setup, ...)                                                                 \
  int main(void) {                                                                                 \
    const struct CMUnitTest tests_[] = {__VA_ARGS__};                                              \
    return e2e_main(name, setup, tests_, sizeof tests_ / sizeof tests_[0]);                        \
  }

#endif
