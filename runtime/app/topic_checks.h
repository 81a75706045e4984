/* topic_checks — the topics a topology reads and writes, checked against
 * the cluster's metadata before anything is created or subscribed. */
#ifndef WEIR_APP_TOPIC_CHECKS_H
#define WEIR_APP_TOPIC_CHECKS_H

#include <librdkafka/rdkafka.h>

#include "topology/topology.h"
#include "util/diag.h"

/* Every source, sink, global-table and dead-letter topic of `t` exists in `md`, and the
 * source topics of each sub-topology are co-partitioned. Each problem is one
 * diagnostic naming the section or key, its file:line, the topic and what
 * to do. Internal topics are not checked: they are created after this.
 * 0 when all is well. */
int weir_topic_checks(const rd_kafka_metadata_t *md, const weir_topology_t *t,
                      const char *bootstrap, weir_diag_t *d);

#endif
