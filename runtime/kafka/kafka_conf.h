/* kafka_conf — librdkafka configurations for weir's clients.
 *
 * Order of precedence, lowest first: weir's defaults (tuned for the record
 * path), then the [kafka] section as written (passed through unchanged), then
 * what weir must own for its guarantees (group.id, offset handling, callbacks).
 */
#ifndef WEIR_KAFKA_KAFKA_CONF_H
#define WEIR_KAFKA_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>

#include "kafka/kafka_settings.h"

typedef enum weir_client_role {
  WEIR_CLIENT_CONSUMER = 1,
  WEIR_CLIENT_PRODUCER = 2,
  WEIR_CLIENT_ADMIN = 3,
  WEIR_CLIENT_RESTORE = 4 /* a consumer outside the group: assign() only, EOF events on */
} weir_client_role_t;

/* A new conf for `role`, with `bootstrap` (the resolved address; the
 * topology's may say "embedded"). A [kafka] key reaches only the clients it
 * is for, as librdkafka's own table classifies it (consumer, producer or
 * both): the admin client takes neither consumer- nor producer-only keys.
 * On error returns NULL and errstr names the [kafka] key, its file:line and
 * librdkafka's reason. */
rd_kafka_conf_t *weir_kafka_conf_new(const weir_kafka_settings_t *ks, const char *bootstrap,
                                     weir_client_role_t role, const char *client_id, char *errstr,
                                     size_t errstr_size);

/* Set one property, with the reason in errstr on failure. */
int weir_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                        size_t errstr_size);

#endif
