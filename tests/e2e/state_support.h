/* Support for the end-to-end tests of durable state (test_state_*.c): a word
 * count topology, input lines with known word counts, the latest int64 count
 * per word as a reader of the output or of the changelog keeps it, and what
 * the `weir run` logs say about restores and task ownership. Include after
 * cmocka.h. */
#ifndef WEIR_TESTS_STATE_SUPPORT_H
#define WEIR_TESTS_STATE_SUPPORT_H

#include <stdint.h>

#include "e2e.h"

#define SS_WORDS 50
#define SS_MAX_PARTS 16
#define SS_COMMIT_MS 300
#define SS_CHUNK 60 /* lines between pauses of a paced phase */
#define SS_STORE "word-counts"

/* Distinctive words, none a prefix of another, 50 in all. */
static const char *const ss_words[SS_WORDS] = {
    "alder",   "basalt",  "cinder", "dunlin",  "egret",  "fennel", "garnet", "heron",  "ibex",
    "jasper",  "kestrel", "lichen", "marten",  "nettle", "osprey", "pumice", "quince", "rowan",
    "sorrel",  "tansy",   "umber",  "vetch",   "wren",   "xylem",  "yarrow", "zircon", "agate",
    "bittern", "copse",   "dipper", "eider",   "flint",  "gorse",  "hazel",  "iris",   "juniper",
    "knot",    "linnet",  "merlin", "newt",    "ochre",  "plover", "quartz", "rook",   "shale",
    "teal",    "urchin",  "vole",   "wagtail", "yew"};

/* How often word w occurs in phase p (1..40): every word in every phase,
 * each phase with other multiplicities. */
__attribute__((unused)) static int ss_multiplicity(int w, int phase) {
  return 1 + (w * 7 + phase * 13) % 40;
}

/* want[w] = occurrences of word w over phases first..last. */
__attribute__((unused)) static void ss_expect(int first, int last, int64_t *want) {
  for (int w = 0; w < SS_WORDS; w++) {
    want[w] = 0;
    for (int p = first; p <= last; p++)
      want[w] += ss_multiplicity(w, p);
  }
}

/* ------------------------------------------------------------- the input */

__attribute__((unused)) static void ss_send(rd_kafka_t *p, const char *topic, int32_t partition,
                                            const char *key, const char *value) {
  while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_KEY(key, strlen(key)),
                           RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    rd_kafka_poll(p, 10);
  rd_kafka_poll(p, 0);
}

/* Phase `phase`'s word occurrences, shuffled (a fixed LCG per phase) and cut
 * into lines of 1 to 6 words. Line n goes to partition n % partitions under
 * the key "line-<phase>-<n>", unrelated to its words: each word's
 * occurrences meet only through the repartition topic. With pace_ms > 0,
 * every SS_CHUNK lines are flushed and followed by a pause of pace_ms, so a
 * running count commits (and writes its changelog) several times per
 * phase. Flushed; returns the number of lines. */
__attribute__((unused)) static int ss_produce_phase(rd_kafka_t *p, const char *topic,
                                                    int partitions, int phase, int pace_ms) {
  static int occ[SS_WORDS * 40];
  int n = 0, lines = 0;
  for (int w = 0; w < SS_WORDS; w++)
    for (int k = 0; k < ss_multiplicity(w, phase); k++)
      occ[n++] = w;
  uint32_t seed = 2654435761u * (uint32_t)(phase + 1);
  for (int i = n - 1; i > 0; i--) {
    seed = seed * 1664525u + 1013904223u;
    int j = (int)((seed >> 8) % (uint32_t)(i + 1)), t = occ[i];
    occ[i] = occ[j];
    occ[j] = t;
  }
  for (int i = 0; i < n; lines++) {
    char line[512] = "", key[32];
    size_t used = 0;
    for (int k = 0; k < 1 + lines % 6 && i < n; k++, i++)
      used +=
          (size_t)snprintf(line + used, sizeof line - used, "%s%s", k ? " " : "", ss_words[occ[i]]);
    snprintf(key, sizeof key, "line-%d-%d", phase, lines);
    ss_send(p, topic, lines % partitions, key, line);
    if (pace_ms > 0 && (lines + 1) % SS_CHUNK == 0) {
      rd_kafka_flush(p, 10000);
      usleep((useconds_t)pace_ms * 1000);
    }
  }
  rd_kafka_flush(p, 10000);
  return lines;
}

/* ------------------------------------------------------ the latest counts */

typedef struct ss_counts {
  int64_t count[SS_WORDS]; /* latest value per word; -1: never seen */
  long long records;       /* records read */
  long long unknown;       /* records whose key is no word, or value no int64 */
} ss_counts_t;

__attribute__((unused)) static int ss_word_index(const void *key, size_t len) {
  for (int w = 0; w < SS_WORDS; w++)
    if (key && strlen(ss_words[w]) == len && memcmp(ss_words[w], key, len) == 0)
      return w;
  return -1;
}

__attribute__((unused)) static void ss_apply(ss_counts_t *c, const rd_kafka_message_t *m) {
  int w = ss_word_index(m->key, m->key_len);
  c->records++;
  if (w < 0 || m->len != 8) {
    c->unknown++;
    return;
  }
  uint64_t x = 0;
  for (int i = 0; i < 8; i++)
    x = x << 8 | ((const unsigned char *)m->payload)[i];
  c->count[w] = (int64_t)x;
}

/* Read `topic` from its start to the end offsets seen first and keep the
 * latest int64 value per key. 0 once every partition was read to its end:
 * the consumer's position, not the last record's offset, since under
 * exactly_once a partition ends with a transaction marker, no record. */
__attribute__((unused)) static int ss_read_latest(const e2e_broker_t *b, const char *topic,
                                                  int partitions, ss_counts_t *c) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_CONSUMER, NULL);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
  int64_t hi[SS_MAX_PARTS];
  int ok = 1, left = 0;
  memset(c, 0, sizeof *c);
  for (int w = 0; w < SS_WORDS; w++)
    c->count[w] = -1;
  for (int p = 0; p < partitions && p < SS_MAX_PARTS; p++) {
    int64_t lo = 0;
    ok &= rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p], 5000) == 0;
    left += lo < hi[p];
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = lo;
  }
  rd_kafka_assign(rk, parts);
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  while (ok && left > 0 && e2e_now_ms() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (m && !m->err && m->partition < SS_MAX_PARTS && m->offset < hi[m->partition])
      ss_apply(c, m);
    if (m)
      rd_kafka_message_destroy(m);
    ok &= rd_kafka_position(rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR;
    left = 0;
    for (int p = 0; p < parts->cnt; p++)
      left += parts->elems[p].offset < hi[p];
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return ok && left == 0 ? 0 : -1;
}

/* 0 when the counts are exactly `want`: every word, nothing else. */
__attribute__((unused)) static int ss_counts_differ(const ss_counts_t *c, const int64_t *want) {
  int bad = c->unknown > 0;
  for (int w = 0; w < SS_WORDS; w++)
    bad += c->count[w] != want[w];
  return bad;
}

/* Some count is past its target: counts only grow, so that is final. */
__attribute__((unused)) static int ss_counts_over(const ss_counts_t *c, const int64_t *want) {
  for (int w = 0; w < SS_WORDS; w++)
    if (c->count[w] > want[w])
      return 1;
  return c->unknown > 0;
}

__attribute__((unused)) static void ss_print_diff(const char *what, const ss_counts_t *c,
                                                  const int64_t *want) {
  fprintf(stderr, "e2e: %s: %lld records, %lld with an unknown key or value\n", what, c->records,
          c->unknown);
  for (int w = 0; w < SS_WORDS; w++)
    if (c->count[w] != want[w])
      fprintf(stderr, "e2e:   %-8s %lld, expected %lld\n", ss_words[w], (long long)c->count[w],
              (long long)want[w]);
}

/* Read `topic` until its latest counts are exactly `want`, one is past its
 * target, or timeout_ms passed. 0 when exact; *c holds the last read. A
 * read that did not reach the topic's end (its offsets not fetched in time:
 * seen once under a load of 27 on 2 cores) is no answer: it is tried again
 * for up to E2E_WAIT_MS even when timeout_ms is 0 ("must be final now"). */
__attribute__((unused)) static int ss_wait_counts(const e2e_broker_t *b, const char *topic,
                                                  int partitions, const int64_t *want,
                                                  int timeout_ms, ss_counts_t *c) {
  long long deadline = e2e_now_ms() + timeout_ms;
  long long read_deadline = e2e_now_ms() + (timeout_ms > E2E_WAIT_MS ? timeout_ms : E2E_WAIT_MS);
  for (;;) {
    int read = ss_read_latest(b, topic, partitions, c);
    if (read == 0 && !ss_counts_differ(c, want))
      return 0;
    if (ss_counts_over(c, want))
      return -1;
    if (e2e_now_ms() >= (read == 0 ? deadline : read_deadline)) {
      if (read != 0)
        fprintf(stderr, "e2e: %s: could not read to its end\n", topic);
      return -1;
    }
    usleep(200000); /* a poll of the topic, bounded by the deadlines above */
  }
}

/* Assert that `topic`'s latest counts become exactly `want` in timeout_ms. */
__attribute__((unused)) static void ss_expect_counts(const e2e_broker_t *b, const char *topic,
                                                     int partitions, const int64_t *want,
                                                     int timeout_ms, const char *what) {
  ss_counts_t c;
  if (ss_wait_counts(b, topic, partitions, want, timeout_ms, &c)) {
    ss_print_diff(what, &c, want);
    fail_msg("%s: the counts are not exact", what);
  }
}

/* Wait until the group committed all `lines` input lines and the whole
 * repartition topic: nothing read so far would be processed again. */
__attribute__((unused)) static int ss_wait_committed(const e2e_broker_t *b, const char *group,
                                                     const char *in, long long lines,
                                                     const char *repartition, int partitions,
                                                     int timeout_ms) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_PRODUCER, NULL);
  long long deadline = e2e_now_ms() + timeout_ms, in_done = 0, rep_done = 0, rep_end = -1;
  do {
    in_done = e2e_committed(b, group, in, partitions);
    rep_end = e2e_end_offsets(rk, repartition, partitions);
    rep_done = e2e_committed(b, group, repartition, partitions);
    if (in_done == lines && rep_done == rep_end)
      break;
    usleep(200000);
  } while (e2e_now_ms() < deadline);
  rd_kafka_destroy(rk);
  if (in_done != lines || rep_done != rep_end)
    fprintf(stderr, "e2e: committed %lld of %lld lines, %lld of %lld repartition records\n",
            in_done, lines, rep_done, rep_end);
  return in_done == lines && rep_done == rep_end ? 0 : -1;
}

/* ------------------------------------------------------------ topology */

/* The word count, as config/wordcount.ini, with the std split. */
__attribute__((unused)) static int ss_write_ini(const char *path, const char *app_id,
                                                const char *in, const char *out,
                                                const char *state_dir) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f,
          "[weir]\napplication.id = %s\nbootstrap.servers = embedded\n"
          "commit.interval.ms = %d\nstate.dir = %s\n"
          /* for \"stores checkpointed\" (ss_wait_checkpointed) */
          "log.level = debug\n"
          "[source:lines]\ntopic = %s\nvalue.serde = string\n"
          "[operator:words]\nplugin = std\ntype = split\ninput = lines\n"
          "[operator:count]\nplugin = std\ntype = count\ninput = words\ngroup.by = value\n"
          "store = " SS_STORE "\n[store:" SS_STORE "]\ntype = kv\n"
          "[sink:counts]\ninput = count\ntopic = %s\nkey.serde = string\nvalue.serde = int64\n"
          /* A killed member must leave the group soon (the mock needs > 3000). */
          "[kafka]\nsession.timeout.ms = 6000\n",
          app_id, SS_COMMIT_MS, state_dir, in, out);
  return fclose(f);
}

/* The topics to start the broker with: on the real broker only the input
 * and output (weir creates its internal topics, as in production); on
 * `weir broker`, which has no Admin API, the internal ones too. */
__attribute__((unused)) static void ss_topics(const char **topics, const char *in, const char *out,
                                              const char *repartition, const char *changelog) {
  const char *real = getenv("WEIR_TEST_KAFKA_BOOTSTRAP");
  int n = 0;
  topics[n++] = in;
  topics[n++] = out;
  if (!real || !*real) {
    topics[n++] = repartition;
    topics[n++] = changelog;
  }
  topics[n] = NULL;
}

/* ---------------------------------------------------------- checkpoints */

/* Wait until the run's stores are checkpointed past everything committed so
 * far: call once ss_wait_committed saw the commit. The commit that covers
 * the input applies the RocksDB batch and logs "thread N: stores
 * checkpointed" after sending its offsets (runtime/thread/commit.c), so a
 * line logged after that commit was seen comes from it or a later commit,
 * and either wrote the checkpoints of all that was committed. One stream
 * thread (ss_write_ini). 0 when the line came. */
__attribute__((unused)) static int ss_wait_checkpointed(const char *log, int timeout_ms) {
  int before = e2e_log_count(log, ": stores checkpointed");
  return e2e_wait_log(log, ": stores checkpointed", before + 1, timeout_ms);
}

/* ------------------------------------------------------------ the logs */

typedef struct ss_restore {
  int lines;         /* "N records from offset A to B" lines */
  long long records; /* their N summed */
  int no_checkpoint; /* "has no checkpoint" lines */
  int ready;         /* "restore: task ... ready" lines */
  /* Each partition's first restore line (first[p] = 0: none). */
  int first[SS_MAX_PARTS], no_cp[SS_MAX_PARTS];
  int ready_p[SS_MAX_PARTS]; /* "restore: task S_P ready" lines, by P */
  long long n[SS_MAX_PARTS], from[SS_MAX_PARTS], to[SS_MAX_PARTS];
} ss_restore_t;

__attribute__((unused)) static void ss_restore_line(ss_restore_t *r, const char *s) {
  char store[64];
  int p;
  long long n, from, to, ms;
  if (sscanf(s,
             "restore: store '%63[^']' partition %d: %lld records from offset %lld to %lld "
             "in %lld ms",
             store, &p, &n, &from, &to, &ms) == 6 &&
      strcmp(store, SS_STORE) == 0) {
    r->lines++;
    r->records += n;
    if (p >= 0 && p < SS_MAX_PARTS && !r->first[p]) {
      r->first[p] = 1;
      r->n[p] = n;
      r->from[p] = from;
      r->to[p] = to;
    }
  } else if (sscanf(s, "restore: store '%63[^']' partition %d has no checkpoint", store, &p) == 2 &&
             strcmp(store, SS_STORE) == 0) {
    r->no_checkpoint++;
    if (p >= 0 && p < SS_MAX_PARTS)
      r->no_cp[p]++;
  } else if (strncmp(s, "restore: task ", 14) == 0 && strstr(s, " ready")) {
    r->ready++;
    if (sscanf(s, "restore: task %*d_%d ready", &p) == 1 && p >= 0 && p < SS_MAX_PARTS)
      r->ready_p[p]++;
  }
}

/* The restore lines of a log from byte `offset` on (complete lines only). */
__attribute__((unused)) static void ss_parse_restores(const char *log, long offset,
                                                      ss_restore_t *r) {
  FILE *f = fopen(log, "r");
  char line[4096];
  memset(r, 0, sizeof *r);
  if (f && offset > 0)
    fseek(f, offset, SEEK_SET);
  while (f && fgets(line, sizeof line, f) && strchr(line, '\n')) {
    const char *s = strstr(line, "restore: ");
    if (s)
      ss_restore_line(r, s);
  }
  if (f)
    fclose(f);
}

__attribute__((unused)) static long ss_file_size(const char *path) {
  struct stat st;
  return stat(path, &st) ? 0 : (long)st.st_size;
}

/* Who owns what according to one process's log (one stream thread). */
typedef struct ss_owned {
  char task[2 * SS_MAX_PARTS][16];
  int n;
  int gains; /* gained lines with at least one task */
} ss_owned_t;

__attribute__((unused)) static void ss_own(ss_owned_t *o, const char *list, int gained) {
  const char *p = strchr(list, '[');
  while (p && *p && *p != ']') {
    char task[16];
    p++;
    p += strspn(p, " ");
    size_t len = strcspn(p, ",]");
    snprintf(task, sizeof task, "%.*s", (int)(len < sizeof task ? len : sizeof task - 1), p);
    p += len;
    int k = 0;
    while (k < o->n && strcmp(o->task[k], task) != 0)
      k++;
    if (gained && k == o->n && task[0] && o->n < 2 * SS_MAX_PARTS)
      snprintf(o->task[o->n++], sizeof o->task[0], "%s", task);
    else if (!gained && k < o->n)
      memcpy(o->task[k], o->task[--o->n], sizeof o->task[0]);
  }
}

/* Replay a log's rebalance lines from byte `offset` on. */
__attribute__((unused)) static void ss_parse_owned(const char *log, long offset, ss_owned_t *o) {
  FILE *f = fopen(log, "r");
  char line[4096];
  memset(o, 0, sizeof *o);
  if (f && offset > 0)
    fseek(f, offset, SEEK_SET);
  while (f && fgets(line, sizeof line, f) && strchr(line, '\n')) {
    const char *s = strstr(line, ": rebalance: ");
    if (s && strncmp(s, ": rebalance: gained tasks [", 27) == 0) {
      o->gains += s[27] != ']';
      ss_own(o, s, 1);
    } else if (s && (strncmp(s, ": rebalance: revoked tasks [", 28) == 0 ||
                     strncmp(s, ": rebalance: lost tasks [", 25) == 0)) {
      ss_own(o, s, 0);
    } else if (strstr(line, ": stopping: closed tasks [")) {
      o->n = 0;
    }
  }
  if (f)
    fclose(f);
}

__attribute__((unused)) static int ss_owns(const ss_owned_t *o, const char *task) {
  for (int k = 0; k < o->n; k++)
    if (strcmp(o->task[k], task) == 0)
      return 1;
  return 0;
}

/* Wait until the log (from byte `offset` on) shows `gains` gained lines with
 * tasks. 0 when it does. */
__attribute__((unused)) static int ss_wait_gained(const char *log, long offset, int gains,
                                                  int timeout_ms) {
  ss_owned_t o;
  long long deadline = e2e_now_ms() + timeout_ms;
  for (;;) {
    ss_parse_owned(log, offset, &o);
    if (o.gains >= gains)
      return 0;
    if (e2e_now_ms() >= deadline)
      return -1;
    usleep(100000);
  }
}

/* Assert that the log's process comes to own `tasks` tasks in timeout_ms:
 * on a first start, every partition of the input and of the repartition
 * topic weir has just created. */
__attribute__((unused)) static void ss_expect_all_tasks(const char *log, int tasks,
                                                        int timeout_ms) {
  ss_owned_t o;
  long long deadline = e2e_now_ms() + timeout_ms;
  do {
    ss_parse_owned(log, 0, &o);
    if (o.n == tasks)
      return;
    usleep(100000);
  } while (e2e_now_ms() < deadline);
  fail_msg("%s: owns %d of the %d tasks after %d ms (a topic missing from the first "
           "assignment: an internal topic created just before the subscription not yet in "
           "the consumer's metadata?)",
           log, o.n, tasks, timeout_ms);
}

/* ------------------------------------------------------ internal topics */

/* 1 when the metadata lists every one of `topics` with `partitions` led
 * partitions. */
__attribute__((unused)) static int ss_topics_ready(const rd_kafka_metadata_t *md,
                                                   const char *const *topics, int partitions) {
  for (int i = 0; topics[i]; i++) {
    int ready = 0;
    for (int k = 0; k < md->topic_cnt; k++) {
      const rd_kafka_metadata_topic_t *t = &md->topics[k];
      if (strcmp(t->topic, topics[i]) != 0 || t->err || t->partition_cnt != partitions)
        continue;
      ready = 1;
      for (int p = 0; p < t->partition_cnt; p++)
        ready &= !t->partitions[p].err && t->partitions[p].leader >= 0;
    }
    if (!ready)
      return 0;
  }
  return 1;
}

/* Wait until the broker's metadata shows the topics e2e_broker_start just
 * created through the Admin API: Kafka answers CreateTopics before every
 * metadata answer knows them, and a weir started at once would find its
 * input missing. 0 when they are there. */
__attribute__((unused)) static int ss_wait_topics(const e2e_broker_t *b, const char *const *topics,
                                                  int partitions, int timeout_ms) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_PRODUCER, NULL);
  long long deadline = e2e_now_ms() + timeout_ms;
  int ready = 0;
  while (!ready) {
    const rd_kafka_metadata_t *md = NULL;
    /* all topics: naming them could have a broker auto-create them */
    ready =
        rd_kafka_metadata(rk, 1, NULL, &md, 5000) == 0 && ss_topics_ready(md, topics, partitions);
    if (md)
      rd_kafka_metadata_destroy(md);
    if (ready || e2e_now_ms() >= deadline)
      break;
    usleep(100000);
  }
  rd_kafka_destroy(rk);
  return ready ? 0 : -1;
}

/* The topic's `name` config through DescribeConfigs (the real broker only). */
__attribute__((unused)) static int ss_topic_config(const e2e_broker_t *b, const char *topic,
                                                   const char *name, char *value, size_t size) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_PRODUCER, NULL);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
  int rc = -1;
  value[0] = '\0';
  rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
  const rd_kafka_DescribeConfigs_result_t *result =
      ev ? rd_kafka_event_DescribeConfigs_result(ev) : NULL;
  size_t nres = 0, nconf = 0;
  const rd_kafka_ConfigResource_t **got =
      result ? rd_kafka_DescribeConfigs_result_resources(result, &nres) : NULL;
  const rd_kafka_ConfigEntry_t **entries = nres == 1 && !rd_kafka_ConfigResource_error(got[0])
                                               ? rd_kafka_ConfigResource_configs(got[0], &nconf)
                                               : NULL;
  for (size_t i = 0; i < nconf; i++)
    if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), name) == 0 &&
        rd_kafka_ConfigEntry_value(entries[i])) {
      snprintf(value, size, "%s", rd_kafka_ConfigEntry_value(entries[i]));
      rc = 0;
    }
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_ConfigResource_destroy(res);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}

/* The changelog topic exists with the tasks' partition count; on the real
 * broker weir created it through the Admin API, compacted. */
__attribute__((unused)) static void
ss_check_changelog_topic(const e2e_broker_t *b, const char *changelog, int partitions) {
  char policy[64];
  assert_int_equal(e2e_topic_partitions(b, changelog), partitions);
  if (!b->real)
    return;
  assert_int_equal(ss_topic_config(b, changelog, "cleanup.policy", policy, sizeof policy), 0);
  assert_string_equal(policy, "compact");
}

#endif
