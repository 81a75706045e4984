/* weir_metric_add on the real host table: the host keeps its own copy of
 * each name, so a name the plugin no longer holds (memory it overwrote or
 * freed, or a plugin unloaded by a hot swap while the instance lives on)
 * still names its counter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/loader.h"
#include "task/task.h"

typedef struct world {
  weir_task_t task;
  weir_node_inst_t inst;
} world_t;

static int setup(void **state) {
  world_t *w = calloc(1, sizeof *w);
  if (!w)
    return -1;
  w->inst.ctx.struct_size = (uint32_t)sizeof w->inst.ctx;
  w->inst.ctx.api = &weir_host_api_v1;
  w->inst.task = &w->task;
  *state = w;
  return 0;
}

static int teardown(void **state) {
  world_t *w = *state;
  weir_node_metrics_free(&w->inst);
  free(w);
  return 0;
}

static const weir_node_metric_t *metric(const weir_node_inst_t *inst, const char *name) {
  for (size_t i = 0; i < inst->metric_count; i++)
    if (strcmp(inst->metrics[i].name, name) == 0)
      return &inst->metrics[i];
  return NULL;
}

/* The plugin's buffer is overwritten, then freed: the counter keeps its name
 * and the same name adds to it rather than starting a second one. */
static void test_name_in_reused_memory(void **state) {
  world_t *w = *state;
  char *name = malloc(16);
  assert_non_null(name);
  strcpy(name, "records.in");
  weir_metric_add(&w->inst.ctx, name, 2);
  strcpy(name, "overwritten");
  weir_metric_add(&w->inst.ctx, "records.in", 3);
  free(name);
  weir_metric_add(&w->inst.ctx, "records.out", 1);

  assert_int_equal(w->inst.metric_count, 2);
  assert_non_null(metric(&w->inst, "records.in"));
  assert_int_equal(metric(&w->inst, "records.in")->value, 5);
  assert_null(metric(&w->inst, "overwritten"));
  assert_int_equal(metric(&w->inst, "records.out")->value, 1);
}

/* A string literal of a plugin that is then unloaded (dlclose), as a hot
 * swap unloads the staged copy whose operator first used the name. */
static void test_name_outlives_its_plugin(void **state) {
  world_t *w = *state;
  char err[512] = "";
  weir_record_t rec = WEIR_RECORD_INIT;
  weir_plugin_t *p = weir_plugin_load_file(WEIR_TEST_FIXTURE_DIR "/metric_names.so", "metric_names",
                                           err, sizeof err);
  if (!p)
    fail_msg("load: %s", err);
  const weir_op_info_t *op = weir_plugin_find_op(p, "counter");
  assert_non_null(op);
  assert_int_equal(op->def.process(&w->inst.ctx, NULL, &rec), WEIR_OK);
  assert_int_equal(op->def.process(&w->inst.ctx, NULL, &rec), WEIR_OK);
  weir_plugin_close(p);

  assert_int_equal(w->inst.metric_count, 1);
  assert_string_equal(w->inst.metrics[0].name, "records.seen");
  weir_metric_add(&w->inst.ctx, "records.seen", 1);
  assert_int_equal(w->inst.metric_count, 1);
  assert_int_equal(w->inst.metrics[0].value, 3);
}

/* NULL names nothing: ignored, as before. */
static void test_null_name_ignored(void **state) {
  world_t *w = *state;
  weir_metric_add(&w->inst.ctx, NULL, 1);
  assert_int_equal(w->inst.metric_count, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_name_in_reused_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_name_outlives_its_plugin, setup, teardown),
      cmocka_unit_test_setup_teardown(test_null_name_ignored, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
