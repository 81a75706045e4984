#include "kafka/partitions_ready.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kafka/topics.h"
#include "util/clock.h"

enum { ROUND_MS = 5000, PAUSE_MS = 100 };

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
        named_before(topics, i) ? NULL : weir_topics_find(md, topics[i]);
    for (int p = 0; mt && p < mt->partition_cnt; p++)
      if (!mt->partitions[p].err && mt->partitions[p].leader >= 0)
        rd_kafka_topic_partition_list_add(l, mt->topic, mt->partitions[p].id);
  }
  return l;
}

/* One ListOffsets round over `l`: how many partitions did not answer with
 * an offset, and the error of the first of them (*first). librdkafka 2.0.2
 * gives every offset or none: one partition's error (or a leader it cannot
 * find) fails the whole call. */
static int ask_once(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l, int timeout_ms,
                    int *first) {
  for (int i = 0; i < l->cnt; i++)
    l->elems[i].offset = RD_KAFKA_OFFSET_END, l->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, l, timeout_ms);
  int left = 0;
  for (int i = l->cnt - 1; i >= 0; i--) {
    rd_kafka_topic_partition_t *e = &l->elems[i];
    if (e->err || e->offset < 0 || err) {
      e->err = e->err ? e->err : err ? err : RD_KAFKA_RESP_ERR__TIMED_OUT;
      *first = i, left++;
    }
  }
  return left;
}

int weir_partitions_wait_ready(rd_kafka_t *rk, const rd_kafka_metadata_t *md,
                               const char *const *topics, size_t topic_count, int timeout_ms,
                               int *rounds, char *why, size_t why_size) {
  int64_t deadline = weir_now_ms() + timeout_ms;
  rd_kafka_topic_partition_list_t *l = partitions_of(md, topics, topic_count);
  int left = l->cnt, first = 0, asked = 0;
  /* The broker's last refusal: the last round, cut short by the deadline,
   * may end in a local timeout that would hide why the partitions waited. */
  rd_kafka_resp_err_t refused = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (;;) {
    int64_t left_ms = deadline - weir_now_ms();
    if (!left || left_ms <= 0)
      break;
    left = ask_once(rk, l, left_ms < ROUND_MS ? (int)left_ms : ROUND_MS, &first);
    asked++;
    if (left && l->elems[first].err != RD_KAFKA_RESP_ERR__TIMED_OUT)
      refused = l->elems[first].err;
    if (left && deadline - weir_now_ms() > PAUSE_MS) {
      struct timespec pause = {0, PAUSE_MS * 1000000L};
      nanosleep(&pause, NULL);
    }
  }
  if (rounds)
    *rounds = asked;
  if (left && why_size) { /* no error when never asked (timeout_ms <= 0) */
    const rd_kafka_topic_partition_t *e = &l->elems[first];
    snprintf(why, why_size, "%s; partition %d of topic '%s' among them",
             rd_kafka_err2str(refused  ? refused
                              : e->err ? e->err
                                       : RD_KAFKA_RESP_ERR__TIMED_OUT),
             (int)e->partition, e->topic);
  }
  rd_kafka_topic_partition_list_destroy(l);
  return left;
}
