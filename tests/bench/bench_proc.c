/* The measured processes: spawned, watched from outside through the output
 * topic's end offsets, stopped, and their CPU time read from wait4(), their
 * peak RSS from /proc. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_proc_cpu(pid_t pid) {
  char path[64];
  unsigned long long user = 0, sys = 0;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  /* Fields 14 and 15, after the command name in parentheses. */
  int ok = fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &user,
                  &sys) == 2;
  fclose(f);
  return ok ? (double)(user + sys) / (double)sysconf(_SC_CLK_TCK) : -1;
}

double bench_broker_cpu(void) {
  const char *dir = getenv("WEIR_TEST_KAFKA_DIR");
  char path[512];
  long pid = 0;
  if (!dir)
    return -1;
  snprintf(path, sizeof path, "%s/kafka.pid", dir);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  int got = fscanf(f, "%ld", &pid);
  fclose(f);
  return got == 1 && pid > 0 ? bench_proc_cpu((pid_t)pid) : -1;
}

void bench_sleep_until(double when) {
  struct timespec ts = {.tv_sec = (time_t)when,
                        .tv_nsec = (long)((when - (double)(time_t)when) * 1e9)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
    ;
}

pid_t bench_spawn(char *const argv[], const char *log) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the harness */
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

double bench_log_time(const char *line) {
  struct tm tm = {0};
  const char *rest = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest || *rest != '.')
    return -1;
  return (double)timegm(&tm) + atof(rest); /* rest: ".mmmZ ..." */
}

static double seconds(struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The child's own high-water RSS (VmHWM), 0 once it is gone. Not wait4()'s
 * ru_maxrss: Linux carries the largest RSS of every memory image a process
 * had into it, and a forked child's first image is a copy of the harness
 * (100-300 MiB after it produced the input), so ru_maxrss reported the
 * harness's size for any contender smaller than it. VmHWM belongs to the
 * image exec() made. */
static long child_hwm_kb(pid_t child) {
  char path[64], line[256];
  long kb = 0;
  snprintf(path, sizeof path, "/proc/%d/status", (int)child);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
      break;
  fclose(f);
  return kb;
}

/* Stop the child; its CPU time comes from wait4(), its peak RSS from its
 * VmHWM, read until it exits (a stop that grows it is counted, up to the
 * last 50 ms). */
void bench_stop(pid_t child, bench_result_t *r) {
  struct rusage ru;
  int status;
  long hwm = child_hwm_kb(child), kb;
  kill(child, SIGTERM);
  for (int i = 0; i < 600; i++) {
    if ((kb = child_hwm_kb(child)) > hwm)
      hwm = kb;
    if (wait4(child, &status, WNOHANG, &ru) == child)
      goto done;
    usleep(50000);
  }
  kill(child, SIGKILL);
  wait4(child, &status, 0, &ru);
done:
  if (!r)
    return;
  r->peak_rss_kb = hwm;
  r->cpu_sec = seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

void bench_observe(const bench_opts_t *o, pid_t child, const char *topic, long expect,
                   double spawned_at, bench_result_t *r) {
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  double first = 0, done = 0, deadline = bench_now() + 600, stuck_since = 0;
  long long last = -1;
  r->ok = 0;
  while (bench_now() < deadline) {
    long long n = bench_end_offsets(rk, topic, o->partitions, NULL);
    double now = bench_now();
    /* A count that stays short while the process idles once came from a
     * client whose metadata for a new topic went stale (64 partitions, Kafka
     * 4.4): ask again with a fresh client rather than wait out the deadline. */
    if (n != last)
      stuck_since = now, last = n;
    else if (n > 0 && now - stuck_since > 5) {
      rd_kafka_destroy(rk);
      rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
      stuck_since = now;
    }
    if (n > 0 && !first)
      first = now;
    if (n >= expect) {
      done = now;
      break;
    }
    if (waitpid(child, NULL, WNOHANG) == child) {
      fprintf(stderr, "weir-bench: the process exited before %s held %ld records\n", topic, expect);
      rd_kafka_destroy(rk);
      return;
    }
    usleep(20000);
  }
  rd_kafka_destroy(rk);
  bench_stop(child, r);
  if (!done)
    return;
  r->ok = 1;
  r->startup_sec = first - spawned_at;
  r->records_per_sec = done > first ? (double)expect / (done - first) : 0;
}
