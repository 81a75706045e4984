/* restore: a restore cancelled by a rebalance writes what it restored so
 * far (rows with their checkpoint) at once. Before the fix the thread's
 * batch kept them and wrote them at its next, unrelated restore — possibly
 * after another thread had restored the same store-partition further and
 * moved on, putting older rows and an older checkpoint over its work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/tmpdir.h"
#include "thread/thread_internal.h"
#include "util/fs.h"

static void no_fail(void *app, const char *message) {
  (void)app;
  fail_msg("unexpected failure: %s", message);
}

static void test_cancel_writes_the_restored_rows(void **state) {
  (void)state;
  char dir[512], err[512], why[256];
  assert_non_null(weir_test_tmpdir(dir, sizeof dir, "weir-restore"));
  weir_state_db_t *db = weir_state_db_open(dir, "app", 16, NULL, err, sizeof err);
  assert_non_null(db);

  /* A restore consumer that never reaches a broker: unassigning only
   * changes its local assignment. */
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "group.id", "restore-test", NULL, 0);
  rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
  weir_stream_thread_t *t = calloc(1, sizeof *t);
  t->restorer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  assert_non_null(t->restorer);
  t->shared.fail = no_fail;
  t->env.state_db = db;
  t->restoring = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(t->restoring, "app-s-changelog", 3);
  t->restore_batch = weir_state_batch_new();

  weir_store_decl_t decl = {.name = "s", .changelog_topic = "app-s-changelog"};
  weir_task_t task = {.partition = 3, .restoring = 1, .store_count = 1};
  weir_task_store_t ts = {.task = &task, .decl = &decl, .restoring = 1};
  task.stores = &ts;
  /* What the last poll restored: a row and the checkpoint after it. */
  weir_state_batch_put(t->restore_batch, "s", 3, "k", 1, "v1", 2);
  weir_state_batch_checkpoint(t->restore_batch, "s", 3, 42);

  weir_restore_cancel(t, &task);
  assert_int_equal(ts.restoring, 0);
  assert_int_equal(weir_state_batch_count(t->restore_batch), 0);
  assert_int_equal(weir_state_db_checkpoint(db, "s", 3, err, sizeof err), 42);
  void *v = NULL;
  size_t n = 0;
  assert_int_equal(weir_state_db_get(db, "s", 3, "k", 1, &v, &n, err, sizeof err), 1);
  assert_memory_equal(v, "v1", 2);
  free(v);

  weir_state_batch_free(t->restore_batch);
  rd_kafka_topic_partition_list_destroy(t->restoring);
  rd_kafka_destroy(t->restorer);
  free(t);
  weir_state_db_close(db);
  weir_rm_rf(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cancel_writes_the_restored_rows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
