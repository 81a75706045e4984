/* The baseline: the plainest fast librdkafka consume->produce loop — batch
 * consume, asynchronous produce with the bytes copied, tuned queues, the same
 * producer guarantees as weir (acks=all, idempotence, lz4) — and nothing else:
 * no topology, no offset tracking, and no commits at all: librdkafka's
 * automatic offset store alone costs ~0.5 us a record (a lock per message),
 * so the loop skips it to be the ceiling weir is measured against. It wakes
 * its fetchers with weir's code (bench_loop_wake): without it, librdkafka
 * 2.0.2 refetches up to a second after its queue filled, and the loop's
 * rate measured that stall rather than a ceiling. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  stop = 1;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
  char why[256];
  if (rd_kafka_conf_set(c, k, v, why, sizeof why))
    fprintf(stderr, "loop: %s\n", why);
}

rd_kafka_t *bench_loop_consumer(const char *bootstrap, const char *group, const char *input) {
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  set(c, "bootstrap.servers", bootstrap);
  set(c, "group.id", group);
  set(c, "auto.offset.reset", "earliest");
  set(c, "queued.min.messages", "200000");
  set(c, "queued.max.messages.kbytes", "262144");
  set(c, "fetch.max.bytes", "52428800");
  set(c, "enable.partition.eof", "false");
  set(c, "session.timeout.ms", "10000");
  set(c, "enable.auto.commit", "false");
  set(c, "enable.auto.offset.store", "false");
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, NULL, 0);
  rd_kafka_poll_set_consumer(rk);
  /* INPUT may be "a,b": the two-input cases (joins) forward both. */
  char topics[512];
  snprintf(topics, sizeof topics, "%s", input);
  rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(2);
  for (char *save = NULL, *name = strtok_r(topics, ",", &save); name;
       name = strtok_r(NULL, ",", &save))
    rd_kafka_topic_partition_list_add(t, name, RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, t);
  rd_kafka_topic_partition_list_destroy(t);
  return rk;
}

rd_kafka_t *bench_loop_producer(const char *bootstrap) {
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  set(c, "bootstrap.servers", bootstrap);
  set(c, "linger.ms", "5");
  set(c, "batch.num.messages", "10000");
  set(c, "queue.buffering.max.messages", "1000000");
  set(c, "queue.buffering.max.kbytes", "1048576");
  set(c, "acks", "all");
  set(c, "enable.idempotence", "true");
  set(c, "compression.type", "lz4");
  set(c, "partitioner", "murmur2_random"); /* as weir: Java's partitioner */
  return rd_kafka_new(RD_KAFKA_PRODUCER, c, NULL, 0);
}

weir_fetch_wake_t *bench_loop_wake(rd_kafka_t *consumer) {
  const char *env = getenv("WEIR_BENCH_LOOP_WAKE");
  return env && strcmp(env, "0") == 0 ? NULL : weir_fetch_wake_new(consumer, 0);
}

static void forward(rd_kafka_t *p, rd_kafka_topic_t *out, const rd_kafka_message_t *m) {
  while (rd_kafka_producev(p, RD_KAFKA_V_RKT(out), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
                           RD_KAFKA_V_TIMESTAMP(rd_kafka_message_timestamp(m, NULL)),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    rd_kafka_poll(p, 5);
}

/* One consumer/producer pair. With THREADS > 1 the loop runs that many pairs,
 * one per thread, in the one process, each consumer its own member of the
 * group: the same shape as weir's `threads = N` (each stream thread owns a
 * consumer and a producer) and Kafka Streams' num.stream.threads, so the three
 * columns scale out the same way and the process's RSS and CPU compare alike.
 * (N separate loop processes would also give N members, but N copies of
 * librdkafka's per-process overhead the other two do not pay.) */
typedef struct pair {
  const char *bootstrap, *input, *output, *group;
  int timeout_ms;
} pair_t;

static void *run_pair(void *arg) {
  enum { BATCH = 1024 };
  const pair_t *a = arg;
  rd_kafka_message_t *msgs[BATCH];
  rd_kafka_t *c = bench_loop_consumer(a->bootstrap, a->group, a->input);
  rd_kafka_t *p = bench_loop_producer(a->bootstrap);
  rd_kafka_topic_t *out = rd_kafka_topic_new(p, a->output, NULL);
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(c);
  weir_fetch_wake_t *wake = bench_loop_wake(c);
  while (!stop) {
    ssize_t n = rd_kafka_consume_batch_queue(q, a->timeout_ms, msgs, BATCH);
    weir_fetch_wake_after_pull(wake, msgs, n > 0 ? (size_t)n : 0, rd_kafka_queue_length(q));
    for (ssize_t i = 0; i < n; i++) {
      if (!msgs[i]->err)
        forward(p, out, msgs[i]);
      rd_kafka_message_destroy(msgs[i]);
    }
    rd_kafka_poll(p, 0);
  }
  rd_kafka_flush(p, 10000);
  fprintf(stderr, "loop: woke the fetchers %llu times\n", weir_fetch_wake_count(wake));
  weir_fetch_wake_free(wake);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_destroy(out);
  rd_kafka_destroy(p);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return NULL;
}

/* weir-bench loop BOOTSTRAP INPUT OUTPUT GROUP [THREADS] */
int bench_loop_main(int argc, char **argv) {
  enum { MAX_THREADS = 64 };
  int timeout_ms =
      getenv("WEIR_BENCH_LOOP_TIMEOUT_MS") ? atoi(getenv("WEIR_BENCH_LOOP_TIMEOUT_MS")) : 100;
  int threads = argc == 6 ? atoi(argv[5]) : 1;
  if ((argc != 5 && argc != 6) || threads < 1 || threads > MAX_THREADS) {
    fprintf(stderr, "usage: weir-bench loop BOOTSTRAP INPUT OUTPUT GROUP [THREADS]\n");
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  pair_t a = {argv[1], argv[2], argv[3], argv[4], timeout_ms};
  pthread_t tid[MAX_THREADS];
  for (int i = 1; i < threads; i++)
    pthread_create(&tid[i], NULL, run_pair, &a);
  run_pair(&a); /* the first pair on the main thread, as before */
  for (int i = 1; i < threads; i++)
    pthread_join(tid[i], NULL);
  return 0;
}
