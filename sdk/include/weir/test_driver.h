/*
 * test_driver.h — run a weir topology in-process, without Kafka, to unit-test
 * operators (what Kafka Streams' TopologyTestDriver is to a Java topology).
 *
 * The driver builds the topology from INI text exactly as `weir run` does
 * (the same validation, plugins, parameters, stores and repartitions) and
 * runs one task per sub-topology on the calling thread: piping a record
 * into a source topic processes it at once, through every operator, and
 * what reaches a sink topic can be read back. Stores are real (RocksDB, in a
 * temporary directory removed by weir_test_driver_close), with their write
 * caches; repartition topics feed the next sub-topology right away;
 * changelog topics are not written (there is no Kafka). A global table
 * ([global:NAME]) starts empty; a record piped into its topic updates it at
 * once (a tombstone deletes), and every operator's next read sees it.
 *
 * Time: stream time is the largest record timestamp piped so far (as the
 * sources' `timestamp =` reads it), per task, as in `weir run`;
 * weir_test_driver_advance_stream_time() moves it on. Stream-time timers
 * fire after the record that makes them due, as in `weir run`; wall-clock
 * timers only when weir_test_driver_advance_wall_clock() moves the driver's
 * wall clock. That clock is the driver's own (it starts at 0): advancing it past
 * commit.interval.ms commits, as `weir run` does every commit.interval.ms —
 * operators' flush() run (emit-on-commit outputs appear) and the stores'
 * caches are written. weir_test_driver_commit() commits at once.
 *
 * Link with `pkg-config --cflags --libs weir-test-driver`, or with CMake:
 * find_package(weir-sdk) and target_link_libraries(t weir::test_driver).
 * Not thread-safe: one driver, one thread.
 *
 *   char err[512];
 *   weir_test_driver_t *td = weir_test_driver_open(ini_text, "build/plugins", err, sizeof err);
 *   weir_test_driver_pipe(td, "lines", NULL, 0, "a b a", 5, 1000);
 *   weir_test_driver_commit(td);
 *   const weir_test_record_t *out;
 *   size_t n = weir_test_driver_read(td, "counts", &out);
 *   weir_test_driver_close(td);
 */
#ifndef WEIR_TEST_DRIVER_H
#define WEIR_TEST_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <weir/weir.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weir_test_driver weir_test_driver_t;

/* A record that reached a sink topic. Owned by the driver: valid until the
 * next weir_test_driver_read() of the same topic or close(). key/value are
 * NUL-terminated copies (the NUL not counted); value NULL = a tombstone. */
typedef struct weir_test_record {
  const char *key; /* NULL when the record has no key */
  size_t key_len;
  const char *value;
  size_t value_len;
  int64_t timestamp;
  const weir_header_t *headers;
  size_t header_count;
} weir_test_record_t;

/*
 * Build and open the topology in `ini` (the text of an INI file).
 * plugin_dir: where `plugin = NAME` is looked up first (may be NULL: the
 * INI's plugin.dir, then the usual search). bootstrap.servers is not used.
 * Returns NULL with one line per problem in errstr (the same lines `weir
 * validate` prints, naming "test-driver.ini:LINE").
 */
weir_test_driver_t *weir_test_driver_open(const char *ini, const char *plugin_dir, char *errstr,
                                          size_t errstr_size);

/* Close every operator (close()), remove the stores' directory, free. */
void weir_test_driver_close(weir_test_driver_t *td);

/*
 * Process one record read from source topic `topic`, and whatever it causes
 * downstream, before returning. Headers may be NULL. Returns WEIR_OK, or the
 * error the topology's policies turn it into (processing.error.policy =
 * fail: WEIR_EFAIL, with the reason in weir_test_driver_error()). A global
 * table's topic updates the table (nothing is processed). A topic no source
 * and no global table reads is WEIR_ENOENT.
 */
int weir_test_driver_pipe(weir_test_driver_t *td, const char *topic, const void *key,
                          size_t key_len, const void *value, size_t value_len, int64_t timestamp);
int weir_test_driver_pipe_headers(weir_test_driver_t *td, const char *topic, const void *key,
                                  size_t key_len, const void *value, size_t value_len,
                                  int64_t timestamp, const weir_header_t *headers,
                                  size_t header_count);

/* The records that reached sink topic `topic` since the last read of it,
 * in order. Returns how many; *records is valid as described above. The
 * dead-letter topic is readable too. */
size_t weir_test_driver_read(weir_test_driver_t *td, const char *topic,
                             const weir_test_record_t **records);

/* Commit now: every operator's flush(), then the stores' caches. */
int weir_test_driver_commit(weir_test_driver_t *td);

/* Advance the driver's wall clock by `ms` and read it. The wall-clock
 * timers due by then fire (each once, with the new wall clock as their
 * punctuation time: skipped intervals are not made up), then a commit
 * follows when the clock passed the next commit.interval.ms. WEIR_OK, or
 * WEIR_EFAIL when a punctuation failed under processing.error.policy = fail
 * (the reason in weir_test_driver_error()); WEIR_EINVAL for ms < 0. */
int weir_test_driver_advance_wall_clock(weir_test_driver_t *td, int64_t ms);
int64_t weir_test_driver_wall_clock(const weir_test_driver_t *td);

/* Move every task's stream time `ms` forward (what weir_stream_time()
 * returns), as if a later record had arrived, and fire the stream-time
 * timers that made due: once each, however many intervals it jumped. A
 * punctuation that fails under processing.error.policy = fail leaves its
 * reason in weir_test_driver_error(). */
void weir_test_driver_advance_stream_time(weir_test_driver_t *td, int64_t ms);

/* The value of `key` in store `store` (whichever task holds it) or in global
 * table `store`: WEIR_OK, WEIR_ENOENT (no such key, or no such store). The
 * value is valid until the next call into the driver. */
int weir_test_driver_store_get(weir_test_driver_t *td, const char *store, const void *key,
                               size_t key_len, const void **value, size_t *value_len);

/* The last error, one line ("" when none). */
const char *weir_test_driver_error(const weir_test_driver_t *td);

#ifdef __cplusplus
}
#endif
#endif /* WEIR_TEST_DRIVER_H */
