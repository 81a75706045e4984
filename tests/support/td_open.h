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

static inline weir_test_driver_t *open_ini(const char *ini) {
  char err[2048] = "";
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
