/* log — writes each record as one line through the host's logger (INFO),
 * then forwards it unchanged, so it can sit anywhere in a pipeline:
 *
 *   PREFIX topic/partition@offset key="k" value="v" ts=1700000000000
 *
 * The host's logger already starts the line with "[node task]", so the
 * operator does not repeat them. Bytes outside printable ASCII are escaped
 * (\n, \t, \xNN, and \" \\), a NULL key or tombstone value prints as null,
 * and a field longer than max.bytes is cut and followed by ...(+N bytes).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "std_ops.h"
#include "std_util.h"

static const weir_param_def_t log_params[] = {
    WEIR_PARAM_STR("prefix", NULL,
                   "Text at the start of every line (to tell several log nodes apart)"),
    WEIR_PARAM_INT("max.bytes", "200", 0, 65536, "Print at most this many bytes of a key or value"),
    WEIR_PARAM_END,
};

/* Room for the escaped bytes (4 each at worst), the quotes and the tail. */
#define LOG_FIELD_SIZE(max) ((max)*4 + 48)

typedef struct log_op {
  const char *prefix; /* host-owned, valid until close */
  size_t max_bytes;
  char *key_text, *value_text; /* LOG_FIELD_SIZE(max_bytes) each */
} log_op_t;

static int log_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  log_op_t *l = calloc(1, sizeof *l);
  int64_t max = weir_param_int(ctx, "max.bytes");
  if (l) {
    l->max_bytes = max > 0 ? (size_t)max : 0;
    l->key_text = malloc(LOG_FIELD_SIZE(l->max_bytes));
    l->value_text = malloc(LOG_FIELD_SIZE(l->max_bytes));
  }
  if (!l || !l->key_text || !l->value_text) {
    if (l) {
      free(l->key_text);
      free(l->value_text);
    }
    free(l);
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  const char *prefix = weir_param_str(ctx, "prefix");
  l->prefix = prefix ? prefix : "";
  *self = l;
  return WEIR_OK;
}

static char *log_escape_byte(char *o, unsigned char c) {
  static const char hex[] = "0123456789abcdef";
  if (c == '"' || c == '\\') {
    *o++ = '\\';
    *o++ = (char)c;
  } else if (c == '\n' || c == '\t' || c == '\r') {
    *o++ = '\\';
    *o++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
  } else if (c >= 0x20 && c < 0x7f) {
    *o++ = (char)c;
  } else {
    *o++ = '\\';
    *o++ = 'x';
    *o++ = hex[c >> 4];
    *o++ = hex[c & 15];
  }
  return o;
}

/* Writes the field as "escaped text", null, or "cut text"...(+N bytes). */
static void log_format_field(char *out, const void *bytes, size_t len, size_t max) {
  if (!bytes) {
    strcpy(out, "null");
    return;
  }
  const unsigned char *b = bytes;
  size_t shown = len < max ? len : max;
  char *o = out;
  *o++ = '"';
  for (size_t i = 0; i < shown; i++)
    o = log_escape_byte(o, b[i]);
  *o++ = '"';
  if (shown < len)
    o += sprintf(o, "...(+%zu bytes)", len - shown);
  *o = '\0';
}

static int log_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  log_op_t *l = self;
  if (weir_log_enabled(ctx, WEIR_LOG_INFO)) {
    const weir_origin_t *o = weir_origin(ctx);
    log_format_field(l->key_text, rec->key, rec->key_len, l->max_bytes);
    log_format_field(l->value_text, rec->value, rec->value_len, l->max_bytes);
    weir_log(ctx, WEIR_LOG_INFO, "%s%s%s/%" PRId32 "@%" PRId64 " key=%s value=%s ts=%" PRId64,
             l->prefix, *l->prefix ? " " : "", o && o->topic ? o->topic : "-",
             o ? o->partition : -1, o ? o->offset : -1, l->key_text, l->value_text, rec->timestamp);
  }
  return weir_forward(ctx, rec);
}

static void log_close(weir_ctx_t *ctx, void *self) {
  log_op_t *l = self;
  free(l->key_text);
  free(l->value_text);
  free(l);
}

const weir_operator_def_t std_log_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "log",
    .doc = "Log each record (key, value, timestamp, origin) at INFO, then forward it unchanged",
    .params = log_params,
    .init = log_init,
    .process = log_process,
    .close = log_close,
};
