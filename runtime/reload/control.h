/* control — what asks for a reload while weir runs: `weir reload` through a
 * Unix socket at <state.dir>/<application.id>/control.sock (one line in:
 * "reload"; one line out: the report, starting "ok: " or "error: "), and a
 * new build of a loaded plugin dropped into its directory (inotify: a file
 * closed after writing, or renamed into place; acted on 300 ms after the
 * last such event, so a copy in several writes is loaded once, complete).
 * SIGHUP is caught by the main thread and calls the reloader directly.
 * Instances sharing a state.dir (a stateless application): the one holding
 * the flock on control.sock.lock owns the socket; the others start without
 * it, with one warning, and never touch it. */
#ifndef WEIR_RELOAD_CONTROL_H
#define WEIR_RELOAD_CONTROL_H

#include <stddef.h>

#include "reload/reload.h"

typedef struct weir_control weir_control_t;

/* Start the service thread. NULL with errstr when the socket cannot be made
 * (another instance owning it is not a failure). */
weir_control_t *weir_control_start(weir_reloader_t *r, const char *socket_path, char *errstr,
                                   size_t errstr_size);
void weir_control_stop(weir_control_t *c);

/* The socket path of an application (what `weir reload` connects to). */
int weir_control_socket_path(const char *state_dir, const char *app_id, char *out, size_t size);

/* `weir reload`: ask the instance listening at `socket_path`; prints its
 * report. 0 when it reloaded (or nothing changed), 1 otherwise. */
int weir_control_request(const char *socket_path, char *report, size_t report_size);

#endif
