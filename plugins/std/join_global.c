/* join — kind = stream-global: each record of the one input (a stream)
 * looks up a global table ([global:NAME], every partition of its topic in
 * every instance), so the stream and the table need no co-partitioning:
 *
 *   [operator:enriched]
 *   plugin   = std
 *   type     = join
 *   input    = orders
 *   kind     = stream-global
 *   global   = customers           ; the [global:customers] section
 *   key.from = json:customer.id    ; key (default) | json:PATH | regex:PATTERN
 *   join     = left                ; inner | left
 *
 * The lookup key is the record's key (key.from = key), a member of its JSON
 * value (json:PATH: a string's content as written, escapes kept, or a
 * number's or true/false's text; an object, array, null or a missing member
 * is no key), or the first capture group of a regex over its value (the
 * value as bytes; no match, or a group that took no part, is no key). The
 * output key is the stream record's key, its timestamp the record's; the
 * value is built as for the other kinds (value = merge | nest | left |
 * right), the global table's value being the right side. With no key or no
 * row, an inner join emits nothing and a left join the stream value with a
 * null right ("global.misses" counts both). A stream tombstone is skipped
 * ("skipped.null.value"). A table update emits nothing (Kafka Streams'
 * KStream-GlobalKTable join): the table is what the host has applied when
 * the record is processed (weir.h, global tables).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weir/json.h>

#include "join.h"

int join_read_key_from(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size) {
  const char *from = weir_param_str(ctx, "key.from");
  if (!from || strcmp(from, "key") == 0) {
    j->key_from = JOIN_KEY_FROM_KEY;
    return WEIR_OK;
  }
  if (strncmp(from, "json:", 5) == 0 && from[5]) {
    j->key_from = JOIN_KEY_FROM_JSON;
    j->key_path = strdup(from + 5);
    if (!j->key_path) {
      snprintf(errstr, errstr_size, "out of memory");
      return WEIR_ENOMEM;
    }
    return WEIR_OK;
  }
  if (strncmp(from, "regex:", 6) == 0 && from[6]) {
    j->key_from = JOIN_KEY_FROM_REGEX;
    int rc = std_regex_compile(&j->key_re, from + 6, 0, "key.from", errstr, errstr_size);
    if (rc != WEIR_OK)
      return rc;
    j->key_re_set = 1;
    if (j->key_re.re_nsub < 1) {
      snprintf(errstr, errstr_size,
               "key.from = %s has no capture group: the lookup key is the first group, e.g. "
               "regex:customer=([a-z0-9]+)",
               from);
      return WEIR_EINVAL;
    }
    return WEIR_OK;
  }
  snprintf(errstr, errstr_size,
           "key.from = %s: expected key, json:PATH (a member of the JSON value) or "
           "regex:PATTERN (its first capture group over the value)",
           from);
  return WEIR_EINVAL;
}

int join_global_configure(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size) {
  const char *name = weir_param_str(ctx, "global");
  if (weir_input_count(ctx) != 1) {
    snprintf(errstr, errstr_size,
             "kind = stream-global reads one input, the stream (it lists %zu); the table is "
             "global = NAME",
             weir_input_count(ctx));
    return WEIR_EINVAL;
  }
  if (!name || !*name) {
    snprintf(errstr, errstr_size,
             "kind = stream-global needs global = NAME, a [global:NAME] section (topic = T)");
    return WEIR_EINVAL;
  }
  j->global = weir_store_get(ctx, name);
  if (!j->global || weir_store_kind(j->global) != WEIR_STORE_KV) {
    snprintf(errstr, errstr_size,
             "global = %s names no global table: add a [global:%s] section with topic = T", name,
             name);
    return WEIR_ENOENT;
  }
  return join_read_key_from(ctx, j, errstr, errstr_size);
}

void join_global_free(join_op_t *j) {
  free(j->key_path);
  if (j->key_re_set)
    regfree(&j->key_re);
  std_buf_free(&j->subject);
}

int join_key_of(join_op_t *j, const weir_record_t *rec, const void **key, size_t *len) {
  if (j->key_from == JOIN_KEY_FROM_KEY) {
    *key = rec->key;
    *len = rec->key_len;
    return rec->key != NULL;
  }
  if (j->key_from == JOIN_KEY_FROM_JSON) {
    weir_json_value_t v;
    if (weir_json_find(rec->value, rec->value_len, j->key_path, &v) != 1 ||
        v.kind == WEIR_JSON_OBJECT || v.kind == WEIR_JSON_ARRAY || v.kind == WEIR_JSON_NULL)
      return 0;
    *key = v.text;
    *len = v.len;
    return 1;
  }
  const char *s = std_regex_subject(&j->subject, rec->value, rec->value_len);
  if (!s)
    return WEIR_ENOMEM;
  regmatch_t m[2];
  int found = std_regex_find(&j->key_re, s, 0, rec->value_len, 2, m);
  if (found <= 0 || m[1].rm_so < 0)
    return found < 0 ? found : 0;
  *key = s + m[1].rm_so;
  *len = (size_t)(m[1].rm_eo - m[1].rm_so);
  return 1;
}

int join_global_process(weir_ctx_t *ctx, join_op_t *j, const weir_record_t *rec) {
  if (!rec->value) {
    weir_metric_add(ctx, "skipped.null.value", 1);
    return WEIR_OK;
  }
  const void *key = NULL, *v = NULL;
  size_t key_len = 0, len = 0;
  int have = join_key_of(j, rec, &key, &key_len);
  if (have < 0)
    return have;
  int rc = have ? weir_kv_get(j->global, key, key_len, &v, &len) : WEIR_ENOENT;
  if (rc != WEIR_OK && rc != WEIR_ENOENT)
    return rc;
  std_side_t table = {NULL, 0};
  if (rc == WEIR_OK) { /* a store value lasts until the next store call: a child may make one */
    if (std_buf_reserve(&j->scratch, len + 1) != WEIR_OK)
      return WEIR_ENOMEM;
    if (len)
      memcpy(j->scratch.data, v, len);
    table = (std_side_t){j->scratch.data, len};
  } else {
    weir_metric_add(ctx, "global.misses", 1);
    if (j->type == JOIN_INNER)
      return WEIR_OK;
  }
  return join_emit(ctx, j, rec->key, rec->key_len, (std_side_t){rec->value, rec->value_len}, table,
                   rec->timestamp);
}
