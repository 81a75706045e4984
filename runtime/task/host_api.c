/* The host function table handed to plugins (weir.h's weir_host_api_t):
 * every entry takes the ctx, which is the first member of a node instance. */
#include <stdlib.h>
#include <string.h>

#include "plugin/params.h"
#include "task/host_api_windows.h"
#include "task/record_abi.h"
#include "task/task.h"
#include "util/log.h"

static weir_node_inst_t *inst_of(weir_ctx_t *ctx) {
  return (weir_node_inst_t *)ctx;
}

/* One call in WEIR_STATS_TIME_EVERY is timed: the others cost a counter. */
static int process_counted(weir_node_inst_t *inst, const weir_record_t *rec) {
  weir_node_stats_t *st = inst->stats;
  if (st->in++ & (WEIR_STATS_TIME_EVERY - 1))
    return inst->impl->op->def.process(&inst->ctx, inst->self, rec);
  uint64_t t0 = weir_stats_now_ns();
  int rc = inst->impl->op->def.process(&inst->ctx, inst->self, rec);
  weir_node_stats_time(st, weir_stats_now_ns() - t0);
  return rc;
}

int weir_node_deliver(weir_node_inst_t *inst, const weir_record_t *rec) {
  if (inst->node->kind == WEIR_NODE_SINK) {
    inst->stats->in++;
    return weir_sink_produce(inst, rec);
  }
  int rc = process_counted(inst, rec);
  if (rc != WEIR_OK) {
    inst->stats->errors++;
    weir_task_set_error(inst->task, "operator '%s' (plugin %s, type %s) returned error %d",
                        inst->node->name, inst->impl->plugin->ref, inst->impl->op->def.type, rc);
  }
  return rc;
}

int weir_node_deliver_child(weir_node_inst_t *from, size_t c, const weir_record_t *rec) {
  weir_origin_t *o = &from->task->origin;
  int32_t was = o->input; /* depth first: the caller's own input comes back after */
  o->input = from->child_input[c];
  int rc = weir_node_deliver(from->children[c], rec);
  o->input = was;
  return rc;
}

/* Set *in to the record `rec` forwarded by inst's operator as this host
 * reads it (record_abi.h; `full` holds a widened copy). WEIR_OK, or why not. */
static int check_record(weir_node_inst_t *inst, const weir_record_t *rec, weir_record_t *full,
                        const weir_record_t **in) {
  if (!inst->task->in_process) {
    weir_log(&inst->ctx, WEIR_LOG_ERROR, "weir_forward called outside process(); record dropped");
    return WEIR_ESTATE;
  }
  *in = weir_record_import(rec, full, sizeof *full);
  if (!*in)
    weir_task_set_error(inst->task,
                        "operator '%s' (plugin %s, type %s) forwarded %s%u, smaller than the "
                        "ABI 1.0 record (%zu bytes): initialise records with WEIR_RECORD_INIT",
                        inst->node->name, inst->impl->plugin->ref, inst->impl->op->def.type,
                        rec ? "a record with struct_size " : "no record",
                        rec ? rec->struct_size : 0u, (size_t)WEIR_RECORD_SIZE_1_0);
  return *in ? WEIR_OK : WEIR_EINVAL;
}

static int api_forward(weir_ctx_t *ctx, const weir_record_t *rec) {
  weir_node_inst_t *inst = inst_of(ctx);
  weir_record_t full;
  const weir_record_t *in;
  int rc = check_record(inst, rec, &full, &in);
  if (rc != WEIR_OK)
    return rc;
  inst->stats->out++;
  for (size_t c = 0; c < inst->node->child_count; c++) {
    if (inst->node->children[c]->by_name_only)
      continue;
    int child_rc = weir_node_deliver_child(inst, c, in);
    if (child_rc != WEIR_OK && rc == WEIR_OK)
      rc = child_rc;
  }
  return rc;
}

static int api_forward_to(weir_ctx_t *ctx, const char *child, const weir_record_t *rec) {
  weir_node_inst_t *inst = inst_of(ctx);
  weir_record_t full;
  const weir_record_t *in;
  int rc = check_record(inst, rec, &full, &in);
  if (rc != WEIR_OK)
    return rc;
  for (size_t c = 0; c < inst->node->child_count; c++)
    if (child && strcmp(inst->node->children[c]->name, child) == 0) {
      inst->stats->out++;
      return weir_node_deliver_child(inst, c, in);
    }
  return WEIR_ENOENT;
}

static const weir_param_value_t *param(weir_ctx_t *ctx, const char *name) {
  const weir_node_t *impl = inst_of(ctx)->impl;
  return name ? weir_params_find(&impl->params, name) : NULL;
}

static const char *api_param_str(weir_ctx_t *ctx, const char *name) {
  const weir_param_value_t *v = param(ctx, name);
  return v ? v->text : NULL;
}

static int64_t api_param_int(weir_ctx_t *ctx, const char *name) {
  const weir_param_value_t *v = param(ctx, name);
  return v && v->text ? v->i : 0;
}

static double api_param_double(weir_ctx_t *ctx, const char *name) {
  const weir_param_value_t *v = param(ctx, name);
  return v && v->text ? v->d : 0.0;
}

static int api_param_bool(weir_ctx_t *ctx, const char *name) {
  const weir_param_value_t *v = param(ctx, name);
  return v && v->text ? v->i != 0 : 0;
}

static int api_log_enabled(weir_ctx_t *ctx, int level) {
  return weir_log_enabled_at(level);
}

static void api_log(weir_ctx_t *ctx, int level, const char *message) {
  weir_node_inst_t *inst = inst_of(ctx);
  weir_logf_at(level, inst->task->id, inst->node->name, "%s", message ? message : "");
}

static const weir_origin_t *api_origin(weir_ctx_t *ctx) {
  static const weir_origin_t none = {sizeof(weir_origin_t), -1, NULL, -1, -1};
  weir_node_inst_t *inst = inst_of(ctx);
  return inst->task->in_process ? &inst->task->origin : &none;
}

static int64_t api_stream_time(weir_ctx_t *ctx) {
  return inst_of(ctx)->task->stream_time;
}

/* Names are compared by content and copied on first use: the plugin's string
 * may be gone later (an instance outlives the staged copy that a hot swap
 * unloads), so the host never keeps the pointer it was given. */
static void api_metric_add(weir_ctx_t *ctx, const char *name, int64_t delta) {
  weir_node_inst_t *inst = inst_of(ctx);
  if (!name)
    return;
  for (size_t i = 0; i < inst->metric_count; i++)
    if (strcmp(inst->metrics[i].name, name) == 0) {
      inst->metrics[i].value += delta;
      return;
    }
  /* First use of a name: the only allocations, once per name and instance. */
  weir_node_metric_t *grown = realloc(inst->metrics, (inst->metric_count + 1) * sizeof *grown);
  if (!grown)
    return;
  inst->metrics = grown;
  char *copy = strdup(name);
  if (!copy)
    return;
  inst->metrics[inst->metric_count].name = copy;
  inst->metrics[inst->metric_count].value = delta;
  inst->metric_count++;
}

void weir_node_metrics_free(weir_node_inst_t *inst) {
  for (size_t i = 0; i < inst->metric_count; i++)
    free(inst->metrics[i].name);
  free(inst->metrics);
  inst->metrics = NULL;
  inst->metric_count = 0;
}

static const char *api_node_name(weir_ctx_t *ctx) {
  return inst_of(ctx)->node->name;
}
static const char *api_task_id(weir_ctx_t *ctx) {
  return inst_of(ctx)->task->id;
}
static size_t api_child_count(weir_ctx_t *ctx) {
  return inst_of(ctx)->node->child_count;
}

static const char *api_child_name(weir_ctx_t *ctx, size_t index) {
  const weir_node_t *node = inst_of(ctx)->node;
  return index < node->child_count ? node->children[index]->name : NULL;
}

static size_t api_input_count(weir_ctx_t *ctx) {
  return inst_of(ctx)->node->input_count;
}

static const char *api_input_name(weir_ctx_t *ctx, size_t index) {
  const weir_node_t *node = inst_of(ctx)->node;
  return index < node->input_count ? node->inputs[index]->name : NULL;
}

static weir_store_t *api_store_get(weir_ctx_t *ctx, const char *name) {
  weir_node_inst_t *inst = inst_of(ctx);
  return weir_task_store_get(inst->task, inst->node, name);
}

static int api_buf_write(weir_buf_t *buf, const void *data, size_t len) {
  return weir_buf_append((weir_state_buf_t *)buf, data, len) ? WEIR_ENOMEM : WEIR_OK;
}

const weir_host_api_t weir_host_api_v1 = {
    .struct_size = sizeof(weir_host_api_t),
    .abi_major = WEIR_ABI_MAJOR,
    .abi_minor = WEIR_ABI_MINOR,
    .forward = api_forward,
    .forward_to = api_forward_to,
    .param_str = api_param_str,
    .param_int = api_param_int,
    .param_double = api_param_double,
    .param_bool = api_param_bool,
    .log_enabled = api_log_enabled,
    .log = api_log,
    .origin = api_origin,
    .stream_time = api_stream_time,
    .metric_add = api_metric_add,
    .node_name = api_node_name,
    .task_id = api_task_id,
    .child_count = api_child_count,
    .child_name = api_child_name,
    .store_get = api_store_get,
    .kv_get = weir_api_kv_get,
    .kv_put = weir_api_kv_put,
    .kv_delete = weir_api_kv_delete,
    .kv_range = weir_api_kv_range,
    .kv_prefix = weir_api_kv_prefix,
    .iter_next = weir_api_iter_next,
    .iter_close = weir_api_iter_close,
    .buf_write = api_buf_write,
    .timer_schedule = weir_api_timer_schedule,
    .timer_cancel = weir_api_timer_cancel,
    .store_count = weir_api_store_count,
    .store_name = weir_api_store_name,
    .store_kind = weir_api_store_kind,
    .window_put = weir_api_window_put,
    .window_fetch = weir_api_window_fetch,
    .window_fetch_all = weir_api_window_fetch_all,
    .session_find = weir_api_session_find,
    .session_put = weir_api_session_put,
    .session_remove = weir_api_session_remove,
    .iter_window = weir_api_iter_window,
    .input_count = api_input_count,
    .input_name = api_input_name,
};
