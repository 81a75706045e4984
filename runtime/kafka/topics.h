/* topics — make sure the topology's topics exist before any record moves. */
#ifndef WEIR_KAFKA_TOPICS_H
#define WEIR_KAFKA_TOPICS_H

#include <librdkafka/rdkafka.h>

#include "topology/topology.h"
#include "util/diag.h"

/* Every source, sink and dead-letter topic of `t` exists on the cluster `rk`
 * talks to. Each missing topic is one diagnostic naming the section, its
 * file:line and what to do. 0 when all exist. */
/* A topic's partition count in `md`, or -1 when it is not there (or in error). */
int weir_topics_partitions(const rd_kafka_metadata_t *md, const char *topic);

int weir_topics_verify(rd_kafka_t *rk, const weir_topology_t *t, const char *bootstrap,
                       int timeout_ms, weir_diag_t *d);

#endif
