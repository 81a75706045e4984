#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static atomic_int current_level = WEIR_LOG_INFO;
static atomic_int current_format = WEIR_LOG_TEXT;
static pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER;
static weir_log_sink_fn sink_fn;
static void *sink_user;
static _Thread_local char thread_name[32];

int weir_log_level_parse(const char *name) {
  static const struct {
    const char *name;
    int level;
  } levels[] = {{"error", WEIR_LOG_ERROR},
                {"warn", WEIR_LOG_WARN},
                {"warning", WEIR_LOG_WARN},
                {"info", WEIR_LOG_INFO},
                {"debug", WEIR_LOG_DEBUG}};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
    if (strcasecmp(name, levels[i].name) == 0)
      return levels[i].level;
  return -1;
}

void weir_log_set_level(int level) {
  atomic_store(&current_level, level);
}
int weir_log_level(void) {
  return atomic_load_explicit(&current_level, memory_order_relaxed);
}

int weir_log_format_parse(const char *name) {
  if (strcasecmp(name, "text") == 0)
    return WEIR_LOG_TEXT;
  if (strcasecmp(name, "json") == 0)
    return WEIR_LOG_JSON;
  return -1;
}

void weir_log_set_format(int format) {
  atomic_store(&current_format, format);
}

void weir_log_set_sink(weir_log_sink_fn fn, void *user) {
  pthread_mutex_lock(&sink_mu);
  sink_fn = fn;
  sink_user = user;
  pthread_mutex_unlock(&sink_mu);
}

void weir_log_set_thread_name(const char *name) {
  snprintf(thread_name, sizeof thread_name, "%s", name ? name : "");
}

int weir_log_routed(void) {
  pthread_mutex_lock(&sink_mu);
  int routed = sink_fn != NULL;
  pthread_mutex_unlock(&sink_mu);
  return routed || atomic_load(&current_format) != WEIR_LOG_TEXT;
}

/* The set name, else the OS thread name ("weir" for threads nobody named). */
static const char *current_thread(void) {
  if (!thread_name[0] && pthread_getname_np(pthread_self(), thread_name, sizeof thread_name))
    snprintf(thread_name, sizeof thread_name, "?");
  return thread_name;
}

static const char *level_name(int level) {
  switch (level) {
  case WEIR_LOG_ERROR: return "ERROR";
  case WEIR_LOG_WARN: return "WARN";
  case WEIR_LOG_INFO: return "INFO";
  default: return "DEBUG";
  }
}

/* `s` as the body of a JSON string: quotes, backslashes and control
 * characters escaped (a message may quote a user's value). */
static size_t json_escape(const char *s, char *out, size_t size) {
  size_t n = 0;
  for (; s && *s && n + 7 < size; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c == '\n') {
      out[n++] = '\\';
      out[n++] = 'n';
    } else if (c < 0x20) {
      n += (size_t)snprintf(out + n, size - n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  out[n] = '\0';
  return n;
}

static void json_field(FILE *out, const char *name, const char *value) {
  char esc[4096];
  if (!value)
    return;
  json_escape(value, esc, sizeof esc);
  fprintf(out, ",\"%s\":\"%s\"", name, esc);
}

static void write_json(const char *stamp, int level, const char *task, const char *node,
                       const char *msg) {
  char line[8192];
  FILE *out = fmemopen(line, sizeof line, "w");
  if (!out)
    return;
  fprintf(out, "{\"time\":\"%s\",\"level\":\"%s\"", stamp, level_name(level));
  json_field(out, "thread", current_thread());
  json_field(out, "task", task);
  json_field(out, "node", node);
  json_field(out, "message", msg);
  fputs("}\n", out);
  fclose(out);
  fputs(line, stderr); /* one write per line: lines never interleave */
}

static void write_text(const char *stamp, int level, const char *task, const char *node,
                       const char *msg) {
  /* One fprintf per line: stdio locks the stream, so lines from several
   * threads never interleave. */
  if (node || task)
    fprintf(stderr, "%s %-5s [%s %s] %s\n", stamp, level_name(level), node ? node : "-",
            task ? task : "-", msg);
  else
    fprintf(stderr, "%s %-5s %s\n", stamp, level_name(level), msg);
}

static void emit(int level, const char *task, const char *node, const char *msg) {
  char stamp[40];
  struct timespec ts;
  struct tm tm;
  pthread_mutex_lock(&sink_mu);
  weir_log_sink_fn fn = sink_fn;
  void *user = sink_user;
  pthread_mutex_unlock(&sink_mu);
  if (fn) {
    fn(user, level, current_thread(), task, node, msg);
    return;
  }
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", ts.tv_nsec / 1000000L);
  if (atomic_load_explicit(&current_format, memory_order_relaxed) == WEIR_LOG_JSON)
    write_json(stamp, level, task, node, msg);
  else
    write_text(stamp, level, task, node, msg);
}

void weir_logf(int level, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  if (level > weir_log_level())
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit(level, NULL, NULL, msg);
}

void weir_logf_at(int level, const char *task, const char *node, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  if (level > weir_log_level())
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit(level, task, node, msg);
}
