#include "broker/embedded.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>

struct weir_embedded {
  rd_kafka_t *rk; /* the mock cluster needs a handle to live in */
  rd_kafka_mock_cluster_t *cluster;
};

weir_embedded_t *weir_embedded_start(int brokers, char *errstr, size_t errstr_size) {
  char why[512];
  weir_embedded_t *e = calloc(1, sizeof *e);
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (!e) {
    rd_kafka_conf_destroy(conf);
    snprintf(errstr, errstr_size, "embedded broker: out of memory");
    return NULL;
  }
  rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
  e->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!e->rk) {
    rd_kafka_conf_destroy(conf);
    snprintf(errstr, errstr_size, "embedded broker: cannot create its client: %s", why);
    free(e);
    return NULL;
  }
  e->cluster = rd_kafka_mock_cluster_new(e->rk, brokers);
  if (!e->cluster) {
    snprintf(errstr, errstr_size,
             "embedded broker: cannot start %d mock broker(s) (no free loopback port?)", brokers);
    rd_kafka_destroy(e->rk);
    free(e);
    return NULL;
  }
  return e;
}

const char *weir_embedded_bootstrap(const weir_embedded_t *e) {
  return rd_kafka_mock_cluster_bootstraps(e->cluster);
}

int weir_embedded_create_topic(weir_embedded_t *e, const char *topic, int partitions, char *errstr,
                               size_t errstr_size) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(e->cluster, topic, partitions, 1);
  if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    snprintf(errstr, errstr_size, "embedded broker: cannot create topic '%s': %s", topic,
             rd_kafka_err2str(err));
    return -1;
  }
  return 0;
}

void weir_embedded_stop(weir_embedded_t *e) {
  if (!e)
    return;
  rd_kafka_mock_cluster_destroy(e->cluster);
  rd_kafka_destroy(e->rk);
  free(e);
}
