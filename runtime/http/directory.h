/* directory — which instance owns which partition, for forwarding.
 *
 * librdkafka 2.0.2 has no custom assignor, so the assignment cannot carry
 * user data; instead every stream thread's client.id ends in
 * "@<http.advertise>" (thread_clients.c), and the consumer group's own
 * description (DescribeConsumerGroups: members, their client ids and their
 * assigned partitions) says which advertised address holds each partition.
 * That works on any Kafka cluster and follows every rebalance.
 *
 * The description is asked by a thread of its own, never by an HTTP
 * polling thread: a lookup that finds it older than REFRESH_MS wakes that
 * thread and answers from the last one meanwhile, so a slow broker (a
 * describe waits up to 3 s) holds up no local lookup. Answering from a
 * description a few seconds old is safe: an owner that no longer runs the
 * partition answers 503 (a forwarded query is never forwarded again), never
 * a value. A lookup waits (3 s at most) only when there is no description
 * to answer from and none failed since the last good one: the first after
 * start, or one after 30 s without forwarded lookups. A failed description
 * leaves the last good one in use for 30 s after it. [HTTP threads; the
 * directory's own thread.]
 */
#ifndef WEIR_HTTP_DIRECTORY_H
#define WEIR_HTTP_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>

#include "topology/topology.h"

typedef struct weir_directory weir_directory_t;

/* NULL on out of memory or when no admin client can be made (errstr). */
weir_directory_t *weir_directory_new(const weir_topology_t *t, const char *bootstrap, char *errstr,
                                     size_t errstr_size);
void weir_directory_free(weir_directory_t *d);

/* A directory that never asks the group: it knows what weir_directory_set
 * tells it (an embedding that places partitions itself, and the tests).
 * NULL on out of memory. */
weir_directory_t *weir_directory_new_fixed(const weir_topology_t *t);
/* The partition of `subtopology` is run by the instance at addr. */
void weir_directory_set(weir_directory_t *d, int subtopology, int32_t partition, const char *addr);

/* The advertised address of the member the group assigned the partition of
 * `subtopology` to, into addr. 0, or -1 when no member has it (a rebalance
 * in progress) or the group cannot be described (why). */
int weir_directory_owner(weir_directory_t *d, int subtopology, int32_t partition, char *addr,
                         size_t addr_size, char *why, size_t why_size);

/* The address in a client id "<anything>@<host:port>", or NULL. */
const char *weir_directory_addr_of(const char *client_id);

#endif
