/* Timers across a hot swap (task/timers.h, task/inst_swap.c), on a task run
 * by hand with a virtual wall clock: the new version's init() scheduling the
 * same timer takes over the old id (one tick per due time, not two, and the
 * new punctuate() receives it); an aborted swap leaves the old timer alone
 * and drops what the new version scheduled; a new version without
 * punctuate() has the timers cancelled; closing the task ends them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "task/inst_swap.h"
#include "task/task.h"
#include "topology/topology.h"

#define INI(plugin)                                                                                \
  "[weir]\napplication.id = swap\nbootstrap.servers = embedded\n"                                  \
  "[source:in]\ntopic = in\n"                                                                      \
  "[operator:tick]\nplugin = " plugin "\ntype = ticker\ninput = in\ndomain = wall\n"               \
  "interval = 100\n"                                                                               \
  "[sink:out]\ninput = tick\ntopic = out\nvalue.serde = string\n"

static char ticks[4096];
static int64_t wall;

static int capture(void *opaque, weir_node_inst_t *sink, const weir_record_t *rec) {
  (void)opaque, (void)sink;
  size_t used = strlen(ticks);
  snprintf(ticks + used, sizeof ticks - used, "%s%.*s", used ? " " : "", (int)rec->value_len,
           (const char *)rec->value);
  return WEIR_OK;
}

static const weir_sink_ops_t sinks = {capture, NULL};

static weir_topology_t *build(const char *ini) {
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load_string("swap.ini", ini, &d);
  weir_cfg_override(cfg, "weir.plugin.dir=" WEIR_TEST_FIXTURE_DIR, &d);
  weir_topology_t *t = d.count ? NULL : weir_topology_build(cfg, NULL, &d);
  weir_diag_print(&d, stderr);
  weir_diag_free(&d);
  weir_cfg_free(cfg);
  assert_non_null(t);
  return t;
}

typedef struct fx {
  atomic_int stopping;
  weir_topology_t *v1, *next;
  weir_task_env_t env;
  weir_task_t *task;
  weir_node_inst_t *tick;
} fx_t;

static void open_fx(fx_t *fx, const char *next_plugin_ini) {
  char err[1024] = "";
  memset(fx, 0, sizeof *fx);
  ticks[0] = '\0';
  wall = 0;
  fx->v1 = build(INI("timer_ops"));
  fx->next = build(next_plugin_ini);
  fx->env = (weir_task_env_t){
      .topo = fx->v1, .stopping = &fx->stopping, .sinks = &sinks, .wall_clock = &wall};
  fx->task = weir_task_new(&fx->env, 0, 0, 0, NULL);
  assert_non_null(fx->task);
  if (weir_task_open(fx->task, err, sizeof err))
    fail_msg("open: %s", err);
  fx->tick = &fx->task->insts[weir_topology_find(fx->v1, "tick")->index];
}

static void close_fx(fx_t *fx) {
  weir_task_free(fx->task);
  weir_topology_free(fx->v1);
  weir_topology_free(fx->next);
}

static const weir_node_t *next_tick(fx_t *fx) {
  return weir_topology_find(fx->next, "tick");
}

static void fire(fx_t *fx, int64_t ms) {
  ticks[0] = '\0';
  wall += ms;
  assert_int_equal(weir_task_wall_timers(fx->task), 0);
}

static void test_swap_takes_over_timer(void **state) {
  (void)state;
  fx_t fx;
  char why[512];
  open_fx(&fx, INI("timer_ops_v2"));
  fire(&fx, 100);
  assert_string_equal(ticks, "1@100#1");
  assert_int_equal(weir_inst_prepare(fx.tick, next_tick(&fx), NULL, why, sizeof why), 0);
  fire(&fx, 100); /* prepared, not committed: the old version still ticks */
  assert_string_equal(ticks, "1@200#2");
  assert_int_equal(weir_inst_commit(fx.tick, next_tick(&fx), NULL), 1);
  fire(&fx, 100); /* one timer, the old id, the new punctuate */
  assert_string_equal(ticks, "v2:1@300#1");
  assert_int_equal(fx.task->timers.count, 1);
  close_fx(&fx);
}

static void test_aborted_swap_keeps_old_timer(void **state) {
  (void)state;
  fx_t fx;
  char why[512];
  open_fx(&fx, INI("timer_ops_v2"));
  assert_int_equal(weir_inst_prepare(fx.tick, next_tick(&fx), NULL, why, sizeof why), 0);
  weir_inst_abort(fx.tick);
  fire(&fx, 100);
  fire(&fx, 100);
  assert_string_equal(ticks, "1@200#2");
  assert_int_equal(fx.task->timers.count, 1);
  close_fx(&fx);
}

static void test_swap_to_no_punctuate_cancels(void **state) {
  (void)state;
  fx_t fx;
  char why[512];
  open_fx(&fx, INI("timer_ops_v3"));
  assert_int_equal(weir_inst_prepare(fx.tick, next_tick(&fx), NULL, why, sizeof why), 0);
  assert_int_equal(weir_inst_commit(fx.tick, next_tick(&fx), NULL), 1);
  fire(&fx, 1000);
  assert_string_equal(ticks, "");
  assert_int_equal(fx.task->timers.count, 0);
  close_fx(&fx);
}

static void test_close_ends_timers(void **state) {
  (void)state;
  fx_t fx;
  open_fx(&fx, INI("timer_ops_v2"));
  assert_int_equal(fx.task->timers.count, 1);
  weir_task_close(fx.task);
  assert_int_equal(fx.task->timers.count, 0);
  fire(&fx, 1000);
  assert_string_equal(ticks, "");
  close_fx(&fx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_swap_takes_over_timer),
      cmocka_unit_test(test_aborted_swap_keeps_old_timer),
      cmocka_unit_test(test_swap_to_no_punctuate_cancels),
      cmocka_unit_test(test_close_ends_timers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
