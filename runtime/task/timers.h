/* timers — the punctuators of a task's operator instances (weir.h's
 * weir_timer_schedule), as Kafka Streams' ProcessorContext.schedule().
 *
 * Contract:
 *   - A stream-time timer's boundaries are the multiples of its interval
 *     (aligned to 0, as Kafka Streams): it fires when the task's stream time
 *     reaches its next boundary, checked after each record; then its next
 *     boundary is the first one after the stream time, so a jump over
 *     several intervals fires it once.
 *   - A wall-clock timer is due interval ms after it was scheduled, then
 *     every interval ms; the thread's loop fires it (at most once a turn,
 *     skipped intervals are not made up), with or without records.
 *   - punctuate() runs between records, never inside process(); what it
 *     forwards belongs to no input record, so it is counted as a flush()'s
 *     output is (task->untracked_sent): the next commit waits for its
 *     acknowledgement before committing offsets. Its timestamp is the
 *     punctuation time when the plugin left it 0.
 *   - An error from punctuate() (or a failed produce in it) follows
 *     processing.error.policy: fail stops the app; skip and dead-letter log
 *     it and go on (there is no input record to send to the dead letters).
 *   - Timers belong to the instance: closing the instance or the task drops
 *     them. During a hot swap, what the new version schedules in its
 *     init()/load() takes over the old version's timer of the same domain
 *     and interval (same id); the rest waits for the swap's commit (live) or
 *     abort (dropped). A new version without punctuate() has them cancelled.
 * Nothing here runs on the record path unless the task has timers: the
 * per-record check is one comparison with the earliest stream-time boundary.
 */
#ifndef WEIR_TASK_TIMERS_H
#define WEIR_TASK_TIMERS_H

#include <stddef.h>
#include <stdint.h>
#include <weir/weir.h>

struct weir_task;
struct weir_node_inst;

typedef struct weir_timer {
  int64_t id;  /* > 0, unique in its task */
  size_t inst; /* index of its instance in task->insts */
  int domain;  /* WEIR_STREAM_TIME or WEIR_WALL_CLOCK */
  int state;   /* timer_state in timers.c */
  int64_t interval;
  int64_t next; /* due at this stream time or wall clock */
} weir_timer_t;

typedef struct weir_task_timers {
  weir_timer_t *items;
  size_t count, cap;
  int64_t last_id;
  int64_t stream_due; /* earliest live stream-time boundary; INT64_MAX: none */
  int64_t wall_due;   /* earliest live wall-clock due time; INT64_MAX: none */
  int firing;         /* a punctuate() runs: cancelled timers are removed after */
} weir_task_timers_t;

void weir_timers_init(weir_task_timers_t *tm);
/* Drop every timer (the task closes). */
void weir_timers_clear(weir_task_timers_t *tm);
void weir_timers_free(weir_task_timers_t *tm);
/* Drop the instance's timers (it closes). */
void weir_timers_drop_inst(struct weir_task *task, const struct weir_node_inst *inst);

/* The host API entries (weir_host_api_t.timer_schedule / timer_cancel). */
int64_t weir_api_timer_schedule(weir_ctx_t *ctx, int domain, int64_t interval_ms);
int weir_api_timer_cancel(weir_ctx_t *ctx, int64_t timer);

/* The task's wall clock, ms since the epoch: the test driver's virtual
 * clock when its env has one. */
int64_t weir_task_wall_clock(const struct weir_task *task);

/* Fire the stream-time timers due at the task's stream time. 0, or -1 when
 * the app must stop (task->error says why). */
int weir_timers_fire_stream(struct weir_task *task);
/* Fire the wall-clock timers due at `now` (weir_task_wall_clock). As above. */
int weir_timers_fire_wall(struct weir_task *task, int64_t now);

/* Hot swap (task/inst_swap.c): the swap that prepared a new version of
 * `inst` is committed (`punctuates`: the new version has punctuate()) or
 * aborted. */
void weir_timers_swap_commit(struct weir_task *task, const struct weir_node_inst *inst,
                             int punctuates);
void weir_timers_swap_abort(struct weir_task *task, const struct weir_node_inst *inst);

#endif
