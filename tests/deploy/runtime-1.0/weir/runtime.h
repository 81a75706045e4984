/* weir/runtime.h — weir as a library (libweir): run a topology inside your
 * own program.
 *
 *   weir_runtime_register_plugin(my_plugin_entry, err, sizeof err);  // linked-in operators
 *   weir_runtime_t *rt = weir_runtime_start_file("app.ini", &opts, err, sizeof err);
 *   ...                                   // records flow on weir's threads
 *   weir_runtime_stop(rt);                // drain, flush, commit
 *   int code = weir_runtime_free(rt);     // waits; 0 after a clean stop
 *
 * Versioned apart from the plugin SDK: WEIR_RUNTIME_API_MAJOR changes only
 * when a call here changes incompatibly; link with `pkg-config --libs weir`
 * or CMake's `find_package(weir)` / `weir::weir`.
 *
 * Threads: every call may be made from any thread except that
 * weir_runtime_free must not race another call on the same runtime. The
 * log callback runs on weir's threads (stream threads, librdkafka's), so it
 * must be thread-safe and quick.
 */
#ifndef WEIR_RUNTIME_H
#define WEIR_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <weir/weir.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEIR_RUNTIME_API_MAJOR 1
#define WEIR_RUNTIME_API_MINOR 0

/* "0.1.0": the weir release the library is. */
const char *weir_runtime_version(void);

/* Where weir's log events go (instead of stderr). `level` is a WEIR_LOG_*
 * of weir.h (syslog's numbers: 3 error ... 7 debug). `thread` is weir's name
 * for the calling thread ("weir-stream-0"); `task` and `node` are NULL
 * unless the event is an operator's own. Borrowed for the call. */
typedef void (*weir_runtime_log_fn)(void *user, int level, const char *thread, const char *task,
                                    const char *node, const char *message);

typedef struct weir_runtime_options {
  uint32_t struct_size; /* sizeof(weir_runtime_options_t): set it */
  /* "SECTION.KEY=VALUE" overrides, as `weir run --set` (applied last). */
  const char *const *overrides;
  int override_count;
  /* 1: apply WEIR_WEIR__* / WEIR_KAFKA__* environment variables, as the
   * weir command does (INI < environment < overrides). */
  int use_environment;
  /* NULL: log lines on stderr, as the weir command. The callback is
   * process-wide (the last runtime started sets it). */
  weir_runtime_log_fn log;
  void *log_user;
  int shutdown_timeout_ms; /* bound on each flush/commit/close step; 0: 10000 */
} weir_runtime_options_t;

typedef struct weir_runtime weir_runtime_t;

/* Operators linked into the program: `entry` is a function made by
 * WEIR_STATIC_PLUGIN (below) returning the same descriptor a plugin .so
 * exports. An INI's `plugin = NAME` finds it before any .so. Checked as a
 * .so is (ABI, operators, parameter tables); 0, or -1 with errstr. Call it
 * before starting a runtime that uses it; registering a name twice fails. */
int weir_runtime_register_plugin(weir_plugin_entry_fn entry, char *errstr, size_t errstr_size);

/* Start the topology of an INI file, or of INI text (`name` names it in
 * errors). Returns once every stream thread runs; NULL with every error,
 * one per line, in errstr (file:line, what to do). */
weir_runtime_t *weir_runtime_start_file(const char *path, const weir_runtime_options_t *opts,
                                        char *errstr, size_t errstr_size);
weir_runtime_t *weir_runtime_start_text(const char *name, const char *ini_text,
                                        const weir_runtime_options_t *opts, char *errstr,
                                        size_t errstr_size);

/* Hot reload, as `weir reload` or SIGHUP for the weir command: re-reads
 * the file (a runtime started from a file only), applies the same
 * overrides, and swaps in new plugin builds and changed parameters while
 * records flow. 0 when the new version runs or nothing changed, -1 when
 * refused (the running version stays); `report` says which, one line. A
 * runtime started from a file also answers `weir reload FILE` and reloads
 * a rebuilt plugin file by itself, as `weir run` does. */
int weir_runtime_reload(weir_runtime_t *rt, char *report, size_t report_size);

/* Ask it to stop (drain, flush, commit); returns at once. */
void weir_runtime_stop(weir_runtime_t *rt);

/* Wait up to timeout_ms (-1: forever) for it to stop, asked or after a
 * failure. 1 when stopped, 0 when still running. */
int weir_runtime_wait(weir_runtime_t *rt, int timeout_ms);

typedef enum { WEIR_RUNTIME_RUNNING = 0, WEIR_RUNTIME_STOPPED = 1 } weir_runtime_status_t;

typedef struct weir_runtime_state {
  uint32_t struct_size; /* sizeof(weir_runtime_state_t): set it */
  weir_runtime_status_t status;
  unsigned long long records_processed; /* all stream threads, so far */
  int exit_code;                        /* once stopped: 0 clean, 1 after a failure; -1 before */
} weir_runtime_state_t;

/* Fills `out` (at most out->struct_size bytes). 0, or -1 on a bad call. */
int weir_runtime_state(weir_runtime_t *rt, weir_runtime_state_t *out);

/* Stop if running, wait, release everything. Returns the exit code (0
 * after a clean stop, 1 after a failure). */
int weir_runtime_free(weir_runtime_t *rt);

/* A linked-in plugin: like WEIR_PLUGIN, but the entry function gets a name
 * of your choosing, so several can live in one program:
 *   WEIR_STATIC_PLUGIN(my_ops_entry, "myops", "1.0.0", "doc", &op_a, &op_b)
 *   weir_runtime_register_plugin(my_ops_entry, err, sizeof err); */
#define WEIR_STATIC_PLUGIN(fn_, name_, version_, doc_, ...)                                        \
  static const weir_plugin_desc_t *fn_(void) {                                                     \
    static const weir_operator_def_t *const weir_ops_[] = {__VA_ARGS__, NULL};                     \
    static const weir_plugin_desc_t weir_desc_ = {WEIR_ABI_MAJOR,                                  \
                                                  WEIR_ABI_MINOR,                                  \
                                                  (uint32_t)sizeof(weir_plugin_desc_t),            \
                                                  (name_),                                         \
                                                  (version_),                                      \
                                                  (doc_),                                          \
                                                  weir_ops_,                                       \
                                                  NULL};                                           \
    return &weir_desc_;                                                                            \
  }

#ifdef __cplusplus
}
#endif
#endif
