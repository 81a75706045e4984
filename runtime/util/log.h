/* log — the host's logger: one line per event on stderr, with time and
 * level; as text, or as one JSON object per line (log.format = json) for
 * log shippers; or handed to a callback an embedding program supplies. */
#ifndef WEIR_UTIL_LOG_H
#define WEIR_UTIL_LOG_H

#include <weir/weir.h>

/* Parse "error|warn|info|debug"; returns -1 when unknown. */
int weir_log_level_parse(const char *name);
void weir_log_set_level(int level);
int weir_log_level(void);
static inline int weir_log_enabled_at(int level) {
  return level <= weir_log_level();
}

enum { WEIR_LOG_TEXT = 0, WEIR_LOG_JSON = 1 };
/* Parse "text|json"; returns -1 when unknown. */
int weir_log_format_parse(const char *name);
void weir_log_set_format(int format);

/* Where a log event goes instead of stderr (NULL: back to stderr). Called
 * on the logging thread; `task` and `node` may be NULL. */
typedef void (*weir_log_sink_fn)(void *user, int level, const char *thread, const char *task,
                                 const char *node, const char *message);
void weir_log_set_sink(weir_log_sink_fn fn, void *user);

/* The name the calling thread logs under ("stream-2"); copied. */
void weir_log_set_thread_name(const char *name);

/* 1 when events do not go to stderr as text (JSON, or a sink). */
int weir_log_routed(void);

void weir_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for an event of one task and node (an operator's weir_log). */
void weir_logf_at(int level, const char *task, const char *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define WEIR_ERROR(...) weir_logf(WEIR_LOG_ERROR, __VA_ARGS__)
#define WEIR_WARN(...) weir_logf(WEIR_LOG_WARN, __VA_ARGS__)
#define WEIR_INFO(...) weir_logf(WEIR_LOG_INFO, __VA_ARGS__)
#define WEIR_DEBUG(...)                                                                            \
  do {                                                                                             \
    if (weir_log_enabled_at(WEIR_LOG_DEBUG))                                                       \
      weir_logf(WEIR_LOG_DEBUG, __VA_ARGS__);                                                      \
  } while (0)

#endif
