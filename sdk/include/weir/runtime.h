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
 * when a call here changes incompatibly; a MINOR adds calls, and fields at
 * the end of the struct_size-versioned structs (a program built against an
 * older MINOR passes its smaller struct and gets the defaults). Link with
 * `pkg-config --libs weir` or CMake's `find_package(weir)` / `weir::weir`.
 * The weir command is itself a program on this header.
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
#include <stdio.h>
#include <weir/weir.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEIR_RUNTIME_API_MAJOR 1
#define WEIR_RUNTIME_API_MINOR 1

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
  /* Padding in 1.0 (whatever a 1.0 program left there): never read. A
   * field added later starts past the 1.0 size, so struct_size alone tells
   * which fields a caller has. */
  int reserved_1_0;
  /* 1.1: 1 to speak systemd's notify protocol when $NOTIFY_SOCKET is set,
   * as `weir run` does: READY=1 once every stream thread runs its tasks,
   * WATCHDOG=1 while every thread's loop turns (within $WATCHDOG_USEC),
   * STOPPING=1 when the stop begins. One such runtime per process. */
  int systemd_notify;
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

/* 1.1: the same, with `trigger` naming what asked in the line weir logs
 * for the reload ("SIGHUP" for the weir command); NULL: as above. */
int weir_runtime_reload_from(weir_runtime_t *rt, const char *trigger, char *report,
                             size_t report_size);

/* Ask it to stop (drain, flush, commit); returns at once. */
void weir_runtime_stop(weir_runtime_t *rt);

/* Wait up to timeout_ms (-1: forever) for it to stop, asked or after a
 * failure: 1 once its threads have drained, flushed, committed and ended,
 * 0 when not yet (the bound holds while a stop is under way too, so a
 * program can give up on a stuck shutdown). */
int weir_runtime_wait(weir_runtime_t *rt, int timeout_ms);

typedef enum { WEIR_RUNTIME_RUNNING = 0, WEIR_RUNTIME_STOPPED = 1 } weir_runtime_status_t;

typedef struct weir_runtime_state {
  uint32_t struct_size; /* sizeof(weir_runtime_state_t): set it */
  weir_runtime_status_t status;
  unsigned long long records_processed; /* all stream threads, so far */
  int exit_code;                        /* once stopped: 0 clean, 1 after a failure; -1 before */
  int reserved_1_0;                     /* padding in 1.0: written as 0 */
  int stopping; /* 1.1: 1 once a stop was asked for or a failure began one */
} weir_runtime_state_t;

/* Fills `out` (at most out->struct_size bytes). 0, or -1 on a bad call. */
int weir_runtime_state(weir_runtime_t *rt, weir_runtime_state_t *out);

/* Stop if running, wait, release everything. Returns the exit code (0
 * after a clean stop, 1 after a failure). */
int weir_runtime_free(weir_runtime_t *rt);

/* ------------------------------------------------ 1.1: tools
 * What the weir command's other subcommands are made of. Each reads a
 * topology as weir_runtime_start_file does (opts: overrides, environment;
 * NULL for none) without running it; 0, or -1 with every error, one per
 * line, in errstr. */

/* Check every section, key, value, edge and plugin of an INI file, and
 * start and close each operator once (its init sees its parameters). When
 * valid and `out` is not NULL, writes one line: "PATH: valid (1 source, 2
 * operators, ...; 1 plugin)" (`weir validate`). */
int weir_runtime_validate_file(const char *path, const weir_runtime_options_t *opts, FILE *out,
                               char *errstr, size_t errstr_size);

typedef enum {
  WEIR_RUNTIME_DESCRIBE_TEXT = 0,  /* settings, nodes, edges, stores (secrets as ***) */
  WEIR_RUNTIME_DESCRIBE_DOT = 1,   /* Graphviz: ... | dot -Tsvg */
  WEIR_RUNTIME_DESCRIBE_PARAMS = 2 /* every key each section may hold, operators' own too */
} weir_runtime_describe_format_t;

/* Write an INI file's topology to `out` (`weir describe`). */
int weir_runtime_describe_file(const char *path, const weir_runtime_options_t *opts,
                               weir_runtime_describe_format_t format, FILE *out, char *errstr,
                               size_t errstr_size);

/* Load a plugin file (checked as `plugin = PATH` would be) and write its
 * operators and their parameters to `out` (`weir plugin info`). */
int weir_runtime_describe_plugin(const char *path, FILE *out, char *errstr, size_t errstr_size);

/* Ask the runtime started from `path` in another process (`weir run
 * path`, or a program's weir_runtime_start_file), found by the file's
 * state.dir and application.id, to reload (`weir reload`). 0 when the new
 * version runs or nothing changed, 1 when that runtime refused or could
 * not be reached (`report`: its one-line answer), -1 when `path` itself
 * does not load (`report`: the errors, one per line). */
int weir_runtime_request_reload(const char *path, const weir_runtime_options_t *opts, char *report,
                                size_t report_size);

/* One line in weir's log as weir writes its own: on stderr as text or as
 * JSON (log.format of the last runtime started), or to its log callback;
 * `level` a WEIR_LOG_*, dropped below log.level. */
void weir_runtime_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write bytes as weir prints them for a serde name ("bytes", "string",
 * "int64", "json"): int64 as a decimal number, string and json as text
 * with control characters escaped, bytes as text when printable else hex;
 * NULL data as null. -1 (nothing written) when the name is unknown; `out`
 * NULL only checks the name. */
int weir_runtime_print_value(const char *serde, const void *data, size_t len, FILE *out);

/* ------------------------------------------------ 1.1: development broker
 * librdkafka's mock Kafka cluster on loopback, in this process: what
 * `bootstrap.servers = embedded` and `weir broker` run, for a program's own
 * tests. Memory only, never production: a partition keeps at most 5 MiB
 * or 100,000 message sets and drops the oldest; no Admin API (create
 * topics here); transactions are not faithful. */
typedef struct weir_broker weir_broker_t;

/* Start `brokers` (1..32) brokers. NULL with errstr on failure. */
weir_broker_t *weir_broker_start(int brokers, char *errstr, size_t errstr_size);
/* "127.0.0.1:PORT,...": for bootstrap.servers; valid until stop. */
const char *weir_broker_address(const weir_broker_t *b);
/* Create a topic; an existing one is left as it is. 0, or -1 with errstr. */
int weir_broker_create_topic(weir_broker_t *b, const char *topic, int partitions, char *errstr,
                             size_t errstr_size);
void weir_broker_stop(weir_broker_t *b);

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
