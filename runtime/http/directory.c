#include "http/directory.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka/kafka_conf.h"
#include "util/clock.h"
#include "util/log.h"

/* A lookup that finds the last description older than REFRESH_MS (or the
 * last try failed that long ago) wakes the describing thread, so the broker
 * is asked at most every 2 s while forwarded lookups come, not at each; a
 * mock, or a broker that cannot describe groups, never (is_mock_cluster,
 * apply). The last good description answers for STALE_MAX_MS after it,
 * however the ones since went; a lookup with none to answer from waits
 * FIRST_WAIT_MS at most (map_ready). */
enum {
  REFRESH_MS = 2000,
  DESCRIBE_TIMEOUT_MS = 2000,
  FIRST_WAIT_MS = DESCRIBE_TIMEOUT_MS + 1000,
  STALE_MAX_MS = 30000,
  ADDR_MAX = 128
};

struct weir_directory {
  const weir_topology_t *topo;
  rd_kafka_t *admin;
  rd_kafka_queue_t *queue;
  pthread_mutex_t mu;       /* the HTTP threads and the describing thread */
  pthread_cond_t wake;      /* the describing thread: a lookup wants a description */
  pthread_cond_t described; /* lookups waiting for the first description */
  pthread_t describer;      /* started unless fixed */
  int describer_started;    /* joined at free */
  int wanted;               /* a description is wanted (the thread clears it) */
  int describing;           /* the thread is asking the broker now */
  int stopping;             /* weir_directory_free: the thread ends */
  long long fetched_ms;     /* the last good description; 0: never */
  long long tried_ms;       /* the last description's end, good or failed; 0: never */
  long long failed_ms;      /* the last failed description; 0: none since a good one */
  char failure[256];        /* why it failed */
  int unsupported;          /* a description failed (the broker may not support it) */
  int never;                /* the broker cannot describe groups: not asked again */
  int cluster_known;        /* the cluster's id was read (a mock is never asked) */
  int fixed;                /* filled by weir_directory_set, never described */
  int subs;
  int32_t *parts;          /* by sub-topology: slots allocated */
  char (**addr)[ADDR_MAX]; /* by sub-topology, by partition: "" = none */
};

const char *weir_directory_addr_of(const char *client_id) {
  const char *at = client_id ? strrchr(client_id, '@') : NULL;
  return at && at[1] ? at + 1 : NULL;
}

static void locks_init(weir_directory_t *d) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* waits measured as weir_now_ms is */
  pthread_cond_init(&d->wake, &ca);
  pthread_cond_init(&d->described, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&d->mu, NULL);
}

static void *describer_main(void *arg);

weir_directory_t *weir_directory_new(const weir_topology_t *t, const char *bootstrap, char *errstr,
                                     size_t errstr_size) {
  char why[512];
  weir_directory_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->topo = t;
  d->subs = t->subtopology_count;
  d->parts = calloc((size_t)d->subs + 1, sizeof *d->parts);
  d->addr = calloc((size_t)d->subs + 1, sizeof *d->addr);
  locks_init(d);
  rd_kafka_conf_t *conf = weir_kafka_conf_new(&t->kafka_settings, bootstrap, WEIR_CLIENT_ADMIN,
                                              "weir-http-directory", errstr, errstr_size);
  d->admin = conf ? rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why) : NULL;
  if (!d->admin && conf) {
    rd_kafka_conf_destroy(conf);
    snprintf(errstr, errstr_size, "http: cannot create the group-describing client: %s", why);
  }
  d->queue = d->admin ? rd_kafka_queue_new(d->admin) : NULL;
  if (!d->parts || !d->addr || !d->queue) {
    weir_directory_free(d);
    return NULL;
  }
  /* Not described before a lookup wants it: at start the group is still
   * forming (its coordinator answers "not coordinator" for a while). */
  if (pthread_create(&d->describer, NULL, describer_main, d) != 0) {
    snprintf(errstr, errstr_size, "http: cannot start the group-describing thread");
    weir_directory_free(d);
    return NULL;
  }
  d->describer_started = 1;
  return d;
}

void weir_directory_free(weir_directory_t *d) {
  if (!d)
    return;
  if (d->describer_started) {
    /* A description under way ends within its timeout (3 s at most). */
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->describer, NULL);
  }
  for (int s = 0; d->addr && s < d->subs; s++)
    free(d->addr[s]);
  free(d->addr);
  free(d->parts);
  if (d->queue && !d->unsupported)
    rd_kafka_queue_destroy(d->queue);
  /* librdkafka 2.0.2's destroy never returns (its main thread deadlocks)
   * after a DescribeConsumerGroups that failed (the embedded broker does
   * not support it), and 2.0.2 has no immediate destroy: that client is left
   * to the process's exit, its one leak. */
  if (d->admin && !d->unsupported)
    rd_kafka_destroy(d->admin);
  pthread_cond_destroy(&d->described);
  pthread_cond_destroy(&d->wake);
  pthread_mutex_destroy(&d->mu);
  free(d);
}

weir_directory_t *weir_directory_new_fixed(const weir_topology_t *t) {
  weir_directory_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->topo = t;
  d->fixed = 1;
  d->subs = t->subtopology_count;
  d->parts = calloc((size_t)d->subs + 1, sizeof *d->parts);
  d->addr = calloc((size_t)d->subs + 1, sizeof *d->addr);
  locks_init(d);
  if (!d->parts || !d->addr) {
    weir_directory_free(d);
    return NULL;
  }
  return d;
}

/* The sub-topology a source topic feeds, or -1. */
static int sub_of(const weir_topology_t *t, const char *topic) {
  for (size_t n = 0; n < t->node_count; n++) {
    const weir_node_t *node = t->nodes[n];
    for (size_t i = 0; node->kind == WEIR_NODE_SOURCE && i < node->topic_count; i++)
      if (strcmp(node->topics[i], topic) == 0)
        return node->subtopology;
  }
  return -1;
}

static void put(weir_directory_t *d, int sub, int32_t p, const char *addr) {
  if (sub < 0 || p < 0)
    return;
  if (p >= d->parts[sub]) {
    int32_t cap = p + 1 > 2 * d->parts[sub] ? p + 1 : 2 * d->parts[sub];
    char(*grown)[ADDR_MAX] = realloc(d->addr[sub], (size_t)cap * sizeof *grown);
    if (!grown)
      return;
    memset(grown + d->parts[sub], 0, (size_t)(cap - d->parts[sub]) * sizeof *grown);
    d->addr[sub] = grown;
    d->parts[sub] = cap;
  }
  snprintf(d->addr[sub][p], ADDR_MAX, "%s", addr);
}

static void fill(weir_directory_t *d, const rd_kafka_ConsumerGroupDescription_t *g) {
  for (int s = 0; s < d->subs; s++)
    if (d->addr[s])
      memset(d->addr[s], 0, (size_t)d->parts[s] * sizeof *d->addr[s]);
  size_t members = rd_kafka_ConsumerGroupDescription_member_count(g);
  for (size_t m = 0; m < members; m++) {
    const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(g, m);
    const char *addr = weir_directory_addr_of(rd_kafka_MemberDescription_client_id(md));
    const rd_kafka_MemberAssignment_t *as = rd_kafka_MemberDescription_assignment(md);
    const rd_kafka_topic_partition_list_t *parts =
        as ? rd_kafka_MemberAssignment_partitions(as) : NULL;
    for (int i = 0; addr && parts && i < parts->cnt; i++)
      put(d, sub_of(d->topo, parts->elems[i].topic), parts->elems[i].partition, addr);
  }
}

void weir_directory_set(weir_directory_t *d, int subtopology, int32_t partition, const char *addr) {
  pthread_mutex_lock(&d->mu);
  if (subtopology < d->subs)
    put(d, subtopology, partition, addr);
  pthread_mutex_unlock(&d->mu);
}

/* [describing thread, d->mu not held] Ask the broker for the group's
 * description: the result event (NULL when none came in time). */
static rd_kafka_event_t *describe(weir_directory_t *d) {
  const char *group = d->topo->settings.application_id;
  char err[256];
  rd_kafka_AdminOptions_t *opts =
      rd_kafka_AdminOptions_new(d->admin, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
  rd_kafka_AdminOptions_set_request_timeout(opts, DESCRIBE_TIMEOUT_MS, err, sizeof err);
  rd_kafka_DescribeConsumerGroups(d->admin, &group, 1, opts, d->queue);
  rd_kafka_AdminOptions_destroy(opts);
  return rd_kafka_queue_poll(d->queue, DESCRIBE_TIMEOUT_MS + 1000);
}

/* [d->mu held] Take the description `ev` into the map (and destroy it). 0,
 * or -1 with why, the map left as it was. */
static int apply(weir_directory_t *d, rd_kafka_event_t *ev, char *why, size_t why_size) {
  const char *group = d->topo->settings.application_id;
  const rd_kafka_DescribeConsumerGroups_result_t *res =
      ev ? rd_kafka_event_DescribeConsumerGroups_result(ev) : NULL;
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t **groups =
      res && !rd_kafka_event_error(ev) ? rd_kafka_DescribeConsumerGroups_result_groups(res, &n)
                                       : NULL;
  const rd_kafka_error_t *gerr = n ? rd_kafka_ConsumerGroupDescription_error(groups[0]) : NULL;
  rd_kafka_resp_err_t code = !ev                        ? RD_KAFKA_RESP_ERR__TIMED_OUT
                             : rd_kafka_event_error(ev) ? rd_kafka_event_error(ev)
                             : gerr                     ? rd_kafka_error_code(gerr)
                                                        : RD_KAFKA_RESP_ERR_NO_ERROR;
  /* librdkafka 2.0.2 frees a coordinator request's state on this error path
   * and reads it again later: the next such failure may abort the process
   * (librdkafka issue 4605). A broker that cannot describe groups (`weir
   * broker`) is therefore not asked again. */
  d->never |= code == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE;
  int rc = -1;
  if (!ev)
    snprintf(why, why_size, "describing group '%s' timed out", group);
  else if (!groups || !n) {
    snprintf(why, why_size, "cannot describe group '%s': %s", group,
             rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev) : "no answer");
  } else if (gerr)
    snprintf(why, why_size, "cannot describe group '%s': %s", group, rd_kafka_error_string(gerr));
  else {
    fill(d, groups[0]);
    rc = 0;
  }
  if (ev)
    rd_kafka_event_destroy(ev);
  d->unsupported |= rc != 0;
  return rc;
}

/* [describing thread, d->mu held] The first failure after a good
 * description (or at start): what forwarded lookups do meanwhile. */
static void log_failure(const weir_directory_t *d, const char *why) {
  if (d->fetched_ms)
    WEIR_WARN("http: %s: forwarding by the description of %lld ms ago (used up to %d s after it) "
              "until the group is described again",
              why, d->tried_ms - d->fetched_ms, STALE_MAX_MS / 1000);
  else
    WEIR_WARN("http: %s: a lookup of a partition another instance runs answers 503 %s", why,
              d->never
                  ? "(this broker cannot describe groups, `weir broker` and `bootstrap.servers "
                    "= embedded` among them: ask the owner there)"
                  : "until the group is described (asked again every few seconds while such "
                    "lookups come)");
}

/* [describing thread, d->mu not held] Whether the cluster is librdkafka's
 * mock (`weir broker`, `bootstrap.servers = embedded`), by the id it
 * gives itself. It cannot describe groups, and asking it risks the abort
 * in apply's comment, so it is never asked. */
static int is_mock_cluster(weir_directory_t *d) {
  char *id = rd_kafka_clusterid(d->admin, DESCRIBE_TIMEOUT_MS);
  int mock = id && strncmp(id, "mockCluster", 11) == 0;
  d->cluster_known = id != NULL; /* written by this thread only */
  if (id)
    rd_kafka_mem_free(d->admin, id);
  return mock;
}

/* [describing thread, d->mu held] The mock's answer: -1, for good. */
static int refuse_mock(weir_directory_t *d, char *why, size_t why_size) {
  d->never = 1;
  snprintf(why, why_size, "librdkafka's mock cluster cannot describe group '%s'",
           d->topo->settings.application_id);
  return -1;
}

/* [describing thread] Describe the group each time a lookup wants it. */
static void *describer_main(void *arg) {
  weir_directory_t *d = arg;
  pthread_setname_np(pthread_self(), "weir-http-dir");
  pthread_mutex_lock(&d->mu);
  while (!d->stopping) {
    if (!d->wanted) {
      pthread_cond_wait(&d->wake, &d->mu);
      continue;
    }
    d->wanted = 0;
    d->describing = 1;
    pthread_mutex_unlock(&d->mu);
    int mock = !d->cluster_known && is_mock_cluster(d);
    rd_kafka_event_t *ev = mock ? NULL : describe(d);
    pthread_mutex_lock(&d->mu);
    char why[256];
    int rc = mock ? refuse_mock(d, why, sizeof why) : apply(d, ev, why, sizeof why);
    d->describing = 0;
    d->tried_ms = weir_now_ms();
    if (rc && !d->failed_ms)
      log_failure(d, why);
    d->fetched_ms = rc == 0 ? d->tried_ms : d->fetched_ms;
    d->failed_ms = rc == 0 ? 0 : d->tried_ms;
    if (rc)
      snprintf(d->failure, sizeof d->failure, "%s", why);
    pthread_cond_broadcast(&d->described);
  }
  pthread_mutex_unlock(&d->mu);
  return NULL;
}

/* [HTTP threads, d->mu held] Whether the map may answer at `now`. */
static int map_usable(const weir_directory_t *d, long long now) {
  return d->fetched_ms && now - d->fetched_ms < STALE_MAX_MS;
}

/* [HTTP threads, d->mu held] Wake the describing thread when the last
 * description is old; when the map cannot answer (none yet, or none for
 * STALE_MAX_MS) and no description failed since, wait for the one under
 * way. 0 when the map may answer, or -1 with why. */
static int map_ready(weir_directory_t *d, char *why, size_t why_size) {
  long long asked = weir_now_ms(), now = asked;
  if (!d->never && !d->describing && !d->wanted &&
      (!d->tried_ms || now - d->tried_ms >= REFRESH_MS)) {
    d->wanted = 1;
    pthread_cond_signal(&d->wake);
  }
  long long until = asked + FIRST_WAIT_MS;
  /* A lookup waits only when no description has failed since the last
   * good one: for the first, or after a long time nobody asked. */
  while (!map_usable(d, now) && !d->failed_ms && (d->wanted || d->describing) &&
         d->tried_ms < asked && now < until) {
    struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                          .tv_nsec = (long)(until % 1000) * 1000000};
    pthread_cond_timedwait(&d->described, &d->mu, &ts);
    now = weir_now_ms();
  }
  if (map_usable(d, now))
    return 0;
  if (d->failed_ms)
    snprintf(why, why_size, "%s", d->failure);
  else
    snprintf(why, why_size, "the group's description did not come within %d ms", FIRST_WAIT_MS);
  return -1;
}

int weir_directory_owner(weir_directory_t *d, int subtopology, int32_t partition, char *addr,
                         size_t addr_size, char *why, size_t why_size) {
  pthread_mutex_lock(&d->mu);
  int rc = d->fixed ? 0 : map_ready(d, why, why_size);
  if (rc == 0) {
    int known = subtopology >= 0 && subtopology < d->subs && partition >= 0 &&
                partition < d->parts[subtopology] && d->addr[subtopology][partition][0];
    if (known)
      snprintf(addr, addr_size, "%s", d->addr[subtopology][partition]);
    else
      snprintf(why, why_size, "no member of the group has partition %d now", (int)partition);
    rc = known ? 0 : -1;
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}
