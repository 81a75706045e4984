#include "http/auth.h"

#include <string.h>
#include <strings.h>

int weir_http_authorized(const char *token, const char *authorization) {
  if (!token)
    return 1;
  if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
    return 0;
  const char *given = authorization + 7;
  size_t n = strlen(token), m = strlen(given);
  unsigned char diff = (unsigned char)(n != m);
  for (size_t i = 0; i < n; i++)
    diff |= (unsigned char)(token[i] ^ given[i < m ? i : 0]);
  return diff == 0;
}
