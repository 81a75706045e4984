/* A program built against weir/runtime.h 1.0 (tests/deploy/runtime-1.0,
 * the header as released) runs on this libweir: its smaller or equal
 * structs are read and written within their struct_size, and what 1.0 left
 * as padding in weir_runtime_options_t (here 0xff) is not read as a 1.1
 * field: no systemd notification reaches a $NOTIFY_SOCKET it never asked
 * for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <weir/runtime.h>

#if WEIR_RUNTIME_API_MAJOR != 1 || WEIR_RUNTIME_API_MINOR != 0
#error "built against the 1.0 header: tests/deploy/runtime-1.0 must come first"
#endif

static const char topology[] = "[weir]\n"
                               "application.id = runtime-abi-1-0\n"
                               "bootstrap.servers = embedded\n"
                               "[source:in]\n"
                               "topic = in\n"
                               "[sink:out]\n"
                               "input = in\n"
                               "topic = out\n";

static void test_program_built_against_1_0(void **state) {
  (void)state;
  char dir[] = "/tmp/weir-abi-1-0.XXXXXX", sock_path[128], set[160], err[4096], got[256];
  assert_non_null(mkdtemp(dir));
  snprintf(sock_path, sizeof sock_path, "%s/notify", dir);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  assert_true(fd >= 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
  setenv("NOTIFY_SOCKET", sock_path, 1);

  snprintf(set, sizeof set, "weir.state.dir=%s/state", dir);
  const char *sets[] = {set};
  weir_runtime_options_t opts;
  memset(&opts, 0xff, sizeof opts); /* padding a 1.0 program never set */
  opts.struct_size = sizeof opts;
  opts.overrides = sets;
  opts.override_count = 1;
  opts.use_environment = 0;
  opts.log = NULL;
  opts.log_user = NULL;
  opts.shutdown_timeout_ms = 0;
  weir_runtime_t *rt = weir_runtime_start_text("abi.ini", topology, &opts, err, sizeof err);
  if (!rt)
    fail_msg("start: %s", err);

  struct {
    weir_runtime_state_t st;
    unsigned char after[16];
  } w;
  memset(&w, 0xab, sizeof w);
  w.st.struct_size = sizeof w.st;
  assert_int_equal(weir_runtime_state(rt, &w.st), 0);
  assert_int_equal(w.st.status, WEIR_RUNTIME_RUNNING);
  assert_int_equal(w.st.exit_code, -1);
  for (size_t i = 0; i < sizeof w.after; i++)
    assert_int_equal(w.after[i], 0xab); /* nothing written past its struct_size */

  weir_runtime_stop(rt);
  assert_int_equal(weir_runtime_wait(rt, -1), 1);
  assert_int_equal(weir_runtime_free(rt), 0);
  /* STOPPING=1 would have been sent by now, had the padding been read. */
  ssize_t n = recv(fd, got, sizeof got - 1, 0);
  if (n > 0)
    fail_msg("a 1.0 program got a systemd notification: %.*s", (int)n, got);
  close(fd);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_program_built_against_1_0)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
