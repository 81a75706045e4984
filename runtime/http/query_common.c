/* query_common — what every store query does: find the store, read a key
 * from its text, find its partition, check that this process runs the
 * partition before and after a read, and hand a query to the instance that
 * does. */
#include "http/query_common.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/directory.h"

const weir_store_decl_t *weir_query_find_store(const weir_http_env_t *env, const char *name,
                                               size_t len, weir_http_resp_t *r) {
  const weir_topology_t *t = env->topo;
  for (size_t i = 0; i < t->store_count; i++)
    if (strlen(t->stores[i].name) == len && memcmp(t->stores[i].name, name, len) == 0) {
      const weir_store_decl_t *d = &t->stores[i];
      if ((d->subtopology < 0 && !d->global_topic) || !env->state_db) {
        weir_http_error(r, 404, "store '%s' is used by no operator, so it holds nothing", d->name);
        return NULL;
      }
      if (d->in_memory) { /* its rows are on the stream threads; queries read RocksDB */
        weir_http_error(r, 501,
                        "store '%s' is in memory (backend = memory) and queries read RocksDB "
                        "stores only: set backend = rocksdb in [store:%s] to query it",
                        d->name, d->name);
        return NULL;
      }
      return d;
    }
  weir_http_error(r, 404, "no store '%.*s' (GET /v1/stores lists them)",
                  (int)(len > 200 ? 200 : len), name);
  return NULL;
}

/* The bytes a key is stored as, from its text by the store's key serde:
 * int64 a decimal number, anything else the text itself. 0 or -1 (400). */
int weir_query_parse_key(const weir_store_decl_t *d, const char *text, unsigned char *out,
                         size_t *len, const char *what, weir_http_resp_t *r) {
  char why[200];
  size_t n = strlen(text);
  if (d->key_serde == WEIR_SERDE_INT64) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno) {
      weir_http_error(r, 400, "%s: store '%s' has int64 keys: give a decimal number", what,
                      d->name);
      return -1;
    }
    weir_int64_encode(v, out);
    *len = 8;
    return 0;
  }
  if (n > WEIR_QUERY_KEY_MAX) {
    weir_http_error(r, 400, "%s: longer than %d bytes", what, WEIR_QUERY_KEY_MAX);
    return -1;
  }
  if (weir_serde_check(d->key_serde, text, n, why, sizeof why)) {
    weir_http_error(r, 400, "%s is not %s: %s", what, weir_serde_name(d->key_serde), why);
    return -1;
  }
  memcpy(out, text, n);
  *len = n;
  return 0;
}

/* 0 with the slot's generation when this process runs the partition; else
 * a 503 in `r` saying why. */
int weir_query_runs_here(const weir_http_env_t *env, const weir_store_decl_t *d, int32_t p,
                         unsigned *gen, weir_http_resp_t *r) {
  weir_own_slot_t *s = weir_ownership_slot(env->owners, d->subtopology, p);
  if (!s) {
    weir_http_error(r, 503, "store '%s': partition %d is unknown here", d->name, (int)p);
  } else {
    *gen = atomic_load(&s->gen);
    int state = atomic_load(&s->state);
    if (state == WEIR_OWN_RUNNING && !(*gen & 1))
      return 0;
    if (state == WEIR_OWN_RESTORING)
      weir_http_error(r, 503,
                      "store '%s' partition %d is restoring (%lld of %lld records): ask "
                      "again shortly",
                      d->name, (int)p, (long long)atomic_load(&s->restore_done),
                      (long long)atomic_load(&s->restore_total));
    else
      weir_http_error(r, 503,
                      "store '%s' partition %d is not run by this instance (owned "
                      "elsewhere, or moving in a rebalance): ask its owner, or again shortly",
                      d->name, (int)p);
  }
  r->retry_after = WEIR_QUERY_RETRY_S;
  return -1;
}

/* 0 when the partition's owner and state did not change since `gen`. */
int weir_query_still_here(const weir_http_env_t *env, const weir_store_decl_t *d, int32_t p,
                          unsigned gen, weir_http_resp_t *r) {
  weir_own_slot_t *s = weir_ownership_slot(env->owners, d->subtopology, p);
  if (atomic_load(&s->gen) == gen)
    return 0;
  weir_http_error(r, 503, "store '%s' partition %d moved while it was read: ask again", d->name,
                  (int)p);
  r->retry_after = WEIR_QUERY_RETRY_S;
  return -1;
}

void weir_query_answer_head(const weir_http_env_t *env, const weir_store_decl_t *d,
                            weir_http_resp_t *r) {
  weir_out_str(&r->body, "{\"store\":");
  weir_out_json_string(&r->body, d->name, strlen(d->name));
  weir_out_str(&r->body, ",\"served_by\":");
  if (env->advertise)
    weir_out_json_string(&r->body, env->advertise, strlen(env->advertise));
  else
    weir_out_str(&r->body, "null");
}

/* The partition is not here: when the group says which instance has it,
 * hand the query to that one (once: a forwarded query is not forwarded
 * again). `r` keeps its 503 otherwise. */
void weir_query_forward(const weir_http_env_t *env, const weir_http_req_t *req,
                        const weir_store_decl_t *d, int32_t p, const char *text, const char *tail,
                        weir_http_resp_t *r) {
  char owner[128], why[256];
  weir_own_slot_t *s = weir_ownership_slot(env->owners, d->subtopology, p);
  if (!env->directory || req->forwarded || !s || atomic_load(&s->state) != WEIR_OWN_NONE)
    return;
  if (weir_directory_owner(env->directory, d->subtopology, p, owner, sizeof owner, why,
                           sizeof why)) {
    weir_http_error(r, 503, "store '%s' partition %d: owner unknown: %s", d->name, (int)p, why);
    r->retry_after = WEIR_QUERY_RETRY_S;
    return;
  }
  if (env->advertise && strcmp(owner, env->advertise) == 0)
    return; /* ours in the group, not open yet: the 503 stands */
  weir_out_t path = {0};
  weir_out_str(&path, "/v1/stores/");
  weir_out_url_encode(&path, d->name);
  weir_out_str(&path, "/keys/");
  weir_out_url_encode(&path, text);
  if (tail)
    weir_out_str(&path, tail);
  r->forward_to = path.failed ? NULL : strdup(owner);
  if (!r->forward_to) {
    weir_out_free(&r->body);
    weir_http_error(r, 500, "out of memory");
    weir_out_free(&path);
    return;
  }
  r->forward_path = path.data; /* the server forwards it (server.c) */
}

int weir_query_partition(const weir_http_env_t *env, const weir_store_decl_t *d, const void *key,
                         size_t len, int32_t *p, weir_http_resp_t *r) {
  int32_t parts = env->owners->partitions[d->subtopology];
  if (parts <= 0) {
    weir_http_error(r, 503, "store '%s': its partition count is not known yet", d->name);
    r->retry_after = WEIR_QUERY_RETRY_S;
    return -1;
  }
  *p = rd_kafka_msg_partitioner_murmur2_random(NULL, key, len, parts, NULL, NULL);
  return 0;
}

/* A partition list for an answer, "0,3,4". */
static void list_add(char *list, size_t size, int32_t p) {
  size_t used = strlen(list);
  snprintf(list + used, size - used, "%s%d", used ? "," : "", (int)p);
}

int weir_query_each_partition(const weir_http_env_t *env, const weir_store_decl_t *d,
                              weir_query_read_fn read, void *arg, char *here, size_t here_size,
                              char *elsewhere, size_t elsewhere_size, weir_http_resp_t *r) {
  here[0] = elsewhere[0] = '\0';
  for (int32_t p = 0; p < env->owners->partitions[d->subtopology]; p++) {
    weir_own_slot_t *s = weir_ownership_slot(env->owners, d->subtopology, p);
    if (atomic_load(&s->state) == WEIR_OWN_NONE) {
      list_add(elsewhere, elsewhere_size, p);
      continue;
    }
    if (read(p, arg))
      return -1;
    list_add(here, here_size, p);
  }
  if (here[0])
    return 0;
  weir_http_error(r, 503,
                  "store '%s': no partition of it runs on this instance now: ask another "
                  "instance, or again shortly",
                  d->name);
  r->retry_after = WEIR_QUERY_RETRY_S;
  return -1;
}
