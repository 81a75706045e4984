/* Helpers for the in-process integration tests: a topology from INI text,
 * producing to and reading back from the (embedded) broker. Each test file
 * includes this once. */
#ifndef WEIR_TESTS_IT_SUPPORT_H
#define WEIR_TESTS_IT_SUPPORT_H

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "config/config.h"
#include "topology/topology.h"

typedef struct it_record {
  char *key;   /* NUL-terminated copies; NULL when absent */
  char *value;
  size_t value_len;
  int64_t timestamp;
  int32_t partition;
  char *headers; /* "name=value;name=value" */
} it_record_t;

static long long it_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A topology from INI text; plugin.dir is the build's plugin directory. */
__attribute__((unused)) static weir_topology_t *it_topology(const char *ini) {
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("it.ini", ini, &d);
  char set[1024];
  snprintf(set, sizeof set, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  weir_cfg_override(cfg, set, &d);
  weir_topology_t *t = d.count ? NULL : weir_topology_build(cfg, NULL, &d);
  weir_diag_print(&d, stderr);
  weir_diag_free(&d);
  weir_cfg_free(cfg);
  return t;
}

static rd_kafka_t *it_producer(const char *bootstrap) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "linger.ms", "1", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!rk)
    fprintf(stderr, "it: producer: %s\n", why);
  return rk;
}

/* Produce one record; header may be NULL ("name", "value"). */
static int it_send(rd_kafka_t *rk, const char *topic, int32_t partition, const char *key,
                   const void *value, size_t value_len, int64_t ts, const char *hname,
                   const char *hvalue) {
  rd_kafka_headers_t *h = NULL;
  if (hname) {
    h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, hname, -1, hvalue, -1);
  }
  rd_kafka_resp_err_t err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE((void *)value, value_len),
      RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
  if (err && h)
    rd_kafka_headers_destroy(h);
  return err ? -1 : 0;
}

static char *it_dup(const void *p, size_t n) {
  if (!p)
    return NULL;
  char *s = malloc(n + 1);
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

static char *it_headers(const rd_kafka_message_t *m) {
  rd_kafka_headers_t *hdrs;
  char buf[2048] = "";
  size_t used = 0;
  const char *name;
  const void *val;
  size_t size;
  if (rd_kafka_message_headers(m, &hdrs) == 0)
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; i++)
      used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s=%.*s", i ? ";" : "", name,
                               (int)size, val ? (const char *)val : "");
  return strdup(buf);
}

/* Read `topic` from the beginning until `want` records or `timeout_ms`, then
 * one more second to catch any record beyond `want` (a test asserts there is
 * none). Returns how many were read into out[] (capacity `cap`). */
static size_t it_consume(const char *bootstrap, const char *topic, size_t want, it_record_t *out,
                         size_t cap, int timeout_ms) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "group.id", "it-reader", NULL, 0);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  const rd_kafka_metadata_t *md;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  size_t n = 0;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == 0) {
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    for (int p = 0; p < md->topics[0].partition_cnt; p++)
      rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  long long deadline = it_now_ms() + timeout_ms;
  for (;;) {
    if (n >= want && deadline > it_now_ms() + 1000)
      deadline = it_now_ms() + 1000;
    if (it_now_ms() >= deadline)
      break;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m)
      continue;
    if (!m->err && n < cap) {
      out[n].key = it_dup(m->key, m->key_len);
      out[n].value = it_dup(m->payload, m->len);
      out[n].value_len = m->len;
      out[n].timestamp = rd_kafka_message_timestamp(m, NULL);
      out[n].partition = m->partition;
      out[n].headers = it_headers(m);
      n++;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return n;
}

static void it_records_free(it_record_t *r, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(r[i].key);
    free(r[i].value);
    free(r[i].headers);
  }
}

/* The group's committed offset for topic/partition (-1001 when none). */
__attribute__((unused)) static int64_t it_committed(const char *bootstrap, const char *group, const char *topic,
                            int32_t partition) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic, partition);
  int64_t off = -2;
  if (rd_kafka_committed(rk, parts, 5000) == 0)
    off = parts->elems[0].offset;
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return off;
}

/* Wait until the app has processed at least `n` records. */
__attribute__((unused)) static int it_wait_processed(weir_app_t *app, unsigned long long n, int timeout_ms) {
  long long deadline = it_now_ms() + timeout_ms;
  while (weir_app_processed(app) < n && it_now_ms() < deadline)
    usleep(20000);
  return weir_app_processed(app) >= n ? 0 : -1;
}

#endif
