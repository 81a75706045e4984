/* A librdkafka mock cluster a test owns (so it can take brokers and
 * leaders away), with the test's own TMPDIR (it_tmp), a state directory in
 * it and, on request, weir's stderr captured to a file there that the test
 * reads. Include after it_support.h. */
#ifndef WEIR_TESTS_IT_MOCK_H
#define WEIR_TESTS_IT_MOCK_H

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "it_support.h"
#include "util/log.h"

typedef struct {
  int brokers;                   /* in: the mock cluster's size */
  int capture_log;               /* in: stderr to log_path while the test runs */
  int debug;                     /* in: weir's debug lines too, while it runs */
  int (*show)(const char *line); /* in: log lines teardown shows; NULL: all */
  rd_kafka_t *rk;                /* the mock cluster lives in a client */
  rd_kafka_mock_cluster_t *mc;
  char bootstrap[256];
  char state_dir[600]; /* <TMPDIR>/state, made by setup */
  char log_path[600];  /* <TMPDIR>/stderr.log */
  int saved_stderr;    /* the real one, put back at teardown */
} it_mock_t;

static int it_mock_capture(it_mock_t *m) {
  snprintf(m->log_path, sizeof m->log_path, "%s/stderr.log", it_tmp.path);
  int fd = open(m->log_path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
  fflush(stderr);
  m->saved_stderr = dup(2);
  if (fd < 0 || m->saved_stderr < 0 || dup2(fd, 2) < 0)
    return -1;
  close(fd);
  return 0;
}

/* The real stderr back, with the captured lines `show` picks, for whoever
 * reads a failure. */
static void it_mock_release(it_mock_t *m) {
  char line[4096];
  fflush(stderr);
  dup2(m->saved_stderr, 2);
  close(m->saved_stderr);
  FILE *f = fopen(m->log_path, "r");
  while (f && fgets(line, sizeof line, f))
    if (!m->show || m->show(line))
      fputs(line, stderr);
  if (f)
    fclose(f);
}

/* A cmocka setup's body: `m` (static, its inputs set) becomes *state. */
__attribute__((unused)) static int it_mock_setup(it_mock_t *m, void **state) {
  char why[256];
  if (weir_test_tmpenv_enter(&it_tmp, "weir-it"))
    return -1;
  snprintf(m->state_dir, sizeof m->state_dir, "%s/state", it_tmp.path);
  if (mkdir(m->state_dir, 0700) || (m->capture_log && it_mock_capture(m)))
    return -1;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
  m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  m->mc = m->rk ? rd_kafka_mock_cluster_new(m->rk, m->brokers) : NULL;
  if (!m->mc)
    return -1;
  snprintf(m->bootstrap, sizeof m->bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(m->mc));
  if (m->debug)
    weir_log_set_level(WEIR_LOG_DEBUG);
  *state = m;
  return 0;
}

static int it_mock_teardown(void **state) {
  it_mock_t *m = *state;
  if (m->debug)
    weir_log_set_level(WEIR_LOG_INFO);
  rd_kafka_mock_cluster_destroy(m->mc);
  rd_kafka_destroy(m->rk);
  if (m->capture_log)
    it_mock_release(m);
  return weir_test_tmpenv_leave(&it_tmp);
}

#endif
