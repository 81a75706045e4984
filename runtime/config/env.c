#include "config/env.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const env_sections[] = {"weir", "kafka"};

/* The section a variable names, and where its key starts; NULL when the
 * variable is not one of ours. */
static const char *env_section(const char *var, const char **key) {
  char prefix[32];
  for (size_t i = 0; i < sizeof env_sections / sizeof env_sections[0]; i++) {
    weir_cfg_env_name(env_sections[i], "", prefix, sizeof prefix);
    size_t n = strlen(prefix);
    if (strncmp(var, prefix, n) == 0) {
      *key = var + n;
      return env_sections[i];
    }
  }
  return NULL;
}

void weir_cfg_env_name(const char *section, const char *key, char *buf, size_t size) {
  size_t n = (size_t)snprintf(buf, size, "WEIR_%s__", section);
  for (size_t i = 0; n < size && buf[i]; i++)
    buf[i] = (char)toupper((unsigned char)buf[i]);
  for (const char *k = key; *k && n + 1 < size; k++)
    buf[n++] = *k == '.' ? '_' : (char)toupper((unsigned char)*k);
  if (n < size)
    buf[n] = '\0';
}

/* "SASL_PASSWORD=s3cret" -> "sasl.password" and "s3cret". */
static int env_key(const char *text, char *key, size_t size, const char **value) {
  const char *eq = strchr(text, '=');
  size_t n = eq ? (size_t)(eq - text) : 0;
  if (!eq || n == 0 || n >= size)
    return -1;
  for (size_t i = 0; i < n; i++)
    key[i] = text[i] == '_' ? '.' : (char)tolower((unsigned char)text[i]);
  key[n] = '\0';
  *value = eq + 1;
  return 0;
}

static int apply_one(weir_cfg_t *cfg, const char *var, const char *section, const char *rest,
                     weir_diag_t *d) {
  char key[256];
  const char *value;
  if (env_key(rest, key, sizeof key, &value)) {
    weir_diag_add(d, "environment", 0,
                  "%.*s names no key; write WEIR_%s__KEY_WORDS=VALUE (e.g. "
                  "WEIR_WEIR__APPLICATION_ID) or unset it",
                  (int)strcspn(var, "="), var, strcmp(section, "weir") == 0 ? "WEIR" : "KAFKA");
    return -1;
  }
  if (weir_cfg_set(cfg, section, key, value, WEIR_CFG_LINE_ENV)) {
    weir_diag_add(d, "environment", 0, "out of memory applying %.*s", (int)strcspn(var, "="), var);
    return -1;
  }
  return 0;
}

int weir_cfg_apply_env(weir_cfg_t *cfg, char *const *envp, weir_diag_t *d) {
  int applied = 0, bad = 0;
  for (size_t i = 0; envp && envp[i]; i++) {
    const char *rest;
    const char *section = env_section(envp[i], &rest);
    if (!section)
      continue;
    if (apply_one(cfg, envp[i], section, rest, d))
      bad = 1;
    else
      applied++;
  }
  return bad ? -1 : applied;
}
