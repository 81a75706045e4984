/* print — what libweir writes for its caller (weir/runtime.h, 1.1): lines
 * in weir's own log, and record bytes as weir prints them. */
#include <weir/runtime.h>

#include <stdarg.h>
#include <stdio.h>

#include "serde/serde.h"
#include "util/log.h"

#define PUBLIC __attribute__((visibility("default")))

PUBLIC void weir_runtime_log(int level, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  if (!fmt || level > weir_log_level())
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  weir_logf(level, "%s", msg);
}

PUBLIC int weir_runtime_print_value(const char *serde, const void *data, size_t len, FILE *out) {
  weir_serde_t s;
  if (weir_serde_parse(serde, &s))
    return -1;
  if (out)
    weir_serde_print(s, data, len, out);
  return 0;
}
