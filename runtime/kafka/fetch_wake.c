#include "kafka/fetch_wake.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* librdkafka's own accounting is a little above the payload: stop short. */
#define AT_THRESHOLD(x, limit) ((x) >= (limit) - (limit) / 10)

enum { LEADER_WAIT_MS = 200 };

/* One wake waiting for the waker thread: the partition whose leader it asks.
 * A newer wake replaces one not yet sent (one request wakes the broker). */
typedef struct {
  char topic[256];
  int32_t partition;
  int pending;
} wake_request_t;

struct weir_fetch_wake {
  rd_kafka_t *consumer;
  size_t min_messages, max_bytes;
  size_t avg_bytes; /* a moving average of the records' key + value */
  int throttled;
  char topic[256]; /* the last partition read: its leader is woken */
  int32_t partition;
  atomic_ullong sent, answered;
  /* The waker: rd_kafka_query_watermark_offsets() waits for the broker's
   * answer whatever its timeout says (3.04 s with a 200 ms timeout against
   * a mock broker answering in 3 s), so a slow broker stalled the stream
   * thread, and every task on it, for as long as the request took. */
  pthread_mutex_t lock;
  pthread_cond_t wakeup;
  pthread_t waker;
  int waker_started, waker_stop;
  wake_request_t request;
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
  atomic_init(&w->sent, 0);
  atomic_init(&w->answered, 0);
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->wakeup, NULL);
  return w;
}

void weir_fetch_wake_free(weir_fetch_wake_t *w) {
  if (!w)
    return;
  if (w->waker_started) {
    pthread_mutex_lock(&w->lock);
    w->waker_stop = 1;
    pthread_cond_signal(&w->wakeup);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->waker, NULL); /* a request in flight ends first: the consumer outlives it */
  }
  pthread_cond_destroy(&w->wakeup);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

/* The watermarks themselves are not needed: the request is the wake. */
static void send_wake(weir_fetch_wake_t *w, const char *topic, int32_t partition) {
  int64_t low, high;
  rd_kafka_query_watermark_offsets(w->consumer, topic, partition, &low, &high, LEADER_WAIT_MS);
  atomic_fetch_add(&w->answered, 1);
}

static void *waker_main(void *arg) {
  weir_fetch_wake_t *w = arg;
  pthread_setname_np(pthread_self(), "weir-wake");
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->request.pending && !w->waker_stop)
      pthread_cond_wait(&w->wakeup, &w->lock);
    if (w->waker_stop)
      break;
    wake_request_t r = w->request;
    w->request.pending = 0;
    pthread_mutex_unlock(&w->lock);
    send_wake(w, r.topic, r.partition);
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

/* Hands the wake to the waker thread, started at the first; without one
 * (it could not start) the wake is sent here, as before. */
static void request_wake(weir_fetch_wake_t *w) {
  pthread_mutex_lock(&w->lock);
  if (!w->waker_started && pthread_create(&w->waker, NULL, waker_main, w) == 0)
    w->waker_started = 1;
  if (w->waker_started) {
    snprintf(w->request.topic, sizeof w->request.topic, "%s", w->topic);
    w->request.partition = w->partition;
    w->request.pending = 1;
    pthread_cond_signal(&w->wakeup);
  }
  int started = w->waker_started;
  pthread_mutex_unlock(&w->lock);
  if (!started)
    send_wake(w, w->topic, w->partition);
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
  atomic_fetch_add(&w->sent, 1);
  request_wake(w);
  WEIR_DEBUG("consumer queue down to %zu records after reaching its threshold: a ListOffsets to "
             "the leader of %s [%d] to wake the fetchers",
             queue_len, w->topic, (int)w->partition);
}

unsigned long long weir_fetch_wake_count(const weir_fetch_wake_t *w) {
  return w ? atomic_load(&w->sent) : 0;
}

unsigned long long weir_fetch_wake_answered(const weir_fetch_wake_t *w) {
  return w ? atomic_load(&w->answered) : 0;
}
