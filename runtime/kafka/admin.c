#include "kafka/admin.h"

#include <stdio.h>
#include <string.h>

static rd_kafka_NewTopic_t *new_topic(const weir_topic_spec_t *s, char *errstr,
                                      size_t errstr_size) {
  char why[256];
  rd_kafka_NewTopic_t *nt =
      rd_kafka_NewTopic_new(s->name, s->partitions, s->replication_factor, why, sizeof why);
  if (!nt) {
    snprintf(errstr, errstr_size, "topic '%s': %s", s->name, why);
    return NULL;
  }
  for (size_t i = 0; s->configs && s->configs[i]; i++) {
    char key[256];
    const char *eq = strchr(s->configs[i], '=');
    if (!eq || (size_t)(eq - s->configs[i]) >= sizeof key) {
      snprintf(errstr, errstr_size, "topic '%s': config '%s' is not key=value", s->name,
               s->configs[i]);
      rd_kafka_NewTopic_destroy(nt);
      return NULL;
    }
    memcpy(key, s->configs[i], (size_t)(eq - s->configs[i]));
    key[eq - s->configs[i]] = '\0';
    rd_kafka_NewTopic_set_config(nt, key, eq + 1);
  }
  return nt;
}

static int collect_results(rd_kafka_event_t *ev, char *errstr, size_t errstr_size) {
  size_t n = 0, used = 0;
  int failed = 0;
  const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
  const rd_kafka_topic_result_t **topics = rd_kafka_CreateTopics_result_topics(res, &n);
  if (rd_kafka_event_error(ev)) {
    snprintf(errstr, errstr_size, "creating topics failed: %s", rd_kafka_event_error_string(ev));
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(topics[i]);
    if (!err || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      continue;
    failed = 1;
    used += (size_t)snprintf(errstr + used, used < errstr_size ? errstr_size - used : 0,
                             "%scannot create topic '%s': %s", used ? "\n" : "",
                             rd_kafka_topic_result_name(topics[i]),
                             rd_kafka_topic_result_error_string(topics[i]));
  }
  return failed ? -1 : 0;
}

int weir_admin_create_topics(rd_kafka_t *rk, const weir_topic_spec_t *specs, size_t count,
                             int timeout_ms, char *errstr, size_t errstr_size) {
  rd_kafka_NewTopic_t *topics[256];
  int rc = -1;
  size_t made = 0;
  if (count > 256) {
    snprintf(errstr, errstr_size, "at most 256 topics at once");
    return -1;
  }
  for (; made < count; made++)
    if (!(topics[made] = new_topic(&specs[made], errstr, errstr_size)))
      goto out;
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, NULL, 0);
  rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, NULL, 0);
  rd_kafka_CreateTopics(rk, topics, count, opts, q);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
  if (!ev)
    snprintf(errstr, errstr_size, "creating topics timed out after %d ms", timeout_ms);
  else
    rc = collect_results(ev, errstr, errstr_size);
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
out:
  rd_kafka_NewTopic_destroy_array(topics, made);
  return rc;
}
