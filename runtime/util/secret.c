#include "util/secret.h"

#include <stdio.h>
#include <string.h>

/* By the key's last word, so a key added later (a new librdkafka
 * property, a plugin's own "api.password") is hidden without a list to
 * keep up to date; the few secrets not named so are listed. */
static const char *const secret_words[] = {"password", "secret", "token", "passphrase",
                                           "credentials"};
static const char *const secret_keys[] = {
    "ssl.key.pem",             /* a private key in the INI itself */
    "ssl_key",                 /* librdkafka's in-memory key */
    "sasl.oauthbearer.config", /* may carry a client secret */
    "sasl.jaas.config",        /* Java clients' form, often copied over */
};

/* `key` is `name`, or ends in ".name" (a --set "kafka.ssl.key.pem"). */
static int names(const char *key, const char *name) {
  size_t k = strlen(key), n = strlen(name);
  return k >= n && strcmp(key + k - n, name) == 0 && (k == n || key[k - n - 1] == '.');
}

static int last_word_is(const char *key, const char *word) {
  const char *dot = strrchr(key, '.');
  const char *last = dot ? dot + 1 : key;
  return strcmp(last, word) == 0;
}

int weir_secret_key(const char *key) {
  if (!key)
    return 0;
  for (size_t i = 0; i < sizeof secret_words / sizeof secret_words[0]; i++)
    if (last_word_is(key, secret_words[i]))
      return 1;
  for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++)
    if (names(key, secret_keys[i]))
      return 1;
  return 0;
}

const char *weir_secret_show(const char *key, const char *value) {
  return weir_secret_key(key) ? WEIR_SECRET_MASK : value;
}

void weir_secret_scrub(char *buf, size_t size, const char *value) {
  char out[2048];
  size_t n = 0, vlen = value ? strlen(value) : 0;
  if (!vlen || !buf || !size)
    return;
  for (const char *p = buf; *p && n + 1 < sizeof out;) {
    if (strncmp(p, value, vlen) == 0) {
      n += (size_t)snprintf(out + n, sizeof out - n, "%s", WEIR_SECRET_MASK);
      p += vlen;
    } else {
      out[n++] = *p++;
    }
  }
  out[n < sizeof out ? n : sizeof out - 1] = '\0';
  snprintf(buf, size, "%s", out);
}
