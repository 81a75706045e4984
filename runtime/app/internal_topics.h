/* internal_topics — create the repartition and changelog topics a topology
 * needs before its threads subscribe, with the partition counts Kafka
 * Streams would give them: a repartition topic as many as the sub-topology
 * writing it reads, a changelog as many as its store's sub-topology. */
#ifndef WEIR_APP_INTERNAL_TOPICS_H
#define WEIR_APP_INTERNAL_TOPICS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "broker/embedded.h"
#include "topology/topology.h"

/* Create every internal topic of `t` on the cluster `rk` reaches (through
 * `embedded` when it is the in-process broker). 0, or -1 with one line per
 * problem in errstr. */
int weir_internal_topics_create(rd_kafka_t *rk, weir_embedded_t *embedded, const weir_topology_t *t,
                                const char *bootstrap, char *errstr, size_t errstr_size);

#endif
