#include "app/internal_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka/admin.h"
#include "kafka/topics.h"
#include "util/log.h"

enum { TIMEOUT_MS = 15000 };

/* A sub-topology's task count: the most partitions among its source topics
 * (internal ones as decided already, at indices below `known`). */
static int subtopology_partitions(const weir_topology_t *t, const rd_kafka_metadata_t *md, int sub,
                                  const int *decided, size_t known) {
  int best = -1;
  for (size_t i = 0; i < t->node_count; i++) {
    const weir_node_t *n = t->nodes[i];
    for (size_t k = 0; n->kind == WEIR_NODE_SOURCE && n->subtopology == sub && k < n->topic_count;
         k++) {
      int count = weir_topics_partitions(md, n->topics[k]);
      for (size_t j = 0; j < known; j++)
        if (strcmp(t->internal_topics[j].name, n->topics[k]) == 0)
          count = decided[j];
      if (count > best)
        best = count;
    }
  }
  return best;
}

static int decide_partitions(const weir_topology_t *t, const rd_kafka_metadata_t *md, int *decided,
                             char *errstr, size_t errstr_size) {
  for (size_t j = 0; j < t->internal_topic_count; j++) {
    decided[j] = subtopology_partitions(t, md, t->internal_topics[j].partitions_of, decided, j);
    if (decided[j] <= 0) {
      snprintf(errstr, errstr_size,
               "%s: cannot size internal topic '%s': the source topics of sub-topology %d do not "
               "exist yet; create them first",
               t->path, t->internal_topics[j].name, t->internal_topics[j].partitions_of);
      return -1;
    }
  }
  return 0;
}

/* An internal topic that exists must have the partitions its tasks expect. */
static int check_existing(const weir_topology_t *t, const rd_kafka_metadata_t *md,
                          const int *decided, char *errstr, size_t errstr_size) {
  for (size_t j = 0; j < t->internal_topic_count; j++) {
    int have = weir_topics_partitions(md, t->internal_topics[j].name);
    if (have >= 0 && have != decided[j]) {
      snprintf(errstr, errstr_size,
               "internal topic '%s' has %d partitions but its tasks need %d (the input's "
               "partition count changed?): delete it, or use a new application.id",
               t->internal_topics[j].name, have, decided[j]);
      return -1;
    }
  }
  return 0;
}

static int create_on_embedded(weir_embedded_t *e, const weir_topology_t *t, const int *decided,
                              char *errstr, size_t errstr_size) {
  for (size_t j = 0; j < t->internal_topic_count; j++)
    if (weir_embedded_create_topic(e, t->internal_topics[j].name, decided[j], errstr, errstr_size))
      return -1;
  return 0;
}

/* Every created topic listed with all its partitions led. */
static int all_visible(const rd_kafka_metadata_t *md, const weir_topic_spec_t *specs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int ok = 0;
    for (int k = 0; k < md->topic_cnt && !ok; k++) {
      const rd_kafka_metadata_topic_t *mt = &md->topics[k];
      if (strcmp(mt->topic, specs[i].name) != 0 || mt->err ||
          mt->partition_cnt != specs[i].partitions)
        continue;
      ok = 1;
      for (int p = 0; p < mt->partition_cnt; p++)
        ok &= !mt->partitions[p].err && mt->partitions[p].leader >= 0;
    }
    if (!ok)
      return 0;
  }
  return 1;
}

/* Kafka answers CreateTopics before its metadata answers list the topics: a
 * consumer subscribing now would be assigned without them and learn of them
 * only at its next metadata refresh (topic.metadata.refresh.interval.ms, 5
 * minutes), and the restore's offset queries get "not leader". As Kafka
 * Streams does, wait until the metadata shows them led. */
static int wait_visible(rd_kafka_t *rk, const weir_topic_spec_t *specs, size_t n,
                        const char *bootstrap, char *errstr, size_t errstr_size) {
  struct timespec start, now, pause = {0, 100 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    const rd_kafka_metadata_t *md = NULL;
    int ok = rd_kafka_metadata(rk, 1, NULL, &md, TIMEOUT_MS) == 0 && all_visible(md, specs, n);
    if (md)
      rd_kafka_metadata_destroy(md);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (ok)
      return 0;
    if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > TIMEOUT_MS)
      break;
    nanosleep(&pause, NULL);
  }
  snprintf(errstr, errstr_size,
           "internal topics created on %s are not in its metadata with leaders after %d ms",
           bootstrap, TIMEOUT_MS);
  return -1;
}

/* Kafka Streams' window and session changelogs: compacted, and deleted past
 * the store's retention plus a day (WindowedChangelogTopicConfig's
 * retention = store retention + windowstore.changelog.additional.retention.ms,
 * 1 day), so the topic does not keep every window ever made. */
enum { WINDOWED_EXTRA_RETENTION_MS = 86400000 };

typedef struct {
  char retention[64];
  const char *configs[3];
} windowed_configs_t;

/* The configs of changelog `name` when it backs a window or session store;
 * NULL for any other topic. */
static const char *const *windowed_configs(const weir_topology_t *t, const char *name,
                                           windowed_configs_t *w) {
  for (size_t i = 0; i < t->store_count; i++) {
    const weir_store_decl_t *d = &t->stores[i];
    if ((d->kind != WEIR_STORE_WINDOW && d->kind != WEIR_STORE_SESSION) || !d->changelog_topic ||
        strcmp(d->changelog_topic, name) != 0)
      continue;
    int64_t ms = d->retention_ms > INT64_MAX - WINDOWED_EXTRA_RETENTION_MS
                     ? INT64_MAX
                     : d->retention_ms + WINDOWED_EXTRA_RETENTION_MS;
    snprintf(w->retention, sizeof w->retention, "retention.ms=%lld", (long long)ms);
    w->configs[0] = "cleanup.policy=compact,delete";
    w->configs[1] = w->retention;
    w->configs[2] = NULL;
    return w->configs;
  }
  return NULL;
}

static int create_with_admin(rd_kafka_t *rk, const weir_topology_t *t,
                             const rd_kafka_metadata_t *md, const int *decided,
                             const char *bootstrap, char *errstr, size_t errstr_size) {
  static const char *const compact[] = {"cleanup.policy=compact", NULL};
  /* Kafka Streams' repartition topic configs: kept until purged (thread/
   * purge.h), not until the broker's retention passes, which would drop
   * what a reader lagging that long has not read yet. */
  static const char *const repartition[] = {"cleanup.policy=delete", "retention.ms=-1",
                                            "segment.bytes=52428800",
                                            "message.timestamp.type=CreateTime", NULL};
  weir_topic_spec_t specs[256];
  windowed_configs_t windowed[256];
  size_t n = 0;
  for (size_t j = 0; j < t->internal_topic_count && n < 256; j++) {
    const char *name = t->internal_topics[j].name;
    if (weir_topics_partitions(md, name) >= 0)
      continue;
    const char *const *configs = t->internal_topics[j].changelog ? compact : repartition;
    const char *const *w = windowed_configs(t, name, &windowed[n]);
    specs[n++] = (weir_topic_spec_t){name, decided[j], -1, w ? w : configs};
  }
  if (!n)
    return 0;
  char why[1024];
  if (weir_admin_create_topics(rk, specs, n, TIMEOUT_MS, why, sizeof why) == 0) {
    for (size_t i = 0; i < n; i++)
      WEIR_INFO("created internal topic '%s' (%d partitions, %s)", specs[i].name,
                specs[i].partitions,
                specs[i].configs == compact ? "compacted"
                : specs[i].configs == repartition
                    ? "retention.ms=-1, purged after commits"
                    : "compacted and deleted past the store's retention + 1 day");
    return wait_visible(rk, specs, n, bootstrap, errstr, errstr_size);
  }
  /* `weir broker` (librdkafka's mock) has no Admin API: it must be told. */
  snprintf(errstr, errstr_size,
           "cannot create internal topic '%s' (%d partitions) on %s: %s; create it there "
           "(with `weir broker`: --topic %s)",
           specs[0].name, specs[0].partitions, bootstrap, why, specs[0].name);
  return -1;
}

int weir_internal_topics_plan(const weir_topology_t *t, const rd_kafka_metadata_t *md, int *decided,
                              char *errstr, size_t errstr_size) {
  return decide_partitions(t, md, decided, errstr, errstr_size) ||
                 check_existing(t, md, decided, errstr, errstr_size)
             ? -1
             : 0;
}

int weir_internal_topics_create(rd_kafka_t *rk, weir_embedded_t *embedded, const weir_topology_t *t,
                                const rd_kafka_metadata_t *md, const int *decided,
                                const char *bootstrap, char *errstr, size_t errstr_size) {
  if (!t->internal_topic_count)
    return 0;
  return embedded ? create_on_embedded(embedded, t, decided, errstr, errstr_size)
                  : create_with_admin(rk, t, md, decided, bootstrap, errstr, errstr_size);
}
