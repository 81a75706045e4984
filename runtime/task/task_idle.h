/* task_idle — whether a task fed by several input partitions may process
 * while one of them has nothing buffered (max.task.idle.ms, Kafka Streams'
 * rule of KIP-695).
 *
 * A task takes the buffered record with the smallest timestamp next
 * (input_queue.h), but only among what is buffered: when a join's table
 * partition is slower to fetch than its stream's, the stream records of a
 * backlog would all be joined before the table rows that precede them in
 * time. So, for each input partition with nothing buffered:
 *   - the broker is known to hold records of it not fetched yet (position
 *     below the high watermark), or that is not known yet (no fetch answer
 *     since the assignment): the task waits;
 *   - it is caught up: the task waits up to max.task.idle.ms from when it
 *     first found it so (0: not at all), then goes on without it, which is
 *     counted ("enforced processing") and logged at most once a minute.
 * -1 never waits (each record goes as soon as it is buffered). A task of one
 * input partition never waits and never runs this code.
 *
 * The high watermark is librdkafka's, cached from fetch answers (no request;
 * RD_KAFKA_OFFSET_INVALID before the first). The position of an empty
 * partition is one past the last record the task took from it, or the
 * offset of the consumer's end-of-partition event when later (it steps over
 * transaction markers, which are never handed over as records). Under
 * exactly_once (read committed) that event's offset also stands for the
 * end while nothing came after it: an open transaction's records are not
 * readable, so they are not waited for (Kafka Streams measures the lag to
 * the last stable offset there).
 *
 * While a task waits, its records stay buffered and the thread keeps
 * polling; a full queue of a waiting task pauses that partition instead of
 * stopping the thread's consuming (thread/idle_pause.c), or the partition
 * waited for could never arrive. Owned by the task's thread. */
#ifndef WEIR_TASK_TASK_IDLE_H
#define WEIR_TASK_TASK_IDLE_H

#include <stddef.h>
#include <stdint.h>

typedef enum weir_idle_verdict {
  WEIR_IDLE_PROCESS = 0, /* every input has records buffered, or no wait applies */
  WEIR_IDLE_WAIT,        /* some empty input must be waited for */
  WEIR_IDLE_ENFORCED     /* process without an empty, caught-up input: its wait expired */
} weir_idle_verdict_t;

/* One input partition of a task, as the decision sees it. */
typedef struct weir_idle_input {
  size_t buffered;  /* records queued */
  int64_t position; /* the next offset the consumer hands over; -1 unknown */
  int64_t high;     /* the cached high watermark; -1 unknown */
  /* In and out: when the task first found it empty and caught up (-1: not
   * so now); whether its wait has expired (cleared once it is not so). */
  int64_t idle_since;
  int expired;
} weir_idle_input_t;

/* Whether a task whose inputs are in[0..n) may process at `now` (ms) under
 * max.task.idle.ms = max_idle_ms (>= 0). Updates each input's idle_since
 * and expired; *wake is when the verdict may change by time alone
 * (INT64_MAX: only by a fetch), *expired_now how many inputs' waits expired
 * at this call. No side effect beyond its arguments. */
weir_idle_verdict_t weir_idle_decide(weir_idle_input_t *in, size_t n, int64_t max_idle_ms,
                                     int64_t now, int64_t *wake, unsigned *expired_now);

/* Per input partition of the task's thread (the task's queue index). */
typedef struct weir_idle_part {
  int64_t end_at;        /* the consumer's last end-of-partition offset; -1 none */
  int64_t idle_since;    /* see weir_idle_input_t */
  unsigned char input;   /* assigned to the task: one of its inputs */
  unsigned char expired; /* see weir_idle_input_t */
  unsigned char paused;  /* paused by the thread (thread/idle_pause.c) */
} weir_idle_part_t;

/* How far a task of several inputs may grow its queues' bound. */
#define WEIR_IDLE_BOUND_SCALE_MAX 16

typedef struct weir_task_idle {
  weir_idle_part_t *parts;     /* one per queue of the task */
  size_t inputs;               /* parts that are inputs; the rule applies when > 1 */
  size_t paused;               /* parts paused */
  int waiting;                 /* the task's last run stopped to wait for an empty input */
  int64_t wake;                /* while waiting: when time alone may end the wait */
  unsigned long long enforced; /* waits that expired (weir_task_enforced_processing_total) */
  /* Its queues' bound, as a multiple of buffered.records.per.partition:
   * doubled at each pause up to WEIR_IDLE_BOUND_SCALE_MAX (thread/idle_pause.c),
   * 1 when the task opens. */
  unsigned bound_scale;
  int64_t logged_ms; /* the last INFO line about one; 0 never */
} weir_task_idle_t;

struct weir_task;

int weir_task_idle_init(weir_task_idle_t *idle, size_t parts);
void weir_task_idle_free(weir_task_idle_t *idle);
/* The task closed: no input, nothing paused (the thread resumed them),
 * no wait. The counter stays (a Prometheus counter only grows). */
void weir_task_idle_reset(weir_task_idle_t *idle, size_t parts);

/* Queue `idx`'s partition is assigned to the task. Counted only when the
 * task's thread can tell lags (env->high_watermark set) and
 * max.task.idle.ms >= 0. */
void weir_task_idle_add_input(struct weir_task *task, size_t idx);
/* The consumer reached the end of queue `idx`'s partition at `offset`. */
void weir_task_idle_end(struct weir_task *task, size_t idx, int64_t offset);
/* A record of queue `idx` at `offset` arrived: one below the last end seen
 * means the consumer reads again from before it (a seek back), so that end
 * no longer tells where the partition is. */
void weir_task_idle_arrived(struct weir_task *task, size_t idx, int64_t offset);

/* weir_task_run for a task with several inputs: up to `budget` records in
 * timestamp order while the rule lets it (task.h). */
int weir_task_idle_run(struct weir_task *task, int budget);

#endif
