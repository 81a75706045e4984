/* Operating weir (issue 17): secret keys and their masking, [weir]/[kafka]
 * keys from the environment and their precedence, log events through a
 * sink with their task and node, linked-in plugins checked at registration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/env.h"
#include "plugin/loader.h"
#include "util/log.h"
#include "util/secret.h"

static void test_secret_keys(void **state) {
  (void)state;
  const char *secret[] = {"sasl.password",
                          "ssl.key.password",
                          "ssl.keystore.password",
                          "ssl.truststore.password",
                          "sasl.oauthbearer.client.secret",
                          "http.token",
                          "ssl.key.pem",
                          "kafka.ssl.key.pem",
                          "sasl.oauthbearer.config",
                          "kafka.sasl.password"};
  const char *plain[] = {"bootstrap.servers",   "sasl.mechanism",
                         "sasl.username",       "sasl.oauthbearer.token.endpoint.url",
                         "ssl.certificate.pem", "application.id",
                         "password.policy"};
  for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
    assert_true(weir_secret_key(secret[i]));
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    assert_false(weir_secret_key(plain[i]));
  assert_string_equal(weir_secret_show("sasl.password", "x"), "***");
  assert_string_equal(weir_secret_show("sasl.username", "bob"), "bob");
}

static void test_scrub(void **state) {
  (void)state;
  char msg[128] = "Invalid value \"hunter2\" for sasl.password (hunter2)";
  weir_secret_scrub(msg, sizeof msg, "hunter2");
  assert_string_equal(msg, "Invalid value \"***\" for sasl.password (***)");
}

static const char ini[] = "[weir]\n"
                          "application.id = from-file\n"
                          "threads = 1\n"
                          "[source:in]\n"
                          "topic = in\n";

static void test_env_precedence(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", ini, &d);
  char *env[] = {"WEIR_WEIR__THREADS=2",     "WEIR_KAFKA__SASL_PASSWORD=s",
                 "WEIR_TEST_KAFKA=skip",     "PATH=/bin",
                 "WEIR_SOURCE__TOPIC=never", NULL};
  assert_int_equal(weir_cfg_apply_env(cfg, env, &d), 2);
  assert_int_equal(d.count, 0);
  weir_cfg_section_t *w = weir_cfg_find(cfg, "weir", NULL);
  assert_string_equal(weir_cfg_get(w, "threads"), "2");
  assert_int_equal(weir_cfg_entry(w, "threads")->line, WEIR_CFG_LINE_ENV);
  assert_string_equal(weir_cfg_get(w, "application.id"), "from-file");
  /* [kafka] was not in the file: the environment adds it. */
  weir_cfg_section_t *k = weir_cfg_find(cfg, "kafka", NULL);
  assert_non_null(k);
  assert_string_equal(weir_cfg_get(k, "sasl.password"), "s");
  assert_string_equal(weir_cfg_get(weir_cfg_find(cfg, "source", "in"), "topic"), "in");
  /* --set comes last and wins. */
  assert_int_equal(weir_cfg_override(cfg, "weir.threads=3", &d), 0);
  assert_string_equal(weir_cfg_get(w, "threads"), "3");
  assert_string_equal(weir_cfg_where(cfg, WEIR_CFG_LINE_ENV), "environment");
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void test_env_name_without_key(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", ini, &d);
  char *env[] = {"WEIR_KAFKA__=x", NULL};
  assert_int_equal(weir_cfg_apply_env(cfg, env, &d), -1);
  assert_int_equal(d.count, 1);
  assert_non_null(strstr(d.lines[0], "WEIR_KAFKA__ names no key"));
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void test_env_name(void **state) {
  (void)state;
  char buf[64];
  weir_cfg_env_name("kafka", "ssl.key.password", buf, sizeof buf);
  assert_string_equal(buf, "WEIR_KAFKA__SSL_KEY_PASSWORD");
}

static char seen[512];
static void sink(void *user, int level, const char *thread, const char *task, const char *node,
                 const char *message) {
  snprintf(seen, sizeof seen, "%d|%s|%s|%s|%s", level, thread, task ? task : "-", node ? node : "-",
           message);
}

static void test_log_sink(void **state) {
  (void)state;
  weir_log_set_sink(sink, NULL);
  weir_log_set_thread_name("unit");
  assert_true(weir_log_routed());
  char want[64];
  weir_logf_at(WEIR_LOG_WARN, "0_3", "count", "slow %d", 7);
  snprintf(want, sizeof want, "%d|unit|0_3|count|slow 7", WEIR_LOG_WARN);
  assert_string_equal(seen, want);
  weir_logf(WEIR_LOG_INFO, "plain");
  snprintf(want, sizeof want, "%d|unit|-|-|plain", WEIR_LOG_INFO);
  assert_string_equal(seen, want);
  weir_log_set_sink(NULL, NULL);
  assert_false(weir_log_routed());
}

static int nop_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  *self = NULL;
  return WEIR_OK;
}
static int nop_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  return WEIR_OK;
}
static const weir_param_def_t no_params[] = {WEIR_PARAM_END};
static const weir_operator_def_t good_op = {.struct_size = sizeof(weir_operator_def_t),
                                            .type = "nop",
                                            .params = no_params,
                                            .init = nop_init,
                                            .process = nop_process};
static const weir_operator_def_t bad_op = {.struct_size = sizeof(weir_operator_def_t),
                                           .type = "broken",
                                           .params = no_params,
                                           .init = nop_init};
static const weir_plugin_desc_t *good_entry(void) {
  static const weir_operator_def_t *const ops[] = {&good_op, NULL};
  static const weir_plugin_desc_t d = {
      WEIR_ABI_MAJOR, WEIR_ABI_MINOR, sizeof(weir_plugin_desc_t), "linked", "1", "", ops, NULL};
  return &d;
}
static const weir_plugin_desc_t *bad_entry(void) {
  static const weir_operator_def_t *const ops[] = {&bad_op, NULL};
  static const weir_plugin_desc_t d = {
      WEIR_ABI_MAJOR, WEIR_ABI_MINOR, sizeof(weir_plugin_desc_t), "badlinked", "1", "", ops, NULL};
  return &d;
}

static void test_linked_plugins(void **state) {
  (void)state;
  char err[512];
  assert_int_equal(weir_static_plugin_register(good_entry, err, sizeof err), 0);
  assert_int_equal(weir_static_plugin_register(good_entry, err, sizeof err), -1);
  assert_non_null(strstr(err, "'linked' is registered already"));
  assert_int_equal(weir_static_plugin_register(bad_entry, err, sizeof err), -1);
  assert_non_null(strstr(err, "process"));
  assert_null(weir_static_plugin_find("badlinked"));
  weir_plugin_search_t search = {0};
  weir_plugin_t *p = weir_plugin_open("linked", &search, err, sizeof err);
  assert_non_null(p);
  assert_string_equal(p->path, "(linked in)");
  assert_non_null(weir_plugin_find_op(p, "nop"));
  weir_plugin_close(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_secret_keys),    cmocka_unit_test(test_scrub),
      cmocka_unit_test(test_env_precedence), cmocka_unit_test(test_env_name_without_key),
      cmocka_unit_test(test_env_name),       cmocka_unit_test(test_log_sink),
      cmocka_unit_test(test_linked_plugins),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
