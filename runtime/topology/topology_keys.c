/* topology_keys — what each built-in section kind may hold.
 *
 * Declared with the same table type as an operator's parameters, so one
 * binder checks them and one printer documents them.
 */
#include <stdint.h>
#include <string.h>

#include "topology/topology_internal.h"
#include "util/secret.h"

#define SERDES "bytes|string|int64|json"
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const weir_param_def_t weir_keys[] = {
    WEIR_PARAM_STR_REQ("application.id", "names the consumer group, state and internal topics"),
    WEIR_PARAM_STR_REQ("bootstrap.servers", "Kafka brokers host:port,...; 'embedded' = in-process"),
    WEIR_PARAM_INT("threads", "1", 1, 1024, "stream threads in this process"),
    WEIR_PARAM_STR("plugin.dir", NULL, "directory searched first for plugin = NAME (NAME.so)"),
    WEIR_PARAM_STR("state.dir", "./state", "where state stores keep their files"),
    WEIR_PARAM_ENUM("processing.guarantee", "at_least_once", "at_least_once|exactly_once",
                    "at_least_once, or exactly_once (Kafka transactions, EOS v2; a real "
                    "broker only)"),
    WEIR_PARAM_INT("commit.interval.ms", "30000", 1, 2147483647,
                   "how often offsets are committed (unset under exactly_once: 100)"),
    WEIR_PARAM_INT("state.memory.mb", "64", 8, 1048576,
                   "RocksDB block cache plus write buffers, shared by every store of the process"),
    WEIR_PARAM_BOOL("state.wal", "true",
                    "RocksDB's write-ahead log; false skips it, as Kafka Streams does (less "
                    "written to disk), and a restart after a crash then restores from the "
                    "changelogs what RocksDB had not flushed"),
    WEIR_PARAM_INT("cache.max.bytes", "10485760", 0, INT64_MAX,
                   "the stores' write caches, whole process (0: every write goes through)"),
    WEIR_PARAM_STR("http.listen", NULL,
                   "host:port of the query/metrics server (e.g. 127.0.0.1:8080); unset = off"),
    WEIR_PARAM_STR("http.token", NULL,
                   "bearer token every HTTP request must carry; required when http.listen is "
                   "not a loopback address"),
    WEIR_PARAM_STR("http.advertise", NULL,
                   "host:port other instances and clients reach this one at (default: "
                   "http.listen)"),
    WEIR_PARAM_ENUM("log.level", "info", "error|warn|info|debug", "the host's log level"),
    WEIR_PARAM_ENUM("log.format", "text", "text|json",
                    "text lines, or one JSON object per line (time, level, thread, task, node, "
                    "message) for log shippers"),
    WEIR_PARAM_INT("buffered.records.per.partition", "1000", 1, 1000000,
                   "records buffered per input partition before consuming stops (back-pressure)"),
    WEIR_PARAM_INT("max.task.idle.ms", "0", -1, 2147483647,
                   "a task of several input partitions, one of which has nothing buffered: "
                   "-1 goes on without it; 0 waits while the broker has records of it not "
                   "fetched yet (or that is not known yet); N also waits up to N ms for more "
                   "once it is caught up (Kafka Streams' rule, for joins over a backlog)"),
    WEIR_PARAM_INT("embedded.partitions", "6", 1, 10000,
                   "partitions per topic of the embedded broker"),
    WEIR_PARAM_ENUM("deserialization.policy", "skip", "skip|fail|dead-letter",
                    "what to do with a record that fails its serde"),
    WEIR_PARAM_ENUM("processing.error.policy", "fail", "fail|skip|dead-letter",
                    "what to do when an operator returns an error"),
    WEIR_PARAM_STR("dead.letter.topic", NULL,
                   "topic for dead-letter records (needed by a "
                   "dead-letter policy)"),
};

static const weir_param_def_t source_keys[] = {
    WEIR_PARAM_STR("topic", NULL, "the topic to read (or use topics)"),
    WEIR_PARAM_STR("topics", NULL, "several topics to read, comma separated (or use topic)"),
    WEIR_PARAM_ENUM("key.serde", "bytes", SERDES, "format of record keys"),
    WEIR_PARAM_ENUM("value.serde", "bytes", SERDES, "format of record values"),
    WEIR_PARAM_STR("timestamp", "record",
                   "event time: record (the Kafka timestamp), json:PATH (ms or ISO-8601 with "
                   "zone), or extractor:PLUGIN.TYPE"),
};

static const weir_param_def_t operator_keys[] = {
    WEIR_PARAM_STR_REQ("plugin", "plugin name (searched in plugin.dir) or path to a .so"),
    WEIR_PARAM_STR_REQ("type", "operator type within the plugin"),
    WEIR_PARAM_STR_REQ("input", "nodes it reads from, comma separated"),
    WEIR_PARAM_STR("store", NULL,
                   "[store:*] sections it uses, comma separated (a [global:*] table may be "
                   "listed too, but any operator reads one by name)"),
    WEIR_PARAM_STR("group.by", NULL,
                   "re-key before this operator through a repartition topic: "
                   "'value' or 'json:PATH' (a member of the JSON value)"),
};

static const weir_param_def_t sink_keys[] = {
    WEIR_PARAM_STR_REQ("input", "nodes it reads from, comma separated"),
    WEIR_PARAM_STR_REQ("topic", "the topic to write"),
    WEIR_PARAM_ENUM("key.serde", "bytes", SERDES, "format of record keys"),
    WEIR_PARAM_ENUM("value.serde", "bytes", SERDES, "format of record values"),
};

static const weir_param_def_t store_keys[] = {
    WEIR_PARAM_(("type"), WEIR_PARAM_ENUM, WEIR_PARAM_REQUIRED, NULL, 1, 0, "kv|window|session",
                "store kind: kv, window (one value per key and window start) or session"),
    WEIR_PARAM_BOOL("changelog", "true", "back the store with a compacted changelog topic"),
    WEIR_PARAM_ENUM("backend", "rocksdb", "rocksdb|memory",
                    "where its rows live: rocksdb (under state.dir, restored from its checkpoint) "
                    "or memory (the task's memory, not bounded by cache.max.bytes, rebuilt from "
                    "the whole changelog each time the task opens, as Kafka Streams' in-memory "
                    "stores; HTTP queries cannot read it)"),
    WEIR_PARAM_INT("window.size.ms", NULL, 1, 1e15,
                   "type = window: the size of the windows it holds (a window's end is its "
                   "start plus this); required there"),
    WEIR_PARAM_INT("retention.ms", "86400000", 1, 1e15,
                   "type = window/session: how long after its end a window or session is kept "
                   "(stream time); older ones are dropped a segment at a time"),
    WEIR_PARAM_ENUM("key.serde", "bytes", SERDES,
                    "format of its keys (queries parse and print them)"),
    WEIR_PARAM_ENUM("value.serde", "bytes", SERDES, "format of its values (queries print them)"),
};

/* Kafka Streams' globalTable(topic, Consumed.with(keySerde, valueSerde)):
 * the store is named by the section, read from the earliest offset always
 * (a global table is its whole topic), no timestamp extractor (a lookup
 * table has no stream time). */
static const weir_param_def_t global_keys[] = {
    WEIR_PARAM_STR_REQ("topic", "the topic every instance reads whole (all partitions, outside "
                                "the consumer group) into this read-only table"),
    WEIR_PARAM_ENUM("key.serde", "bytes", SERDES,
                    "format of its keys (queries parse and print them)"),
    WEIR_PARAM_ENUM("value.serde", "bytes", SERDES, "format of its values (queries print them)"),
};

/* Values a table above declares (so the INI shape and `describe --params`
 * are the final ones) but weir does not implement yet. Each is refused at
 * validate with its file:line, never run as something else. */
static const struct {
  const char *kind, *key, *value, *why;
} not_built[] = {
    {NULL, NULL, NULL, NULL}, /* none today */
};

const char *topo_not_built(const char *kind, const char *key, const char *value) {
  for (size_t i = 0; not_built[i].kind; i++)
    if (strcmp(not_built[i].kind, kind) == 0 && strcmp(not_built[i].key, key) == 0 &&
        strcmp(not_built[i].value, value) == 0)
      return not_built[i].why;
  return NULL;
}

void topo_refuse_not_built(topo_build_t *b) {
  for (size_t i = 0; i < b->cfg->section_count; i++) {
    const weir_cfg_section_t *s = &b->cfg->sections[i];
    for (size_t k = 0; k < s->entry_count; k++) {
      const weir_cfg_entry_t *e = &s->entries[k];
      const char *why = topo_not_built(s->kind, e->key, e->value);
      if (why)
        topo_error(b, e->line, "[%s] %s = %s is refused: %s", s->kind, e->key,
                   weir_secret_show(e->key, e->value), why);
    }
  }
}

const weir_param_def_t *topo_section_keys(const char *kind, size_t *count) {
  static const struct {
    const char *kind;
    const weir_param_def_t *keys;
    size_t count;
  } kinds[] = {{"weir", weir_keys, N(weir_keys)},
               {"source", source_keys, N(source_keys)},
               {"operator", operator_keys, N(operator_keys)},
               {"sink", sink_keys, N(sink_keys)},
               {"store", store_keys, N(store_keys)},
               {"global", global_keys, N(global_keys)}};
  for (size_t i = 0; i < N(kinds); i++) {
    if (strcmp(kinds[i].kind, kind) == 0) {
      *count = kinds[i].count;
      return kinds[i].keys;
    }
  }
  *count = 0;
  return NULL;
}
