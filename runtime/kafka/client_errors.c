#include "kafka/client_errors.h"

#include <librdkafka/rdkafka.h>
#include <string.h>

static weir_client_episode_t *find(weir_client_errors_t *e, int err) {
  for (size_t i = 0; i < e->count; i++)
    if (e->open[i].err == err)
      return &e->open[i];
  return NULL;
}

/* A slot for a new code: a free one, else the one reported longest ago
 * (its episode is the likeliest to be over). */
static weir_client_episode_t *slot_for(weir_client_errors_t *e) {
  if (e->count < WEIR_CLIENT_ERROR_CODES)
    return &e->open[e->count++];
  weir_client_episode_t *oldest = &e->open[0];
  for (size_t i = 1; i < e->count; i++)
    if (e->open[i].seen_ms < oldest->seen_ms)
      oldest = &e->open[i];
  return oldest;
}

int weir_client_errors_note(weir_client_errors_t *e, int err, int64_t now_ms) {
  weir_client_episode_t *ep = find(e, err);
  if (ep && now_ms - ep->seen_ms < WEIR_CLIENT_ERROR_QUIET_MS &&
      now_ms - ep->warned_ms < WEIR_CLIENT_ERROR_REWARN_MS) {
    ep->seen_ms = now_ms;
    ep->repeats++;
    return 0;
  }
  if (!ep)
    ep = slot_for(e);
  *ep = (weir_client_episode_t){.err = err, .warned_ms = now_ms, .seen_ms = now_ms};
  return 1;
}

unsigned weir_client_errors_repeats(const weir_client_errors_t *e, int err) {
  for (size_t i = 0; i < e->count; i++)
    if (e->open[i].err == err)
      return e->open[i].repeats;
  return 0;
}

size_t weir_client_errors_clear(weir_client_errors_t *e) {
  size_t was = e->count;
  e->count = 0;
  return was;
}

const char *weir_client_error_hint(int err) {
  switch (err) {
  case RD_KAFKA_RESP_ERR__AUTHENTICATION:
  case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
  case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
  case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    return "check the credentials and sasl.* settings in [kafka]";
  case RD_KAFKA_RESP_ERR__SSL:
    return "check security.protocol and the ssl.* settings in [kafka] (certificates, CA)";
  case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    return "grant this principal the ACLs on the topics and the group (application.id)";
  case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
  case RD_KAFKA_RESP_ERR__TRANSPORT:
  case RD_KAFKA_RESP_ERR__RESOLVE:
    return "check that the brokers in bootstrap.servers are up and reachable";
  default: return "weir waits until it clears";
  }
}
