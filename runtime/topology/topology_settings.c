/* topology_settings — the [weir] section and the [kafka] pass-through. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/addr.h"
#include "topology/topology_internal.h"
#include "util/log.h"
#include "util/secret.h"

static const char *text_of(const weir_params_t *p, const char *name) {
  const weir_param_value_t *v = weir_params_find(p, name);
  return v ? v->text : NULL;
}

static int64_t int_of(const weir_params_t *p, const char *name) {
  const weir_param_value_t *v = weir_params_find(p, name);
  return v ? v->i : 0;
}

static char *dup_of(topo_build_t *b, const weir_params_t *p, const char *name) {
  const char *text = text_of(p, name);
  char *copy = text ? strdup(text) : NULL;
  if (text && !copy)
    topo_error_file(b, "out of memory reading '%s'", name);
  return copy;
}

static int policy_of(const char *text, const char *const *names, int n) {
  for (int i = 0; text && i < n; i++)
    if (strcmp(text, names[i]) == 0)
      return i;
  return 0;
}

static void fill_policies(weir_settings_t *s, const weir_params_t *p) {
  /* Indexes follow the enums' values. */
  static const char *const deser[] = {"skip", "fail", "dead-letter"};
  static const char *const onerr[] = {"fail", "skip", "dead-letter"};
  s->deser_policy = (weir_deser_policy_t)policy_of(text_of(p, "deserialization.policy"), deser, 3);
  s->error_policy = (weir_error_policy_t)policy_of(text_of(p, "processing.error.policy"), onerr, 3);
}

static void fill_settings(topo_build_t *b, const weir_params_t *p) {
  weir_settings_t *s = &b->t->settings;
  s->application_id = dup_of(b, p, "application.id");
  s->bootstrap_servers = dup_of(b, p, "bootstrap.servers");
  s->threads = (int)int_of(p, "threads");
  s->plugin_dir = dup_of(b, p, "plugin.dir");
  s->state_dir = dup_of(b, p, "state.dir");
  const char *g = text_of(p, "processing.guarantee");
  s->guarantee = g && strcmp(g, "exactly_once") == 0 ? WEIR_EXACTLY_ONCE : WEIR_AT_LEAST_ONCE;
  s->commit_interval_ms = int_of(p, "commit.interval.ms");
  /* Kafka Streams' default under exactly-once: outputs become visible to
   * read_committed readers only at a commit. */
  const weir_param_value_t *g_at = weir_params_find(p, "processing.guarantee");
  if (s->guarantee == WEIR_EXACTLY_ONCE && s->bootstrap_servers &&
      strcmp(s->bootstrap_servers, "embedded") == 0)
    topo_error(b, g_at ? g_at->line : 0,
               "processing.guarantee = exactly_once is refused with bootstrap.servers = "
               "embedded: the embedded broker's transactions are not faithful (aborted records "
               "visible, no fencing); use a real Kafka cluster or at_least_once");
  const weir_param_value_t *ci = weir_params_find(p, "commit.interval.ms");
  if (s->guarantee == WEIR_EXACTLY_ONCE && (!ci || ci->line == 0))
    s->commit_interval_ms = 100;
  s->state_memory_mb = (int)int_of(p, "state.memory.mb");
  s->state_wal = (int)int_of(p, "state.wal");
  s->cache_max_bytes = int_of(p, "cache.max.bytes");
  s->http_listen = dup_of(b, p, "http.listen");
  s->http_token = dup_of(b, p, "http.token");
  s->http_advertise = dup_of(b, p, "http.advertise");
  const char *level = text_of(p, "log.level");
  s->log_level = level ? weir_log_level_parse(level) : WEIR_LOG_INFO;
  if (s->log_level < 0)
    s->log_level = WEIR_LOG_INFO;
  const char *format = text_of(p, "log.format");
  s->log_format = format ? weir_log_format_parse(format) : WEIR_LOG_TEXT;
  if (s->log_format < 0)
    s->log_format = WEIR_LOG_TEXT;
  s->embedded_partitions = (int)int_of(p, "embedded.partitions");
  s->buffered_records_per_partition = (int)int_of(p, "buffered.records.per.partition");
  s->max_task_idle_ms = int_of(p, "max.task.idle.ms");
  fill_policies(s, p);
  s->dead_letter_topic = dup_of(b, p, "dead.letter.topic");
  const weir_param_value_t *dl = weir_params_find(p, "dead.letter.topic");
  s->dead_letter_line = dl ? dl->line : 0;
}

static void check_dead_letter(topo_build_t *b, const weir_cfg_section_t *sec) {
  const weir_settings_t *s = &b->t->settings;
  if (s->dead_letter_topic && *s->dead_letter_topic)
    return;
  if (s->deser_policy == WEIR_DESER_DEAD_LETTER || s->error_policy == WEIR_ONERR_DEAD_LETTER)
    topo_error(b, sec->line,
               "[weir] uses a dead-letter policy but sets no dead.letter.topic; "
               "add 'dead.letter.topic = NAME'");
}

/* The first section of `kind`; a second one or a name is an error. */
static const weir_cfg_section_t *single_section(topo_build_t *b, const char *kind) {
  const weir_cfg_section_t *first = NULL;
  for (size_t i = 0; i < b->cfg->section_count; i++) {
    const weir_cfg_section_t *s = &b->cfg->sections[i];
    if (strcmp(s->kind, kind) != 0)
      continue;
    if (s->name)
      topo_error(b, s->line, "[%s:%s]: the [%s] section takes no name; write [%s]", kind, s->name,
                 kind, kind);
    if (first)
      topo_error(b, s->line, "[%s] appears twice (first at line %d); merge the two sections", kind,
                 first->line);
    else
      first = s;
  }
  return first;
}

/* The line a [weir] key was written on (0: a default). */
static int line_of(const weir_params_t *p, const char *name) {
  const weir_param_value_t *v = weir_params_find(p, name);
  return v ? v->line : 0;
}

/* http.listen and http.advertise must be host:port; a server reachable from
 * other machines must ask for a token, or anyone there reads every store. */
static void check_http(topo_build_t *b, const weir_params_t *p) {
  const weir_settings_t *s = &b->t->settings;
  char why[160];
  if (s->http_listen && weir_http_addr_check(s->http_listen, why, sizeof why))
    topo_error(b, line_of(p, "http.listen"), "[weir] http.listen = %s: %s", s->http_listen, why);
  if (s->http_advertise && weir_http_addr_check(s->http_advertise, why, sizeof why))
    topo_error(b, line_of(p, "http.advertise"), "[weir] http.advertise = %s: %s", s->http_advertise,
               why);
  if (s->http_token && !*s->http_token)
    topo_error(b, line_of(p, "http.token"),
               "[weir] http.token is empty; set a secret or remove it");
  if (s->http_listen && !s->http_token && !weir_http_addr_loopback(s->http_listen))
    topo_error(b, line_of(p, "http.listen"),
               "[weir] http.listen = %s is reachable from other machines: set http.token = "
               "SECRET (clients send 'Authorization: Bearer SECRET'), or listen on 127.0.0.1",
               s->http_listen);
}

static void read_weir(topo_build_t *b) {
  const weir_cfg_section_t *sec = single_section(b, "weir");
  if (!sec) {
    topo_error_file(b, "no [weir] section; add one with application.id and bootstrap.servers");
    return;
  }
  size_t n;
  const weir_param_def_t *keys = topo_section_keys("weir", &n);
  weir_params_t p = {0};
  /* Filled even after an error, so plugin.dir still guides plugin loading. */
  if (weir_params_bind(keys, n, b->cfg, sec, NULL, &p, b->d))
    b->errors++;
  fill_settings(b, &p);
  check_dead_letter(b, sec);
  check_http(b, &p);
  weir_params_free(&p);
}

static int one_of(const char *value, const char *const *names) {
  for (; *names; names++)
    if (strcasecmp(value, *names) == 0)
      return 1;
  return 0;
}

/* [kafka] values that break at-least-once, refused rather than passed on:
 * NULL when `key = value` is safe, else why. auto.offset.reset cannot be
 * applied per topic (librdkafka's subscribe takes one default topic conf,
 * and an assignment's start offset would override the committed one), and
 * a repartition topic or a first run's source must start from the
 * earliest offset, so only earliest is taken. */
static const char *breaks_guarantee(const char *key, const char *value) {
  static const char *const all_acks[] = {"all", "-1", NULL};
  static const char *const off[] = {"false", "f", "0", "no", "off", NULL};
  static const char *const earliest[] = {"earliest", "smallest", "beginning", NULL};
  if ((strcmp(key, "acks") == 0 || strcmp(key, "request.required.acks") == 0) &&
      !one_of(value, all_acks))
    return "a record only the partition leader holds is lost when the leader fails, after "
           "its input was committed; remove it (weir sets acks = all)";
  if (strcmp(key, "enable.idempotence") == 0 && one_of(value, off))
    return "a retried produce may reorder or duplicate outputs and changelog records, so a "
           "restore may end on an older value; remove it (weir sets enable.idempotence = true)";
  if (strcmp(key, "auto.offset.reset") == 0 && !one_of(value, earliest))
    return "it would also apply to repartition topics and skip the records written while no "
           "offset was committed (librdkafka cannot set it per topic); remove it (weir sets "
           "auto.offset.reset = earliest)";
  return NULL;
}

static void check_kafka(topo_build_t *b, const weir_cfg_entry_t *e) {
  const char *why = breaks_guarantee(e->key, e->value);
  if (why)
    topo_error(b, e->line, "[kafka] %s = %s is refused: it breaks at-least-once: %s", e->key,
               weir_secret_show(e->key, e->value), why);
}

static void read_kafka(topo_build_t *b) {
  const weir_cfg_section_t *sec = single_section(b, "kafka");
  if (!sec || !sec->entry_count)
    return;
  weir_topology_t *t = b->t;
  t->kafka = calloc(sec->entry_count, sizeof *t->kafka);
  if (!t->kafka) {
    topo_error(b, sec->line, "out of memory reading [kafka]");
    return;
  }
  for (size_t i = 0; i < sec->entry_count; i++) {
    const weir_cfg_entry_t *e = &sec->entries[i];
    weir_kafka_prop_t *k = &t->kafka[t->kafka_count++];
    k->key = strdup(e->key);
    k->value = strdup(e->value);
    k->line = e->line;
    check_kafka(b, e);
    if (!k->key || !k->value)
      topo_error(b, e->line, "out of memory reading [kafka]");
  }
}

void topo_read_settings(topo_build_t *b) {
  read_weir(b);
  read_kafka(b);
  weir_topology_t *t = b->t;
  t->kafka_settings =
      (weir_kafka_settings_t){.path = t->path,
                              .group_id = t->settings.application_id,
                              .props = t->kafka,
                              .prop_count = t->kafka_count,
                              .embedded = t->settings.bootstrap_servers &&
                                          strcmp(t->settings.bootstrap_servers, "embedded") == 0};
}
