/* Topology building: a valid graph in full, then every validation error
 * with its exact file:line. Operators come from tests/fixtures/topo_ops.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "topology/topology.h"

/* Lines 1-4 of every test INI. */
#define HEAD                                                                                       \
  "[weir]\n"                                                                                       \
  "application.id = app\n"                                                                         \
  "bootstrap.servers = embedded\n"                                                                 \
  "plugin.dir = " WEIR_TEST_FIXTURE_DIR "\n"

static void assert_contains(const char *text, const char *needle) {
  if (!strstr(text, needle))
    fail_msg("expected \"%s\" in:\n%s", needle, text);
}

static int has_diag(const weir_diag_t *d, const char *needle) {
  for (size_t i = 0; i < d->count; i++)
    if (strstr(d->lines[i], needle))
      return 1;
  return 0;
}

static void assert_diag(const weir_diag_t *d, const char *needle) {
  if (has_diag(d, needle))
    return;
  fprintf(stderr, "diagnostics:\n");
  weir_diag_print(d, stderr);
  fail_msg("expected a diagnostic containing \"%s\"", needle);
}

static weir_topology_t *build(const char *text, weir_diag_t *d) {
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", text, d);
  assert_non_null(cfg);
  assert_int_equal(d->count, 0); /* the INI itself is well formed */
  weir_topology_t *t = weir_topology_build(cfg, NULL, d);
  weir_cfg_free(cfg);
  return t;
}

/* Builds `text`, expects failure with (at least) each of the NULL-ended
 * messages, and `count` diagnostics in all when count >= 0. */
static void expect_errors(const char *text, int count, ...) {
  weir_diag_t d = {0};
  weir_topology_t *t = build(text, &d);
  if (t) {
    weir_topology_free(t);
    fail_msg("expected the topology to be rejected");
  }
  va_list ap;
  va_start(ap, count);
  for (const char *m = va_arg(ap, const char *); m; m = va_arg(ap, const char *))
    assert_diag(&d, m);
  va_end(ap);
  if (count >= 0 && d.count != (size_t)count) {
    weir_diag_print(&d, stderr);
    fail_msg("expected %d diagnostics, got %zu", count, d.count);
  }
  weir_diag_free(&d);
}

/* ---------------------------------------------------------------- valid */

static const char *const valid = HEAD "[kafka]\n"                /* 5 */
                                      "compression.type = lz4\n" /* 6 */
                                      "linger.ms = 5\n"          /* 7 */
                                      "[source:lines]\n"         /* 8 */
                                      "topics = a, b\n"          /* 9 */
                                      "value.serde = string\n"   /* 10 */
                                      "[sink:out]\n"             /* 11 */
                                      "input = count\n"          /* 12 */
                                      "topic = out-topic\n"      /* 13 */
                                      "value.serde = int64\n"    /* 14 */
                                      "[operator:count]\n"       /* 15 */
                                      "plugin = topo_ops\n"      /* 16 */
                                      "type = pass\n"            /* 17 */
                                      "input = words, lines\n"   /* 18 */
                                      "store = counts\n"         /* 19 */
                                      "[operator:words]\n"       /* 20 */
                                      "plugin = topo_ops\n"      /* 21 */
                                      "type = typed\n"           /* 22 */
                                      "input = lines\n"          /* 23 */
                                      "field = text\n"           /* 24 */
                                      "tag = x\n"                /* 25 */
                                      "tag = y\n"                /* 26 */
                                      "[store:counts]\n"         /* 27 */
                                      "type = kv\n"              /* 28 */
                                      "changelog = off\n"        /* 29 */
                                      "[sink:echo]\n"            /* 30 */
                                      "input = words\n"          /* 31 */
                                      "topic = a\n";             /* 32 */

static void assert_names(weir_node_t *const *nodes, size_t count, const char *expected) {
  char got[256] = "";
  for (size_t i = 0; i < count; i++)
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "", nodes[i]->name);
  assert_string_equal(got, expected);
}

static void test_valid_settings(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = build(valid, &d);
  if (!t)
    weir_diag_print(&d, stderr);
  assert_non_null(t);
  const weir_settings_t *s = &t->settings;
  assert_string_equal(s->application_id, "app");
  assert_string_equal(s->bootstrap_servers, "embedded");
  assert_int_equal(s->threads, 1);
  assert_string_equal(s->state_dir, "./state");
  assert_int_equal(s->guarantee, WEIR_AT_LEAST_ONCE);
  assert_int_equal(s->commit_interval_ms, 30000);
  assert_null(s->http_listen);
  assert_int_equal(s->log_level, WEIR_LOG_INFO);
  assert_int_equal(s->embedded_partitions, 6);
  assert_int_equal(s->deser_policy, WEIR_DESER_SKIP);
  assert_int_equal(s->error_policy, WEIR_ONERR_FAIL);
  assert_null(s->dead_letter_topic);
  assert_int_equal(t->kafka_count, 2);
  assert_string_equal(t->kafka[1].key, "linger.ms");
  assert_string_equal(t->kafka[1].value, "5");
  assert_int_equal(t->kafka[1].line, 7);
  /* What kafka/ reads: the same [kafka] entries, the file and the group. */
  assert_ptr_equal(t->kafka_settings.props, t->kafka);
  assert_int_equal(t->kafka_settings.prop_count, 2);
  assert_string_equal(t->kafka_settings.path, "t.ini");
  assert_string_equal(t->kafka_settings.group_id, "app");
  assert_int_equal(t->store_count, 1);
  assert_string_equal(t->stores[0].name, "counts");
  assert_string_equal(t->stores[0].type, "kv");
  assert_int_equal(t->stores[0].changelog, 0);
  assert_int_equal(t->stores[0].line, 27);
  assert_int_equal(t->plugin_count, 1); /* two operators, one plugin */
  weir_topology_free(t);
  weir_diag_free(&d);
}

static void test_valid_graph(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = build(valid, &d);
  assert_non_null(t);
  assert_names(t->nodes, t->node_count, "lines,words,count,out,echo");
  for (size_t i = 0; i < t->node_count; i++)
    assert_int_equal(t->nodes[i]->index, (int)i);
  weir_node_t *lines = weir_topology_find(t, "lines");
  weir_node_t *words = weir_topology_find(t, "words");
  weir_node_t *count = weir_topology_find(t, "count");
  weir_node_t *out = weir_topology_find(t, "out");
  assert_null(weir_topology_find(t, "counts"));
  assert_int_equal(lines->kind, WEIR_NODE_SOURCE);
  assert_int_equal(lines->line, 8);
  assert_int_equal(lines->topic_count, 2);
  assert_string_equal(lines->topics[1], "b");
  assert_int_equal(lines->key_serde, WEIR_SERDE_BYTES);
  assert_int_equal(lines->value_serde, WEIR_SERDE_STRING);
  assert_names(lines->children, lines->child_count, "count,words"); /* file order */
  assert_names(count->inputs, count->input_count, "words,lines");
  assert_names(words->children, words->child_count, "count,echo");
  assert_ptr_equal(count->plugin, words->plugin);
  assert_string_equal(count->op->def.type, "pass");
  assert_int_equal(count->store_count, 1);
  assert_string_equal(count->stores[0], "counts");
  assert_string_equal(weir_params_find(&words->params, "field")->text, "text");
  assert_string_equal(weir_params_find(&words->params, "tag")->text, "x\ny");
  assert_int_equal(weir_params_find(&words->params, "limit")->i, 10);
  assert_int_equal(out->kind, WEIR_NODE_SINK);
  assert_string_equal(out->topic, "out-topic");
  assert_int_equal(out->value_serde, WEIR_SERDE_INT64);
  assert_int_equal(out->child_count, 0);
  weir_topology_free(t);
  weir_diag_free(&d);
}

static void test_topics(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = build(valid, &d);
  size_t n;
  const char **src = weir_topology_source_topics(t, &n);
  assert_int_equal(n, 2);
  assert_string_equal(src[0], "a");
  assert_string_equal(src[1], "b");
  assert_null(src[2]);
  free(src);
  const char **snk = weir_topology_sink_topics(t, &n);
  assert_int_equal(n, 2);
  assert_string_equal(snk[0], "out-topic");
  assert_string_equal(snk[1], "a");
  assert_null(snk[2]);
  free(snk);
  weir_topology_free(t);
  weir_diag_free(&d);
}

static char *print_to_string(void (*print)(const weir_topology_t *, FILE *),
                             const weir_topology_t *t) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  print(t, f);
  fclose(f);
  return text;
}

static void test_print(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = build(valid, &d);
  char *text = print_to_string(weir_topology_print_text, t);
  assert_contains(text, "topology app (t.ini)");
  assert_contains(text, "  threads                 = 1\n");
  assert_contains(text, "  compression.type = lz4\n");
  assert_contains(text, "  operator words  (sub-topology 0)\n");
  assert_contains(text, "      field = text\n");
  assert_contains(text, "      limit = 10  (default)\n");
  assert_contains(text, "      tag = x\\ny\n");
  assert_contains(text, "    -> count, echo\n");
  assert_contains(text, "    topics: a, b\n");
  assert_contains(text, "  counts: kv, sub-topology 0, changelog off\n");
  free(text);

  text = print_to_string(weir_topology_print_dot, t);
  assert_contains(text, "digraph \"app\" {");
  assert_contains(text, "\"node:words\" [shape=box, label=\"words\\ntopo_ops:typed\"];");
  assert_contains(text, "\"topic:a\" -> \"node:lines\";");
  assert_contains(text, "\"node:lines\" -> \"node:count\";");
  assert_contains(text, "\"node:out\" -> \"topic:out-topic\";");
  assert_contains(text, "\"node:count\" -> \"store:counts\"");
  assert_true(text[strlen(text) - 2] == '}');
  free(text);

  text = print_to_string(weir_topology_print_params, t);
  assert_contains(text, "[weir]");
  assert_contains(text, "application.id");
  assert_contains(text, "embedded.partitions");
  assert_contains(text, "[source:NAME]");
  assert_contains(text, "[store:NAME]");
  assert_contains(text, "type = typed");
  assert_contains(text, "ratio");
  free(text);
  weir_topology_free(t);
  weir_diag_free(&d);
}

static void test_settings_values(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = build(HEAD "threads = 4\n"
                                  "processing.guarantee = at_least_once\n"
                                  "log.level = debug\n"
                                  "deserialization.policy = dead-letter\n"
                                  "processing.error.policy = skip\n"
                                  "dead.letter.topic = dlq\n"
                                  "http.listen = 127.0.0.1:8080\n"
                                  "embedded.partitions = 3\n"
                                  "commit.interval.ms = 100\n"
                                  "[source:s]\ntopic = in\n"
                                  "[sink:k]\ninput = s\ntopic = out\n",
                             &d);
  if (!t)
    weir_diag_print(&d, stderr);
  assert_non_null(t);
  const weir_settings_t *s = &t->settings;
  assert_int_equal(s->threads, 4);
  assert_int_equal(s->guarantee, WEIR_AT_LEAST_ONCE);
  assert_int_equal(s->log_level, WEIR_LOG_DEBUG);
  assert_int_equal(s->deser_policy, WEIR_DESER_DEAD_LETTER);
  assert_int_equal(s->error_policy, WEIR_ONERR_SKIP);
  assert_string_equal(s->dead_letter_topic, "dlq");
  assert_int_equal(s->dead_letter_line, 10); /* named with its line when missing */
  assert_string_equal(s->http_listen, "127.0.0.1:8080");
  assert_int_equal(s->embedded_partitions, 3);
  assert_int_equal(s->commit_interval_ms, 100);
  assert_int_equal(t->plugin_count, 0);
  weir_topology_free(t);
  weir_diag_free(&d);
}

/* The embedded broker's transactions are not faithful: refused with its
 * line, not run as if they were. */
static void test_exactly_once_refused(void **state) {
  (void)state;
  expect_errors(HEAD "processing.guarantee = exactly_once\n"
                     "[source:s]\ntopic = in\n[sink:k]\ninput = s\ntopic = o\n",
                1,
                "t.ini:5: processing.guarantee = exactly_once is refused with bootstrap.servers = "
                "embedded: the embedded broker's transactions are not faithful",
                NULL);
}

/* Required means non-empty, for built-in keys and an operator's alike. */
static void test_required_keys_not_empty(void **state) {
  (void)state;
  expect_errors("[weir]\napplication.id =\nbootstrap.servers = embedded\n"
                "[source:s]\ntopic = in\n[sink:k]\ninput = s\ntopic =\n",
                2, "t.ini:2: 'application.id' in [weir] is required and empty",
                "t.ini:8: 'topic' in [sink:k] is required and empty", NULL);
}

/* describe labels a value from --set as such, not as a default. */
static void test_print_marks_set_values(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string(
      "t.ini",
      HEAD "[source:s]\ntopic = in\n[operator:m]\nplugin = topo_ops\ntype = typed\ninput = s\n"
           "field = f\n[sink:k]\ninput = m\ntopic = o\n",
      &d);
  assert_int_equal(weir_cfg_override(cfg, "m.limit=7", &d), 0);
  weir_topology_t *t = weir_topology_build(cfg, NULL, &d);
  if (!t)
    weir_diag_print(&d, stderr);
  assert_non_null(t);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  weir_topology_print_text(t, out);
  fclose(out);
  assert_contains(text, "limit = 7  (--set)");
  assert_contains(text, "label = none  (default)");
  assert_contains(text, "field = f\n");
  free(text);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void test_override_error_names_set(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string(
      "t.ini", HEAD "[source:s]\ntopic = in\n[sink:k]\ninput = s\ntopic = o\n", &d);
  assert_int_equal(weir_cfg_override(cfg, "weir.threads=0", &d), 0);
  assert_null(weir_topology_build(cfg, NULL, &d));
  assert_diag(&d, "--set: bad value for 'threads' in [weir]: expected an integer in [1, 1024]");
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

/* ---------------------------------------------------------------- [weir] */

static void test_weir_section_errors(void **state) {
  (void)state;
  expect_errors("[source:s]\ntopic = t\n[sink:k]\ninput = s\ntopic = o\n", 1,
                "t.ini: no [weir] section; add one with application.id and bootstrap.servers",
                NULL);
  expect_errors("[weir]\n"           /* 1 */
                "threads = 0\n"      /* 2 */
                "colour = blue\n"    /* 3 */
                "log.level = loud\n" /* 4 */
                "[source:s]\ntopic = t\n[sink:k]\ninput = s\ntopic = o\n",
                5,
                "t.ini:2: bad value for 'threads' in [weir]: expected an integer in [1, 1024], "
                "got '0'",
                "t.ini:3: unknown key 'colour' in [weir]; known keys: application.id, "
                "bootstrap.servers, threads, plugin.dir",
                "t.ini:4: bad value for 'log.level' in [weir]: expected one of: error, warn, "
                "info, debug; got 'loud'",
                "t.ini:1: [weir] needs 'application.id'",
                "t.ini:1: [weir] needs 'bootstrap.servers'", NULL);
}

static void test_weir_dead_letter_and_duplicates(void **state) {
  (void)state;
  expect_errors(HEAD "processing.error.policy = dead-letter\n"
                     "[source:s]\ntopic = t\n[sink:k]\ninput = s\ntopic = o\n",
                1,
                "t.ini:1: [weir] uses a dead-letter policy but sets no dead.letter.topic; add "
                "'dead.letter.topic = NAME'",
                NULL);
  expect_errors(HEAD "[source:s]\n" /* 5 */
                     "topic = t\n"  /* 6 */
                     "[weir]\n"     /* 7 */
                     "[kafka:x]\n"  /* 8 */
                     "[sink:k]\ninput = s\ntopic = o\n",
                2, "t.ini:7: [weir] appears twice (first at line 1); merge the two sections",
                "t.ini:8: [kafka:x]: the [kafka] section takes no name; write [kafka]", NULL);
}

/* ---------------------------------------------------------------- sections */

static void test_section_kind_and_names(void **state) {
  (void)state;
  expect_errors(HEAD "[source:s]\n"   /* 5 */
                     "topic = t\n"    /* 6 */
                     "[sink:k]\n"     /* 7 */
                     "input = s\n"    /* 8 */
                     "topic = o\n"    /* 9 */
                     "[table:x]\n"    /* 10 */
                     "[source]\n"     /* 11 */
                     "topic = u\n"    /* 12 */
                     "[operator:s]\n" /* 13 */
                     "[sink:k]\n"     /* 14 */
                     "[store]\n",     /* 15 */
                5,
                "t.ini:10: unknown section kind 'table' (expected weir, kafka, source, "
                "operator, sink, store, global)",
                "t.ini:11: [source] needs a name; write [source:NAME]",
                "t.ini:13: node name 's' is already used by [source:s] at line 5; rename one",
                "t.ini:14: node name 'k' is already used by [sink:k] at line 7; rename one",
                "t.ini:15: [store] needs a name; write [store:NAME]", NULL);
}

static void test_source_errors(void **state) {
  (void)state;
  expect_errors(HEAD "[source:both]\n"           /* 5 */
                     "topic = a\n"               /* 6 */
                     "topics = b, c\n"           /* 7 */
                     "[source:none]\n"           /* 8 */
                     "key.serde = avro\n"        /* 9 */
                     "[source:fed]\n"            /* 10 */
                     "topic = x, y\n"            /* 11 */
                     "input = both\n"            /* 12 */
                     "[source:lonely]\n"         /* 13 */
                     "topics = q,,r\n"           /* 14 */
                     "[sink:k]\n"                /* 15 */
                     "input = both, none, fed\n" /* 16 */
                     "topic = o\n",              /* 17 */
                7, "t.ini:7: [source:both] sets both topic and topics; keep one",
                "t.ini:8: [source:none] needs 'topic = NAME' or 'topics = A, B'",
                "t.ini:9: bad value for 'key.serde' in [source:none]: expected one of: bytes, "
                "string, int64, json; got 'avro'",
                "t.ini:11: 'topic' names one topic; write 'topics = x, y' for several",
                "t.ini:12: [source:fed] reads Kafka topics and takes no input; remove 'input'",
                "t.ini:14: 'topic' has an empty name between commas",
                "t.ini:13: source 'lonely' feeds nothing; name it in an operator's or sink's "
                "input, or remove it",
                NULL);
}

static void test_sink_and_store_errors(void **state) {
  (void)state;
  expect_errors(
      HEAD "[source:s]\n"         /* 5 */
           "topic = t\n"          /* 6 */
           "[sink:a]\n"           /* 7 */
           "input = s\n"          /* 8 */
           "[sink:b]\n"           /* 9 */
           "input = s\n"          /* 10 */
           "topic = x, y\n"       /* 11 */
           "[sink:c]\n"           /* 12 */
           "topic = z\n"          /* 13 */
           "[store:w]\n"          /* 14 */
           "type = hash\n"        /* 15 */
           "[store:w]\n"          /* 16 */
           "type = kv\n"          /* 17 */
           "[store:v]\n"          /* 18 */
           "changelog = maybe\n", /* 19 */
      7, "t.ini:7: [sink:a] needs 'topic'",
      "t.ini:11: [sink:b] writes one topic, not 2; add a sink per topic",
      "t.ini:12: [sink:c] needs 'input'",
      "t.ini:15: bad value for 'type' in [store:w]: expected one of: kv, window, session; got "
      "'hash'",
      "t.ini:16: [store:w] is declared twice (first at line 14); remove one",
      "t.ini:19: bad value for 'changelog' in [store:v]", "t.ini:18: [store:v] needs 'type'", NULL);
  expect_errors(HEAD "[source:s]\ntopic = t\n[sink:k]\ninput = s\ntopic = o\n"
                     "[store:v]\n", /* 10 */
                1, "t.ini:10: [store:v] needs 'type' (store kind: kv, window", NULL);
}

/* [global:NAME]: a topic, one; a name no [store:] has, in either order;
 * no sub-topology and no changelog, whoever lists it in `store =`. */
static void test_global_sections(void **state) {
  (void)state;
  expect_errors(HEAD "[source:s]\n"      /* 5 */
                     "topic = t\n"       /* 6 */
                     "[sink:k]\n"        /* 7 */
                     "input = s\n"       /* 8 */
                     "topic = o\n"       /* 9 */
                     "[global:g]\n"      /* 10 */
                     "[global:h]\n"      /* 11 */
                     "topic = a, b\n"    /* 12 */
                     "[store:c]\n"       /* 13 */
                     "type = kv\n"       /* 14 */
                     "[global:c]\n"      /* 15 */
                     "topic = c\n"       /* 16 */
                     "[global:d]\n"      /* 17 */
                     "topic = d\n"       /* 18 */
                     "[store:d]\n"       /* 19 */
                     "type = kv\n"       /* 20 */
                     "[global:d]\n"      /* 21 */
                     "topic = d2\n"      /* 22 */
                     "[global:e]\n"      /* 23 */
                     "topic = e\n"       /* 24 */
                     "partitions = 3\n", /* 25 */
                6, "t.ini:10: [global:g] needs 'topic'",
                "t.ini:12: [global:h] reads one topic, not 2; add a [global:] per topic",
                "t.ini:15: [global:c] clashes with [store:c] at line 13: stores and global "
                "tables share one namespace; rename one",
                "t.ini:19: [store:d] clashes with [global:d] at line 17: stores and global "
                "tables share one namespace; rename one",
                "t.ini:21: [global:d] is declared twice (first at line 17); remove one",
                "t.ini:25: unknown key 'partitions' in [global:e]", NULL);
  weir_diag_t d = {0};
  weir_topology_t *t = build(HEAD "[source:s]\ntopic = t\n"
                                  "[operator:o]\nplugin = topo_ops\ntype = pass\ninput = s\n"
                                  "store = g\n[sink:k]\ninput = o\ntopic = out\n"
                                  "[global:g]\ntopic = gt\nvalue.serde = json\n",
                             &d);
  weir_diag_print(&d, stderr);
  assert_non_null(t);
  const weir_store_decl_t *g = weir_topology_store(t, "g");
  assert_non_null(g);
  assert_string_equal(g->global_topic, "gt");
  assert_int_equal(g->kind, WEIR_STORE_KV);
  assert_int_equal(g->subtopology, -1);
  assert_int_equal(g->changelog, 0);
  assert_null(g->changelog_topic);
  assert_int_equal(g->value_serde, WEIR_SERDE_JSON);
  assert_int_equal(t->internal_topic_count, 0);
  size_t n = 0;
  const char **src = weir_topology_source_topics(t, &n);
  assert_int_equal(n, 1); /* the global's topic is no source: the group never reads it */
  free(src);
  weir_topology_free(t);
  weir_diag_free(&d);
}

/* ---------------------------------------------------------------- operators */

static void test_operator_keys(void **state) {
  (void)state;
  expect_errors(HEAD "[source:s]\n"        /* 5 */
                     "topic = t\n"         /* 6 */
                     "[operator:a]\n"      /* 7 */
                     "input = s\n"         /* 8 */
                     "[operator:b]\n"      /* 9 */
                     "plugin = topo_ops\n" /* 10 */
                     "type = pass\n"       /* 11 */
                     "input = s\n"         /* 12 */
                     "input = a\n"         /* 13 */
                     "[operator:c]\n"      /* 14 */
                     "plugin = topo_ops\n" /* 15 */
                     "type = pass\n"       /* 16 */
                     "store = nowhere\n"   /* 17 */
                     "[operator:d]\n"      /* 18 */
                     "plugin = topo_ops\n" /* 19 */
                     "  type = pass\n"     /* 20: continues plugin */
                     "input = s\n",        /* 21 */
                7, "t.ini:7: [operator:a] needs 'plugin'; add 'plugin = ...'",
                "t.ini:7: [operator:a] needs 'type'; add 'type = ...'",
                "t.ini:13: 'input' is set twice in [operator:b] (first at line 12); remove one",
                "t.ini:14: [operator:c] needs 'input'; add 'input = ...'",
                "t.ini:17: [operator:c] uses store 'nowhere', which is not declared; add a "
                "[store:nowhere] section",
                "t.ini:20: this indented line continues 'plugin' from line 19, which "
                "[operator:d] takes once; unindent it if it is a key of its own",
                "t.ini:18: [operator:d] needs 'type'", NULL);
}

/* group.by puts a re-keying sink and a source through the repartition topic
 * before the operator, which starts a sub-topology of its own; its stores
 * follow it, with their changelogs, in the internal topics list. */
static void test_group_by_repartition(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = build(HEAD "[source:s]\ntopic = in\n"
                                  "[operator:words]\nplugin = topo_ops\ntype = pass\ninput = s\n"
                                  "[operator:agg]\nplugin = topo_ops\ntype = pass\ninput = words\n"
                                  "group.by = json:a.b\nstore = st\n"
                                  "[store:st]\ntype = kv\n"
                                  "[sink:out]\ninput = agg\ntopic = out\n",
                             &d);
  assert_non_null(t);
  assert_int_equal(t->subtopology_count, 2);
  const weir_node_t *sink = weir_topology_find(t, "agg.repartition");
  const weir_node_t *source = weir_topology_find(t, "agg.repartition-source");
  const weir_node_t *agg = weir_topology_find(t, "agg");
  assert_non_null(sink);
  assert_non_null(source);
  assert_true(sink->internal && source->internal);
  assert_string_equal(sink->topic, "app-agg-repartition");
  assert_int_equal(sink->regroup, WEIR_REGROUP_JSON);
  assert_string_equal(sink->regroup_path, "a.b");
  assert_string_equal(sink->inputs[0]->name, "words");
  assert_int_equal(sink->subtopology, weir_topology_find(t, "words")->subtopology);
  assert_string_equal(source->topics[0], "app-agg-repartition");
  assert_int_equal(agg->input_count, 1);
  assert_ptr_equal(agg->inputs[0], source);
  assert_int_equal(agg->subtopology, source->subtopology);
  assert_int_not_equal(agg->subtopology, sink->subtopology);
  assert_int_equal(t->internal_topic_count, 2);
  assert_string_equal(t->internal_topics[0].name, "app-agg-repartition");
  assert_int_equal(t->internal_topics[0].partitions_of, sink->subtopology);
  assert_string_equal(t->internal_topics[1].name, "app-st-changelog");
  assert_int_equal(t->internal_topics[1].changelog, 1);
  assert_int_equal(t->internal_topics[1].partitions_of, agg->subtopology);
  weir_topology_free(t);
  weir_diag_free(&d);
}

static void test_group_by_and_store_errors(void **state) {
  (void)state;
  expect_errors(HEAD "[source:s]\n"        /* 5 */
                     "topic = t\n"         /* 6 */
                     "[operator:a]\n"      /* 7 */
                     "plugin = topo_ops\n" /* 8 */
                     "type = pass\n"       /* 9 */
                     "input = s\n"         /* 10 */
                     "group.by = key\n"    /* 11 */
                     "[operator:b]\n"      /* 12 */
                     "plugin = topo_ops\n" /* 13 */
                     "type = pass\n"       /* 14 */
                     "input = s\n"         /* 15 */
                     "group.by = json:\n", /* 16 */
                2, "t.ini:11: [operator:a] group.by = 'key' is not understood; use 'value'",
                "t.ini:16: [operator:b] group.by = 'json:' is not understood", NULL);
  expect_errors(HEAD "[source:s]\ntopic = t\n" /* 5-6 */
                     "[operator:a]\n"          /* 7 */
                     "plugin = topo_ops\ntype = pass\ninput = s\nstore = st\n"
                     "[operator:b]\n" /* 12 */
                     "plugin = topo_ops\ntype = pass\ninput = a\ngroup.by = value\nstore = st\n"
                     "[store:st]\ntype = kv\n",
                1,
                "t.ini:12: store 'st' is used by [operator:a] and [operator:b], which read "
                "differently partitioned inputs (sub-topologies 0 and 1); give each its own store",
                NULL);
  expect_errors(HEAD "[source:s]\ntopic = t\n" /* 5-6 */
                     "[operator:a]\n"          /* 7 */
                     "plugin = topo_ops\ntype = pass\ninput = s\ngroup.by = value\n"
                     "[sink:a.repartition]\ninput = a\ntopic = x\n", /* 12 */
                1,
                "t.ini:12: node name 'a.repartition' is reserved for the repartition of "
                "[operator:a]; rename it",
                NULL);
}

static void test_operator_plugin_errors(void **state) {
  (void)state;
  expect_errors(HEAD "[source:s]\n"              /* 5 */
                     "topic = t\n"               /* 6 */
                     "[operator:a]\n"            /* 7 */
                     "plugin = no_such_plugin\n" /* 8 */
                     "type = pass\n"             /* 9 */
                     "input = s\n"               /* 10 */
                     "whatever = 1\n"            /* 11 */
                     "[operator:b]\n"            /* 12 */
                     "plugin = topo_ops\n"       /* 13 */
                     "type = passs\n"            /* 14 */
                     "input = s\n",              /* 15 */
                2, "t.ini:8: cannot load plugin 'no_such_plugin': ",
                "t.ini:14: plugin 'topo_ops' (" WEIR_TEST_FIXTURE_DIR
                "/topo_ops.so) has no operator type 'passs'; its types are: pass, typed",
                NULL);
}

static void test_operator_params(void **state) {
  (void)state;
  expect_errors(HEAD "[source:s]\n"        /* 5 */
                     "topic = t\n"         /* 6 */
                     "[operator:a]\n"      /* 7 */
                     "plugin = topo_ops\n" /* 8 */
                     "type = typed\n"      /* 9 */
                     "input = s\n"         /* 10 */
                     "limit = 1000\n"      /* 11 */
                     "colour = red\n"      /* 12 */
                     "mode = fast\n"       /* 13 */
                     "mode = slow\n",      /* 14 */
                4,
                "t.ini:11: bad value for 'limit' in [operator:a]: expected an integer in [1, "
                "100], got '1000'",
                "t.ini:12: unknown key 'colour' in [operator:a]; known keys: field, label, "
                "limit, ratio, loud, mode, match, tag, plugin, type, input, store",
                "t.ini:14: 'mode' is set twice in [operator:a] (first at line 13); remove one",
                "t.ini:7: [operator:a] needs 'field' (a required string); add 'field = ...'", NULL);
}

/* ---------------------------------------------------------------- graph */

static void test_input_errors(void **state) {
  (void)state;
  expect_errors(HEAD "[source:lines]\n"            /* 5 */
                     "topic = t\n"                 /* 6 */
                     "[operator:words]\n"          /* 7 */
                     "plugin = topo_ops\n"         /* 8 */
                     "type = pass\n"               /* 9 */
                     "input = lnes\n"              /* 10 */
                     "[operator:count]\n"          /* 11 */
                     "plugin = topo_ops\n"         /* 12 */
                     "type = pass\n"               /* 13 */
                     "input = out, lines, lines\n" /* 14 */
                     "[sink:out]\n"                /* 15 */
                     "input = zzzzzz, words\n"     /* 16 */
                     "topic = o\n"                 /* 17 */
                     "[sink:more]\n"               /* 18 */
                     "input = count, ,\n"          /* 19 */
                     "topic = o\n",                /* 20 */
                5,
                "t.ini:10: input 'lnes' of [operator:words] names no source or operator; did "
                "you mean 'lines'?",
                "t.ini:14: input 'out' of [operator:count] is a sink, and sinks feed nothing; "
                "read its topic with a [source] instead",
                "t.ini:14: input of [operator:count] lists 'lines' twice; list it once",
                "t.ini:16: input 'zzzzzz' of [sink:out] names no source or operator; declare "
                "it or fix the name",
                "t.ini:19: 'input' has an empty name between commas", NULL);
}

static void test_cycle_and_unreachable(void **state) {
  (void)state;
  expect_errors(HEAD "[source:s]\n"        /* 5 */
                     "topic = t\n"         /* 6 */
                     "[sink:k]\n"          /* 7 */
                     "input = s\n"         /* 8 */
                     "topic = o\n"         /* 9 */
                     "[operator:a]\n"      /* 10 */
                     "plugin = topo_ops\n" /* 11 */
                     "type = pass\n"       /* 12 */
                     "input = c\n"         /* 13 */
                     "[operator:b]\n"      /* 14 */
                     "plugin = topo_ops\n" /* 15 */
                     "type = pass\n"       /* 16 */
                     "input = a\n"         /* 17 */
                     "[operator:c]\n"      /* 18 */
                     "plugin = topo_ops\n" /* 19 */
                     "type = pass\n"       /* 20 */
                     "input = b\n"         /* 21 */
                     "[operator:self]\n"   /* 22 */
                     "plugin = topo_ops\n" /* 23 */
                     "type = pass\n"       /* 24 */
                     "input = self, s\n",  /* 25 */
                5, "t.ini:13: cycle: a -> b -> c -> a; an operator cannot read its own output",
                "t.ini:25: cycle: self -> self;",
                "t.ini:13: [operator:a] is not reachable from any source; connect its input to "
                "a source or remove it",
                "t.ini:17: [operator:b] is not reachable from any source",
                "t.ini:21: [operator:c] is not reachable from any source", NULL);
}

static void test_operator_without_children_is_fine(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = build(HEAD "[source:s]\ntopic = t\n"
                                  "[operator:end]\nplugin = topo_ops\ntype = pass\ninput = s\n",
                             &d);
  assert_non_null(t);
  assert_int_equal(d.count, 0);
  assert_int_equal(weir_topology_find(t, "end")->child_count, 0);
  weir_topology_free(t);
  weir_diag_free(&d);
}

static void test_plugin_by_path(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = build("[weir]\napplication.id = a\nbootstrap.servers = b\n"
                             "[source:s]\ntopic = t\n"
                             "[operator:x]\nplugin = " WEIR_TEST_FIXTURE_DIR "/topo_ops.so\n"
                             "type = pass\ninput = s\n",
                             &d);
  if (!t)
    weir_diag_print(&d, stderr);
  assert_non_null(t);
  assert_int_equal(t->plugin_count, 1);
  weir_topology_free(t);
  weir_diag_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_settings),
      cmocka_unit_test(test_valid_graph),
      cmocka_unit_test(test_topics),
      cmocka_unit_test(test_print),
      cmocka_unit_test(test_settings_values),
      cmocka_unit_test(test_override_error_names_set),
      cmocka_unit_test(test_exactly_once_refused),
      cmocka_unit_test(test_required_keys_not_empty),
      cmocka_unit_test(test_print_marks_set_values),
      cmocka_unit_test(test_weir_section_errors),
      cmocka_unit_test(test_weir_dead_letter_and_duplicates),
      cmocka_unit_test(test_section_kind_and_names),
      cmocka_unit_test(test_source_errors),
      cmocka_unit_test(test_sink_and_store_errors),
      cmocka_unit_test(test_global_sections),
      cmocka_unit_test(test_operator_keys),
      cmocka_unit_test(test_group_by_repartition),
      cmocka_unit_test(test_group_by_and_store_errors),
      cmocka_unit_test(test_operator_plugin_errors),
      cmocka_unit_test(test_operator_params),
      cmocka_unit_test(test_input_errors),
      cmocka_unit_test(test_cycle_and_unreachable),
      cmocka_unit_test(test_operator_without_children_is_fine),
      cmocka_unit_test(test_plugin_by_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
