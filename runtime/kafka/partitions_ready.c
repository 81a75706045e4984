#include "kafka/partitions_ready.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"

enum { ROUND_MS = 5000, PAUSE_MS = 100 };

static const rd_kafka_metadata_topic_t *find_topic(const rd_kafka_metadata_t *md,
                                                   const char *topic) {
  for (int i = 0; i < md->topic_cnt; i++)
    if (strcmp(md->topics[i].topic, topic) == 0)
      return &md->topics[i];
  return NULL;
}

/* A topic named twice is asked once: Kafka refuses a ListOffsets that names
 * a partition twice (KAFKA-1588). */
static int named_before(const char *const *topics, size_t i) {
  for (size_t j = 0; j < i; j++)
    if (strcmp(topics[j], topics[i]) == 0)
      return 1;
  return 0;
}

/* A partition the metadata shows without a leader is not being created:
 * its records wait in the producer's queue for one, as any client's do, and
 * waiting here would only delay the start. */
static rd_kafka_topic_partition_list_t *partitions_of(const rd_kafka_metadata_t *md,
                                                      const char *const *topics, size_t n) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
  for (size_t i = 0; i < n; i++) {
    const rd_kafka_metadata_topic_t *mt =
        named_before(topics, i) ? NULL : find_topic(md, topics[i]);
    for (int p = 0; mt && p < mt->partition_cnt; p++)
      if (!mt->partitions[p].err && mt->partitions[p].leader >= 0)
        rd_kafka_topic_partition_list_add(l, mt->topic, mt->partitions[p].id);
  }
  return l;
}

/* One ListOffsets round over `l`: the partitions that did not answer with
 * an offset, each with its error (the call's when it has none). librdkafka
 * 2.0.2 gives every offset or none: one partition's error (or a leader it
 * cannot find) fails the whole call. */
static rd_kafka_topic_partition_list_t *ask_once(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l,
                                                 int timeout_ms) {
  for (int i = 0; i < l->cnt; i++)
    l->elems[i].offset = RD_KAFKA_OFFSET_END, l->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, l, timeout_ms);
  rd_kafka_topic_partition_list_t *left = rd_kafka_topic_partition_list_new(l->cnt ? l->cnt : 1);
  for (int i = 0; i < l->cnt; i++) {
    const rd_kafka_topic_partition_t *e = &l->elems[i];
    if (!e->err && e->offset >= 0)
      continue;
    rd_kafka_topic_partition_list_add(left, e->topic, e->partition)->err =
        e->err ? e->err
        : err  ? err
               : RD_KAFKA_RESP_ERR__TIMED_OUT;
  }
  return left;
}

int weir_partitions_wait_ready(rd_kafka_t *rk, const rd_kafka_metadata_t *md,
                               const char *const *topics, size_t topic_count, int timeout_ms,
                               int *rounds, char *why, size_t why_size) {
  int64_t deadline = weir_now_ms() + timeout_ms;
  rd_kafka_topic_partition_list_t *l = partitions_of(md, topics, topic_count);
  if (rounds)
    *rounds = 0;
  for (;;) {
    int64_t left_ms = deadline - weir_now_ms();
    if (!l->cnt || left_ms <= 0)
      break;
    rd_kafka_topic_partition_list_t *left =
        ask_once(rk, l, left_ms < ROUND_MS ? (int)left_ms : ROUND_MS);
    if (rounds)
      ++*rounds;
    rd_kafka_topic_partition_list_destroy(l);
    l = left;
    if (l->cnt && deadline - weir_now_ms() > PAUSE_MS) {
      struct timespec pause = {0, PAUSE_MS * 1000000L};
      nanosleep(&pause, NULL);
    }
  }
  int not_ready = l->cnt;
  if (not_ready && why_size)
    snprintf(why, why_size, "%s; partition %d of topic '%s' among them",
             rd_kafka_err2str(l->elems[0].err ? l->elems[0].err : RD_KAFKA_RESP_ERR__TIMED_OUT),
             (int)l->elems[0].partition, l->elems[0].topic);
  rd_kafka_topic_partition_list_destroy(l);
  return not_ready;
}
