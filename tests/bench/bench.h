/* weir-bench — throughput and peak memory of weir against a plain
 * librdkafka consume->produce loop (the baseline) and Kafka Streams, on the
 * same broker and the same input, each as a separate process observed the
 * same way from outside. */
#ifndef WEIR_BENCH_BENCH_H
#define WEIR_BENCH_BENCH_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct bench_opts {
  const char *bootstrap;
  const char *broker_label; /* "Apache Kafka 4.x (KRaft, 1 node)" */
  int embedded;             /* 1 when the broker is `weir broker` */
  long records;
  int value_size;
  int partitions;
  int runs;
  const char *weir;        /* the weir binary */
  const char *plugin_dir;
  const char *kstreams_jar; /* NULL: no Kafka Streams column */
  const char *self;         /* this binary, for the baseline child */
  const char *markdown;     /* where the table goes */
} bench_opts_t;

/* What one process did. */
typedef struct bench_result {
  double records_per_sec; /* from the first output record to the last */
  double startup_sec;     /* from spawn to the first output record */
  long peak_rss_kb;
  double cpu_sec; /* user + system CPU of the process, start to stop */
  int ok;
} bench_result_t;

/* A case: the same job for each of the three columns. Adding a case is an
 * entry in the table in bench_main.c. */
typedef struct bench_case {
  const char *name;
  const char *weir_topology; /* INI after [weir]; %s = input topic, %s = output topic */
  const char *kstreams_mode; /* --mode of the Kafka Streams peer; NULL = none */
  int baseline;              /* 1: the plain loop does the same job */
} bench_case_t;

/* bench_kafka.c */
rd_kafka_t *bench_client(rd_kafka_type_t type, const char *bootstrap, const char *group);
int bench_create_topic(const bench_opts_t *o, const char *topic);
int bench_produce_input(const bench_opts_t *o, const char *topic);
long long bench_end_offsets(rd_kafka_t *rk, const char *topic, int partitions, long long *low_sum);

/* bench_loop.c: the baseline, run as `weir-bench loop ...` in its own process. */
int bench_loop_main(int argc, char **argv);

/* bench_proc.c */
pid_t bench_spawn(char *const argv[], const char *log);
/* Observe `topic` until it holds `expect` records; stop the child; fill r. */
void bench_observe(const bench_opts_t *o, pid_t child, const char *topic, long expect,
                   double spawned_at, bench_result_t *r);
double bench_now(void);

#endif
