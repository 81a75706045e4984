/* build — options, INI, environment, overrides, topology (see build.h). */
#include "embed/build.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/env.h"
#include "plugin/loader.h"

void weir_embed_read_options(const weir_runtime_options_t *in, weir_runtime_options_t *out) {
  memset(out, 0, sizeof *out);
  if (!in)
    return;
  size_t n = in->struct_size < sizeof *out ? in->struct_size : sizeof *out;
  memcpy(out, in, n);
}

void weir_embed_join_lines(const weir_diag_t *d, char *errstr, size_t size) {
  size_t used = 0;
  if (size)
    errstr[0] = '\0';
  for (size_t i = 0; i < d->count && used < size; i++)
    used += (size_t)snprintf(errstr + used, size - used, "%s%s", i ? "\n" : "", d->lines[i]);
}

weir_topology_t *weir_embed_build(weir_cfg_t *cfg, const weir_runtime_options_t *o,
                                  weir_diag_t *d) {
  char exe_dir[4096];
  weir_topology_t *t = NULL;
  if (!cfg)
    return NULL;
  if (o->use_environment)
    weir_cfg_apply_env(cfg, environ, d);
  for (int i = 0; i < o->override_count; i++)
    weir_cfg_override(cfg, o->overrides[i], d);
  /* Plugins beside the executable: the weir command's own, or a program's. */
  if (d->count == 0)
    t = weir_topology_build(cfg, weir_exe_dir(exe_dir, sizeof exe_dir) == 0 ? exe_dir : NULL, d);
  weir_cfg_free(cfg);
  return t;
}

weir_topology_t *weir_embed_build_file(const char *path, const weir_runtime_options_t *opts,
                                       char *errstr, size_t errstr_size) {
  weir_runtime_options_t o;
  weir_diag_t d = {0};
  if (!path) {
    snprintf(errstr, errstr_size, "no topology file given");
    return NULL;
  }
  weir_embed_read_options(opts, &o);
  weir_topology_t *t = weir_embed_build(weir_cfg_load(path, &d), &o, &d);
  if (!t)
    weir_embed_join_lines(&d, errstr, errstr_size);
  weir_diag_free(&d);
  return t;
}
