#include "http/tasks_view.h"

#include <string.h>

static const char *state_name(int s) {
  return s == WEIR_OWN_RUNNING ? "running" : s == WEIR_OWN_RESTORING ? "restoring" : "none";
}

void weir_tasks_view_handle(const weir_http_env_t *env, weir_http_resp_t *r) {
  const weir_ownership_t *w = env->owners;
  weir_out_t *o = &r->body;
  int n = 0;
  weir_out_printf(o, "{\"processed\":%llu,\"served_by\":", env->processed(env->app));
  if (env->advertise)
    weir_out_json_string(o, env->advertise, strlen(env->advertise));
  else
    weir_out_str(o, "null");
  weir_out_str(o, ",\"tasks\":[");
  for (int sub = 0; sub < w->subtopologies; sub++)
    for (int32_t p = 0; p < w->partitions[sub]; p++) {
      weir_own_slot_t *s = &w->slots[sub][p];
      int state = atomic_load(&s->state);
      if (state == WEIR_OWN_NONE)
        continue;
      weir_out_printf(
          o,
          "%s{\"id\":\"%d_%d\",\"subtopology\":%d,\"partition\":%d,\"state\":\"%s\","
          "\"thread\":%d,\"stream_time\":%lld,\"lag\":%lld,\"buffered\":%lld,"
          "\"position\":%lld,\"restore_done\":%lld,\"restore_total\":%lld}",
          n++ ? "," : "", sub, (int)p, sub, (int)p, state_name(state), atomic_load(&s->thread),
          (long long)atomic_load(&s->stream_time), (long long)atomic_load(&s->lag),
          (long long)atomic_load(&s->buffered), (long long)atomic_load(&s->position),
          (long long)atomic_load(&s->restore_done), (long long)atomic_load(&s->restore_total));
    }
  weir_out_str(o, "]}\n");
}
