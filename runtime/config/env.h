/* env — [weir] and [kafka] keys from the environment, for containers and
 * systemd units that keep secrets out of the INI file.
 *
 *   WEIR_WEIR__APPLICATION_ID=orders     ->  [weir]  application.id = orders
 *   WEIR_KAFKA__SASL_PASSWORD=s3cret     ->  [kafka] sasl.password  = s3cret
 *
 * "WEIR_", the section, "__", then the key upper-cased with '.' written
 * as '_' (no [weir] or string [kafka] key has an '_' of its own). Applied
 * after the file and before --set: INI < environment < --set.
 */
#ifndef WEIR_CONFIG_ENV_H
#define WEIR_CONFIG_ENV_H

#include "config/config.h"

/* Applies every WEIR_WEIR__* and WEIR_KAFKA__* variable of `envp` (a
 * NULL-terminated "NAME=VALUE" list, e.g. environ) to `cfg`. Other
 * variables, WEIR_TEST_* included, are left alone. Returns the number
 * applied, -1 after a diagnostic in `d`. */
int weir_cfg_apply_env(weir_cfg_t *cfg, char *const *envp, weir_diag_t *d);

/* "WEIR_KAFKA__SASL_PASSWORD" for ("kafka", "sasl.password"): how `weir
 * describe --params` and errors name a key's variable. */
void weir_cfg_env_name(const char *section, const char *key, char *buf, size_t size);

#endif
