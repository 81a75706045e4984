#include "kafka/fetch_wake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* librdkafka's own accounting is a little above the payload: stop short. */
#define AT_THRESHOLD(x, limit) ((x) >= (limit) - (limit) / 10)

enum { LEADER_WAIT_MS = 200 };

struct weir_fetch_wake {
  rd_kafka_t *consumer;
  size_t min_messages, max_bytes;
  size_t avg_bytes; /* a moving average of the records' key + value */
  int throttled;
  char topic[256]; /* the last partition read: its leader is woken */
  int32_t partition;
  unsigned long long sent;
};

static size_t conf_size(rd_kafka_t *rk, const char *name, size_t fallback) {
  char buf[64];
  size_t size = sizeof buf;
  if (rd_kafka_conf_get(rd_kafka_conf(rk), name, buf, &size) != RD_KAFKA_CONF_OK)
    return fallback;
  long long v = strtoll(buf, NULL, 10);
  return v > 0 ? (size_t)v : fallback;
}

weir_fetch_wake_t *weir_fetch_wake_new(rd_kafka_t *consumer, int embedded) {
  if (embedded || rd_kafka_version() >= 0x020200ff)
    return NULL;
  weir_fetch_wake_t *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->consumer = consumer;
  w->min_messages = conf_size(consumer, "queued.min.messages", 100000);
  w->max_bytes = conf_size(consumer, "queued.max.messages.kbytes", 65536) * 1024;
  w->avg_bytes = 100;
  w->partition = -1;
  return w;
}

void weir_fetch_wake_free(weir_fetch_wake_t *w) {
  free(w);
}

int weir_fetch_wake_decide(int *throttled, size_t queue_len, size_t avg_bytes, size_t min_messages,
                           size_t max_bytes) {
  size_t bytes = queue_len * avg_bytes;
  if (AT_THRESHOLD(queue_len, min_messages) || AT_THRESHOLD(bytes, max_bytes)) {
    *throttled = 1;
    return 0;
  }
  if (!*throttled || queue_len > min_messages / 2 || bytes > max_bytes / 2)
    return 0;
  *throttled = 0;
  return 1;
}

void weir_fetch_wake_after_pull(weir_fetch_wake_t *w, rd_kafka_message_t *const *msgs, size_t n,
                                size_t queue_len) {
  if (!w)
    return;
  if (n) {
    size_t sum = 0;
    for (size_t i = 0; i < n; i++)
      sum += msgs[i]->len + msgs[i]->key_len;
    w->avg_bytes = (w->avg_bytes * 7 + sum / n) / 8;
    snprintf(w->topic, sizeof w->topic, "%s", rd_kafka_topic_name(msgs[n - 1]->rkt));
    w->partition = msgs[n - 1]->partition;
  }
  if (w->partition < 0 || !weir_fetch_wake_decide(&w->throttled, queue_len, w->avg_bytes,
                                                  w->min_messages, w->max_bytes))
    return;
  /* The watermarks themselves are not needed: the request is the wake. */
  int64_t low, high;
  rd_kafka_query_watermark_offsets(w->consumer, w->topic, w->partition, &low, &high,
                                   LEADER_WAIT_MS);
  w->sent++;
  WEIR_DEBUG("consumer queue down to %zu records after reaching its threshold: a ListOffsets to "
             "the leader of %s [%d] to wake the fetchers",
             queue_len, w->topic, (int)w->partition);
}

unsigned long long weir_fetch_wake_count(const weir_fetch_wake_t *w) {
  return w ? w->sent : 0;
}
