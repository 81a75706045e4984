/* sdnotify — systemd's notify protocol, spoken directly (a datagram to
 * $NOTIFY_SOCKET; no libsystemd), for `Type=notify` units:
 *   READY=1     once every stream thread has its tasks and none restores;
 *   WATCHDOG=1  every WATCHDOG_USEC/2 while every stream thread's loop has
 *               turned within WATCHDOG_USEC (a stuck thread stops the pings,
 *               and systemd restarts the service);
 *   STOPPING=1  when a stop begins.
 * Without NOTIFY_SOCKET everything here does nothing. */
#ifndef WEIR_UTIL_SDNOTIFY_H
#define WEIR_UTIL_SDNOTIFY_H

/* Sends `state` ("READY=1", ...). 0 when sent or when there is no socket. */
int weir_sd_notify(const char *state);

/* From stream thread `index`'s loop, each turn: alive, and whether it is
 * ready (tasks assigned at least once, nothing restoring). Cheap: two
 * relaxed stores. */
void weir_sd_beat(int index, int ready);
/* From a thread's assignment callback. */
void weir_sd_assigned(int index);

/* Starts the notifier for `threads` stream threads (when NOTIFY_SOCKET is
 * set); weir_sd_watch_stop sends STOPPING=1 and ends it. */
int weir_sd_watch_start(int threads);
void weir_sd_watch_stop(void);

#endif
