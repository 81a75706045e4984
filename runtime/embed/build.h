/* build — how every libweir call reads a topology: the options a caller
 * passed (at most its struct_size), the INI, the environment, the
 * overrides, then the topology with its plugins, found relative to the
 * running executable as the weir command finds them. */
#ifndef WEIR_EMBED_BUILD_H
#define WEIR_EMBED_BUILD_H

#include <weir/runtime.h>

#include "config/config.h"
#include "topology/topology.h"
#include "util/diag.h"

/* Copies at most what the caller's struct holds, zero-filling the rest: an
 * older caller's smaller options read as defaults. `in` may be NULL. */
void weir_embed_read_options(const weir_runtime_options_t *in, weir_runtime_options_t *out);

/* Builds the topology of `cfg` (owned: freed here, NULL after a load
 * error already in `d`). NULL with the errors in `d`. */
weir_topology_t *weir_embed_build(weir_cfg_t *cfg, const weir_runtime_options_t *o, weir_diag_t *d);

/* The topology of an INI file. NULL with every error in errstr. */
weir_topology_t *weir_embed_build_file(const char *path, const weir_runtime_options_t *opts,
                                       char *errstr, size_t errstr_size);

/* The lines of `d`, one per line, into errstr. */
void weir_embed_join_lines(const weir_diag_t *d, char *errstr, size_t size);

#endif
