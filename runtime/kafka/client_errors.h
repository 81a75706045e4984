/* client_errors — a Kafka client's non-fatal errors, one warning per episode.
 *
 * librdkafka reports a non-fatal error (a broker down, a refused login, a
 * missing ACL) each time it retries, and keeps retrying: weir stalls until
 * it clears. The user must see it once, not once per retry: an episode of
 * an error code starts with its first report and ends when the client works
 * again (weir_client_errors_clear: a delivery, a commit), when the code has
 * not been reported for WEIR_CLIENT_ERROR_QUIET_MS, or, while it lasts,
 * every WEIR_CLIENT_ERROR_REWARN_MS (a reminder). Not thread-safe: one
 * client's callbacks are served on one thread.
 */
#ifndef WEIR_KAFKA_CLIENT_ERRORS_H
#define WEIR_KAFKA_CLIENT_ERRORS_H

#include <stddef.h>
#include <stdint.h>

enum {
  WEIR_CLIENT_ERROR_QUIET_MS = 60000,   /* not reported this long: the episode ended */
  WEIR_CLIENT_ERROR_REWARN_MS = 300000, /* still going: warn again this often */
  WEIR_CLIENT_ERROR_CODES = 8           /* distinct codes tracked at once */
};

typedef struct weir_client_episode {
  int err;
  int64_t warned_ms; /* when it was last logged */
  int64_t seen_ms;   /* when it was last reported */
  unsigned repeats;  /* reports since it was last logged */
} weir_client_episode_t;

typedef struct weir_client_errors {
  weir_client_episode_t open[WEIR_CLIENT_ERROR_CODES];
  size_t count;
} weir_client_errors_t;

/* `err` was reported at now_ms: 1 when it must be logged (a new episode or
 * a reminder), 0 when it repeats one already logged. */
int weir_client_errors_note(weir_client_errors_t *e, int err, int64_t now_ms);

/* How many reports of `err` were not logged since it was last logged. */
unsigned weir_client_errors_repeats(const weir_client_errors_t *e, int err);

/* The client worked: every episode ends. Returns how many were open. */
size_t weir_client_errors_clear(weir_client_errors_t *e);

/* What the user can do about `err`, one clause. */
const char *weir_client_error_hint(int err);

#endif
