/* inst_swap — one operator instance moving to another build of its node,
 * on the thread that owns its task (the phases are reload/swap.h's; the
 * thread applies them to its tasks' instances with these). */
#ifndef WEIR_TASK_INST_SWAP_H
#define WEIR_TASK_INST_SWAP_H

#include <stddef.h>

#include "task/task.h"

/* Whether the instance runs and is not on `next` already. */
int weir_inst_swappable(const weir_node_inst_t *inst, const weir_node_t *next);

/* PREPARE: create the new build's instance beside the running one (its
 * init), or nothing when state moves by save/load (at the commit). Holds a
 * user of `v` until the commit or abort. 0, or -1 with one line in `why`. */
int weir_inst_prepare(weir_node_inst_t *inst, const weir_node_t *next, weir_version_t *v, char *why,
                      size_t why_size);

/* COMMIT: the new build takes over, prepared or not (a task opened since
 * the prepare starts it here). 1 when it moved; 0 when the old build keeps
 * running this instance (logged); -1 when it moved but the old build's
 * flush() failed (inst->task->error says why): what it held back is lost,
 * so the caller must commit nothing past it and fail the task. */
int weir_inst_commit(weir_node_inst_t *inst, const weir_node_t *next, weir_version_t *v);

/* ABORT, or a close while prepared: close the prepared instance and drop
 * its version. Nothing when none is prepared. */
void weir_inst_abort(weir_node_inst_t *inst);

#endif
