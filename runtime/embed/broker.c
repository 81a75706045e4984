/* broker — the development broker of weir/runtime.h (1.1): the embedded
 * broker `bootstrap.servers = embedded` and `weir broker` run, for an
 * embedding program's own tests. */
#include <weir/runtime.h>

#include <stdio.h>

#include "broker/embedded.h"

#define PUBLIC __attribute__((visibility("default")))

/* The public handle is the internal one: nothing to add. */
struct weir_broker;

PUBLIC weir_broker_t *weir_broker_start(int brokers, char *errstr, size_t errstr_size) {
  if (brokers < 1 || brokers > 32) {
    snprintf(errstr, errstr_size, "weir_broker_start: %d brokers asked for; use 1..32", brokers);
    return NULL;
  }
  return (weir_broker_t *)weir_embedded_start(brokers, errstr, errstr_size);
}

PUBLIC const char *weir_broker_address(const weir_broker_t *b) {
  return b ? weir_embedded_bootstrap((const weir_embedded_t *)b) : NULL;
}

PUBLIC int weir_broker_create_topic(weir_broker_t *b, const char *topic, int partitions,
                                    char *errstr, size_t errstr_size) {
  if (!b || !topic || partitions < 1) {
    snprintf(errstr, errstr_size, "weir_broker_create_topic: %s",
             !b       ? "no broker"
             : !topic ? "no topic name"
                      : "partitions must be 1 or more");
    return -1;
  }
  return weir_embedded_create_topic((weir_embedded_t *)b, topic, partitions, errstr, errstr_size)
             ? -1
             : 0;
}

PUBLIC void weir_broker_stop(weir_broker_t *b) {
  if (b)
    weir_embedded_stop((weir_embedded_t *)b);
}
