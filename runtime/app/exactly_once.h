/* exactly_once — what processing.guarantee = exactly_once needs before the
 * stream threads start: a broker with faithful transactions, and a stable
 * id for this instance's transactional producers. */
#ifndef WEIR_APP_EXACTLY_ONCE_H
#define WEIR_APP_EXACTLY_ONCE_H

#include <stddef.h>

#include "topology/topology.h"

/* Refuse a librdkafka mock cluster (`bootstrap.servers = embedded`, or
 * `weir broker` at an address): its transactions are not faithful. 0 when
 * the cluster is a real one. */
int weir_eos_check_broker(const weir_topology_t *t, const char *bootstrap, char *errstr,
                          size_t errstr_size);

/* This instance's id into `out`: [kafka] group.instance.id when set, else
 * one kept in <state.dir>/<application.id>/instance.id (made on first use),
 * else (no state dir can be written) a random one for this run. */
void weir_eos_instance_id(const weir_topology_t *t, char *out, size_t out_size);

#endif
