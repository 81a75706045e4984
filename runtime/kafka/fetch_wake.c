#include "kafka/fetch_wake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* librdkafka's own accounting is a little above the payload: stop short. */
#define AT_THRESHOLD(x, limit) ((x) >= (limit) - (limit) / 10)

struct weir_fetch_wake {
  rd_kafka_t *consumer;
  rd_kafka_queue_t *results; /* the requests' answers, dropped unread */
  rd_kafka_AdminOptions_t *options;
  size_t min_messages, max_bytes;
  size_t avg_bytes; /* a moving average of the records' key + value */
  int throttled;
  /* The brokers answered ListGroups with an error (the embedded broker has
   * none): wake the last pulled partition's leader with a ListOffsets
   * instead, which blocks for its round trip (bounded by WATERMARK_MS when
   * the broker cannot be reached). */
  int by_list_offsets;
  char topic[256];
  int32_t partition;
  unsigned long long sent;
};

enum { WATERMARK_MS = 200 };

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
  w->results = rd_kafka_queue_new(consumer);
  w->options = rd_kafka_AdminOptions_new(consumer, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
  rd_kafka_consumer_group_state_t dead = RD_KAFKA_CONSUMER_GROUP_STATE_DEAD;
  rd_kafka_error_t *error =
      w->options ? rd_kafka_AdminOptions_set_match_consumer_group_states(w->options, &dead, 1)
                 : NULL;
  if (error)
    rd_kafka_error_destroy(error); /* unfiltered, the answer is only longer */
  if (!w->results || !w->options) {
    weir_fetch_wake_free(w);
    return NULL;
  }
  return w;
}

void weir_fetch_wake_free(weir_fetch_wake_t *w) {
  if (!w)
    return;
  if (w->results)
    rd_kafka_queue_destroy(w->results);
  if (w->options)
    rd_kafka_AdminOptions_destroy(w->options);
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

/* An answer with no listing and only errors: the brokers have no ListGroups
 * (or refuse it); from now on the fallback. */
static void note_answer(weir_fetch_wake_t *w, rd_kafka_event_t *ev) {
  const rd_kafka_ListConsumerGroups_result_t *r = rd_kafka_event_ListConsumerGroups_result(ev);
  size_t valid = 0, errors = 0;
  if (r) {
    rd_kafka_ListConsumerGroups_result_valid(r, &valid);
    rd_kafka_ListConsumerGroups_result_errors(r, &errors);
  }
  if (rd_kafka_event_error(ev) || (errors && !valid)) {
    if (!w->by_list_offsets)
      WEIR_DEBUG("the brokers do not answer ListGroups (%s): waking fetchers by ListOffsets",
                 rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev) : "errors only");
    w->by_list_offsets = 1;
  }
}

void weir_fetch_wake_after_pull(weir_fetch_wake_t *w, rd_kafka_message_t *const *msgs, size_t n,
                                size_t queue_len) {
  if (!w)
    return;
  rd_kafka_event_t *ev;
  while ((ev = rd_kafka_queue_poll(w->results, 0))) {
    note_answer(w, ev);
    rd_kafka_event_destroy(ev);
  }
  if (n) {
    snprintf(w->topic, sizeof w->topic, "%s", rd_kafka_topic_name(msgs[n - 1]->rkt));
    w->partition = msgs[n - 1]->partition;
    size_t sum = 0;
    for (size_t i = 0; i < n; i++)
      sum += msgs[i]->len + msgs[i]->key_len;
    w->avg_bytes = (w->avg_bytes * 7 + sum / n) / 8;
  }
  if (!weir_fetch_wake_decide(&w->throttled, queue_len, w->avg_bytes, w->min_messages,
                              w->max_bytes))
    return;
  if (w->by_list_offsets) {
    int64_t low, high;
    if (w->partition < 0)
      return;
    rd_kafka_query_watermark_offsets(w->consumer, w->topic, w->partition, &low, &high,
                                     WATERMARK_MS);
  } else {
    rd_kafka_ListConsumerGroups(w->consumer, w->options, w->results);
  }
  w->sent++;
  WEIR_DEBUG("consumer queue down to %zu records after reaching its threshold: sent a request to "
             "every broker to wake the fetchers",
             queue_len);
}

unsigned long long weir_fetch_wake_count(const weir_fetch_wake_t *w) {
  return w ? w->sent : 0;
}
