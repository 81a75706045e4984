/* params — an operator section's values, checked against the operator's
 * declared parameter table before anything runs. */
#ifndef WEIR_PLUGIN_PARAMS_H
#define WEIR_PLUGIN_PARAMS_H

#include <stdint.h>
#include <weir/weir.h>

#include "config/config.h"
#include "util/diag.h"

typedef struct weir_param_value {
  const weir_param_def_t *def; /* points into the weir_op_info_t */
  char *text;                  /* the value as text (default applied); NULL if unset */
  int64_t i;                   /* INT, BOOL (0/1) */
  double d;                    /* DOUBLE (also INT as double) */
  int line;                    /* where it was set; 0 = default */
} weir_param_value_t;

typedef struct weir_params {
  weir_param_value_t *values;
  size_t count;
} weir_params_t;

/* Check one value against one declaration; 0 or -1 with a message that says
 * what is wrong and what is expected (e.g. "expected an integer in [1, 100]"). */
int weir_param_check(const weir_param_def_t *def, const char *text, char *errstr,
                     size_t errstr_size);

/* Bind the entries of `section` whose keys are not in `reserved` (a
 * NULL-terminated list such as {"plugin","type","input",NULL}) to `defs`.
 * Every problem goes to `d` with file:line: unknown key (with the known
 * ones listed), bad value, required but missing, repeated without MULTI.
 * Returns 0 when all is well. */
int weir_params_bind(const weir_param_def_t *defs, size_t def_count, const weir_cfg_t *cfg,
                     const weir_cfg_section_t *section, const char *const *reserved,
                     weir_params_t *out, weir_diag_t *d);
void weir_params_free(weir_params_t *p);
const weir_param_value_t *weir_params_find(const weir_params_t *p, const char *name);

#endif
