/* td_open — the test driver opened on an INI text with the build's
 * plugins, or the test failed with the driver's own lines (cmocka). */
#ifndef WEIR_TESTS_SUPPORT_TD_OPEN_H
#define WEIR_TESTS_SUPPORT_TD_OPEN_H

/* cmocka's fail_msg, whatever the includer included before this. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <weir/test_driver.h>

static inline weir_test_driver_t *open_ini(const char *ini) {
  char err[2048] = "";
  weir_test_driver_t *td = weir_test_driver_open(ini, WEIR_TEST_PLUGIN_DIR, err, sizeof err);
  if (!td)
    fail_msg("open: %s", err);
  return td;
}

#endif
