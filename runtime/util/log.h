/* log — the host's logger: one line per event on stderr, with time and level. */
#ifndef WEIR_UTIL_LOG_H
#define WEIR_UTIL_LOG_H

#include <weir/weir.h>

/* Parse "error|warn|info|debug"; returns -1 when unknown. */
int weir_log_level_parse(const char *name);
void weir_log_set_level(int level);
int weir_log_level(void);
static inline int weir_log_enabled_at(int level) { return level <= weir_log_level(); }

void weir_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define WEIR_ERROR(...) weir_logf(WEIR_LOG_ERROR, __VA_ARGS__)
#define WEIR_WARN(...) weir_logf(WEIR_LOG_WARN, __VA_ARGS__)
#define WEIR_INFO(...) weir_logf(WEIR_LOG_INFO, __VA_ARGS__)
#define WEIR_DEBUG(...)                                                        \
  do {                                                                         \
    if (weir_log_enabled_at(WEIR_LOG_DEBUG))                                   \
      weir_logf(WEIR_LOG_DEBUG, __VA_ARGS__);                                  \
  } while (0)

#endif
