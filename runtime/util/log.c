#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static atomic_int current_level = WEIR_LOG_INFO;

int weir_log_level_parse(const char *name) {
  static const struct {
    const char *name;
    int level;
  } levels[] = {{"error", WEIR_LOG_ERROR}, {"warn", WEIR_LOG_WARN}, {"warning", WEIR_LOG_WARN},
                {"info", WEIR_LOG_INFO},   {"debug", WEIR_LOG_DEBUG}};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
    if (strcasecmp(name, levels[i].name) == 0)
      return levels[i].level;
  return -1;
}

void weir_log_set_level(int level) { atomic_store(&current_level, level); }
int weir_log_level(void) { return atomic_load_explicit(&current_level, memory_order_relaxed); }

static const char *level_name(int level) {
  switch (level) {
  case WEIR_LOG_ERROR: return "ERROR";
  case WEIR_LOG_WARN: return "WARN";
  case WEIR_LOG_INFO: return "INFO";
  default: return "DEBUG";
  }
}

void weir_logf(int level, const char *fmt, ...) {
  char msg[2048];
  char stamp[32];
  struct timespec ts;
  struct tm tm;
  va_list ap;
  if (level > weir_log_level())
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  /* One fprintf per line: stdio locks the stream, so lines from several
   * threads never interleave. */
  fprintf(stderr, "%s.%03ldZ %-5s %s\n", stamp, ts.tv_nsec / 1000000L, level_name(level), msg);
}
