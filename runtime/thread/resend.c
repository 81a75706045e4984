#include "thread/resend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/ownership.h"
#include "thread/thread_internal.h"
#include "util/log.h"

enum { LOG_EVERY_MS = 10000 };

/* A record waiting for room in the producer's queue: everything of it, since
 * the report it came from is gone once the callback returns. */
typedef struct parked {
  char *topic;
  int32_t partition;
  void *key, *value;
  size_t key_len, value_len;
  int64_t timestamp;
  rd_kafka_headers_t *headers; /* owned until produced */
  void *opaque;
} parked_t;

struct weir_resend {
  parked_t *items; /* oldest first */
  size_t count, cap;
  unsigned long long sent;     /* records sent again, in all */
  unsigned long long unlogged; /* ...since the last warning */
  int64_t logged_ms;           /* when the last warning went out; 0 before it */
};

int weir_resend_unconfirmed(const rd_kafka_message_t *msg) {
  return !msg->err && msg->offset < 0;
}

static weir_resend_t *state_of(weir_stream_thread_t *t) {
  if (!t->resend)
    t->resend = calloc(1, sizeof *t->resend);
  return t->resend;
}

static void parked_free(parked_t *p) {
  free(p->topic);
  free(p->key);
  free(p->value);
  if (p->headers)
    rd_kafka_headers_destroy(p->headers);
  memset(p, 0, sizeof *p);
}

void weir_resend_free(weir_resend_t *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->count; i++)
    parked_free(&r->items[i]);
  free(r->items);
  free(r);
}

size_t weir_resend_parked(const weir_stream_thread_t *t) {
  return t->resend ? t->resend->count : 0;
}

/* One warning at the first record and then at most every 10 s: a batch of
 * records comes in one burst of reports. */
static void note(weir_stream_thread_t *t, weir_resend_t *r, const rd_kafka_message_t *msg) {
  int64_t now = weir_now_ms();
  r->sent++;
  r->unlogged++;
  if (t->shared.owners)
    atomic_fetch_add(&t->shared.owners->threads[t->index].resent, 1);
  if (r->logged_ms && now - r->logged_ms < LOG_EVERY_MS)
    return;
  WEIR_WARN("thread %d: librdkafka reported %llu record(s) delivered without an offset (the "
            "latest to topic '%s' [%d]): a failed request's batch acknowledged by a later one, "
            "which the broker may not have; sending them again (at-least-once: they may appear "
            "twice, and after later records of their partition); %llu in all",
            t->index, r->unlogged, rd_kafka_topic_name(msg->rkt), (int)msg->partition, r->sent);
  r->unlogged = 0;
  r->logged_ms = now;
}

static void *copy_of(const void *bytes, size_t len) {
  void *copy = malloc(len ? len : 1);
  if (copy && len)
    memcpy(copy, bytes, len);
  return copy;
}

static int park(weir_resend_t *r, const rd_kafka_message_t *msg, int64_t timestamp,
                rd_kafka_headers_t *headers) {
  if (r->count == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    parked_t *grown = realloc(r->items, cap * sizeof *grown);
    if (!grown)
      return -1;
    r->items = grown;
    r->cap = cap;
  }
  parked_t p = {.topic = strdup(rd_kafka_topic_name(msg->rkt)),
                .partition = msg->partition,
                .key = msg->key ? copy_of(msg->key, msg->key_len) : NULL,
                .value = msg->payload ? copy_of(msg->payload, msg->len) : NULL,
                .key_len = msg->key_len,
                .value_len = msg->len,
                .timestamp = timestamp,
                .headers = headers,
                .opaque = msg->_private};
  if (!p.topic || (msg->key && !p.key) || (msg->payload && !p.value)) {
    p.headers = NULL; /* the caller's, on failure */
    parked_free(&p);
    return -1;
  }
  r->items[r->count++] = p;
  return 0;
}

static rd_kafka_resp_err_t produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                   const void *key, size_t key_len, const void *value,
                                   size_t value_len, int64_t timestamp, rd_kafka_headers_t *headers,
                                   void *opaque) {
  return rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *)key, key ? key_len : 0),
      RD_KAFKA_V_VALUE((void *)value, value ? value_len : 0), RD_KAFKA_V_TIMESTAMP(timestamp),
      RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

int weir_resend_record(weir_stream_thread_t *t, const rd_kafka_message_t *msg) {
  weir_resend_t *r = state_of(t);
  if (!r)
    return -1;
  rd_kafka_headers_t *headers = NULL, *copy = NULL;
  if (rd_kafka_message_headers(msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers &&
      !(copy = rd_kafka_headers_copy(headers)))
    return -1;
  /* The record's own time, unless an answer replaced it with the broker's
   * log-append time (a topic that stamps records itself stamps it again). */
  rd_kafka_timestamp_type_t type;
  int64_t ts = rd_kafka_message_timestamp(msg, &type);
  ts = type == RD_KAFKA_TIMESTAMP_CREATE_TIME && ts > 0 ? ts : 0;
  /* Behind records already parked: they go out first. */
  rd_kafka_resp_err_t err =
      r->count ? RD_KAFKA_RESP_ERR__QUEUE_FULL
               : produce(t->producer, rd_kafka_topic_name(msg->rkt), msg->partition, msg->key,
                         msg->key_len, msg->payload, msg->len, ts, copy, msg->_private);
  if (!err) {
    note(t, r, msg);
    return 0;
  }
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && park(r, msg, ts, copy) == 0) {
    note(t, r, msg);
    return 0;
  }
  if (copy)
    rd_kafka_headers_destroy(copy);
  return -1;
}

int weir_resend_flush(weir_stream_thread_t *t, int64_t deadline_ms) {
  weir_resend_t *r = t->resend;
  while (r && r->count) {
    /* Looked up again each time: a poll below may park more (realloc). */
    parked_t *p = &r->items[0];
    rd_kafka_resp_err_t err = produce(t->producer, p->topic, p->partition, p->key, p->key_len,
                                      p->value, p->value_len, p->timestamp, p->headers, p->opaque);
    if (!err) {
      p->headers = NULL; /* the producer's now */
      parked_free(p);
      memmove(r->items, r->items + 1, (r->count - 1) * sizeof *r->items);
      r->count--;
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      /* As a failed delivery (thread_clients.c): nothing more is committed. */
      char why[512];
      snprintf(why, sizeof why,
               "thread %d: cannot send again a record to topic '%s' [%d] that librdkafka "
               "reported delivered without an offset: %s; nothing more is committed and what is "
               "not committed is processed again after a restart",
               t->index, p->topic, (int)p->partition, rd_kafka_err2str(err));
      t->delivery_failed++;
      t->shared.fail(t->shared.app, why);
      return -1;
    }
    if (weir_now_ms() >= deadline_ms)
      return -1;
    rd_kafka_poll(t->producer, 10); /* delivery reports free room */
  }
  return 0;
}
