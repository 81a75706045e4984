/* internal_topics — create the repartition and changelog topics a topology
 * needs before its threads subscribe, with the partition counts Kafka
 * Streams would give them: a repartition topic as many as the sub-topology
 * writing it reads, a changelog as many as its store's sub-topology — and
 * Kafka Streams' configs: a changelog compacted; a repartition topic
 * retention.ms = -1 (with cleanup.policy = delete, segment.bytes = 50 MiB,
 * CreateTime), purged up to the group's commits by thread/purge.h, so a
 * lagging reader never loses records to the broker's retention. A topic
 * that exists keeps the configs it has. */
#ifndef WEIR_APP_INTERNAL_TOPICS_H
#define WEIR_APP_INTERNAL_TOPICS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "broker/embedded.h"
#include "topology/topology.h"

/* The partition count each internal topic of `t` needs (`decided`, in
 * t->internal_topics order), from the source topics in `md`; an internal
 * topic that exists with another count is refused. 0, or -1 with errstr.
 * Creates nothing. */
int weir_internal_topics_plan(const weir_topology_t *t, const rd_kafka_metadata_t *md, int *decided,
                              char *errstr, size_t errstr_size);

/* Create the internal topics of `t` missing from `md` with the counts of
 * the plan, on the cluster `rk` reaches (through `embedded` when it is the
 * in-process broker), and wait until the metadata shows them led. 0, or -1
 * with errstr. */
int weir_internal_topics_create(rd_kafka_t *rk, weir_embedded_t *embedded, const weir_topology_t *t,
                                const rd_kafka_metadata_t *md, const int *decided,
                                const char *bootstrap, char *errstr, size_t errstr_size);

#endif
