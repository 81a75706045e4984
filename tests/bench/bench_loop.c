/* The baseline: the plainest fast librdkafka consume->produce loop — batch
 * consume, asynchronous produce with the bytes copied, tuned queues, the same
 * producer guarantees as weir (acks=all, idempotence, lz4) — and nothing else:
 * no topology, no offset tracking, and no commits at all: librdkafka's
 * automatic offset store alone costs ~0.5 us a record (a lock per message),
 * so the loop skips it to be the ceiling weir is measured against. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = 1; }

static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
  char why[256];
  if (rd_kafka_conf_set(c, k, v, why, sizeof why))
    fprintf(stderr, "loop: %s\n", why);
}

static rd_kafka_t *consumer(const char *bootstrap, const char *group, const char *input) {
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
  rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(t, input, RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, t);
  rd_kafka_topic_partition_list_destroy(t);
  return rk;
}

static rd_kafka_t *producer(const char *bootstrap) {
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

static void forward(rd_kafka_t *p, rd_kafka_topic_t *out, const rd_kafka_message_t *m) {
  while (rd_kafka_producev(p, RD_KAFKA_V_RKT(out), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_KEY(m->key, m->key_len),
                           RD_KAFKA_V_VALUE(m->payload, m->len),
                           RD_KAFKA_V_TIMESTAMP(rd_kafka_message_timestamp(m, NULL)),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    rd_kafka_poll(p, 5);
}

/* weir-bench loop BOOTSTRAP INPUT OUTPUT GROUP */
int bench_loop_main(int argc, char **argv) {
  enum { BATCH = 1024 };
  int timeout_ms = getenv("WEIR_BENCH_LOOP_TIMEOUT_MS") ? atoi(getenv("WEIR_BENCH_LOOP_TIMEOUT_MS")) : 100;
  rd_kafka_message_t *msgs[BATCH];
  if (argc != 5) {
    fprintf(stderr, "usage: weir-bench loop BOOTSTRAP INPUT OUTPUT GROUP\n");
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  rd_kafka_t *c = consumer(argv[1], argv[4], argv[2]);
  rd_kafka_t *p = producer(argv[1]);
  rd_kafka_topic_t *out = rd_kafka_topic_new(p, argv[3], NULL);
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(c);
  while (!stop) {
    ssize_t n = rd_kafka_consume_batch_queue(q, timeout_ms, msgs, BATCH);
    for (ssize_t i = 0; i < n; i++) {
      if (!msgs[i]->err)
        forward(p, out, msgs[i]);
      rd_kafka_message_destroy(msgs[i]);
    }
    rd_kafka_poll(p, 0);
  }
  rd_kafka_flush(p, 10000);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_destroy(out);
  rd_kafka_destroy(p);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return 0;
}
