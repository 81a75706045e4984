/* td_open — the test driver opened on an INI text with the build's
 * plugins, or the test failed with the driver's own lines (cmocka). */
#ifndef WEIR_TESTS_SUPPORT_TD_OPEN_H
#define WEIR_TESTS_SUPPORT_TD_OPEN_H

/* cmocka.h needs these before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <weir/test_driver.h>

/* Set: open_ini gives every [store:] section `backend = <this>` (a suite
 * run again over in-memory stores). */
static const char *td_store_backend;

/* `ini` with "backend = td_store_backend" after each [store:] header, in
 * `out`; or `ini` itself when none is set. */
static inline const char *td_with_backend(const char *ini, char *out, size_t size) {
  if (!td_store_backend)
    return ini;
  size_t used = 0;
  for (const char *at = ini; *at;) {
    const char *eol = strchr(at, '\n');
    size_t len = eol ? (size_t)(eol - at) + 1 : strlen(at);
    int store = strncmp(at, "[store:", 7) == 0;
    int n = snprintf(out + used, size > used ? size - used : 0, "%.*s%s%s%s", (int)len, at,
                     store ? "backend = " : "", store ? td_store_backend : "", store ? "\n" : "");
    if (n < 0 || (size_t)n >= size - used)
      fail_msg("td_with_backend: INI longer than %zu bytes", size);
    used += (size_t)n;
    at += len;
  }
  return out;
}

static inline weir_test_driver_t *open_ini(const char *ini) {
  char err[2048] = "";
  static char with[16384];
  ini = td_with_backend(ini, with, sizeof with);
  weir_test_driver_t *td = weir_test_driver_open(ini, WEIR_TEST_PLUGIN_DIR, err, sizeof err);
  if (!td)
    fail_msg("open: %s", err);
  return td;
}

/* Pipe (key, value) at ts into `topic`, or the test failed with the
 * driver's error; value NULL: a tombstone, key NULL: no key. */
static inline void td_send(weir_test_driver_t *td, const char *topic, const char *key,
                           const char *value, int64_t ts) {
  int rc = weir_test_driver_pipe(td, topic, key, key ? strlen(key) : 0, value,
                                 value ? strlen(value) : 0, ts);
  if (rc != 0)
    fail_msg("pipe %s: %d: %s", topic, rc, weir_test_driver_error(td));
}

/* What reached `topic` since the last read, as "key=value@ts " (key "-"
 * when there is none, value "DEL" for a tombstone); valid until the next
 * call. */
static inline const char *td_outputs(weir_test_driver_t *td, const char *topic) {
  static char buf[4096];
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, topic, &r), used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && used < sizeof buf; i++)
    used +=
        (size_t)snprintf(buf + used, sizeof buf - used, "%s=%s@%lld ", r[i].key ? r[i].key : "-",
                         r[i].value ? r[i].value : "DEL", (long long)r[i].timestamp);
  return buf;
}

/* Open `ini` and expect it refused with a message holding `want`. */
static inline void td_expect_refused(const char *ini, const char *want) {
  char err[2048] = "";
  weir_test_driver_t *td = weir_test_driver_open(ini, WEIR_TEST_PLUGIN_DIR, err, sizeof err);
  if (td) {
    weir_test_driver_close(td);
    fail_msg("opened, expected: %s", want);
  }
  if (!strstr(err, want))
    fail_msg("expected \"%s\" in: %s", want, err);
}

#endif
