#include "malloc_tune.h"

#include <string.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define WEIR_OWN_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEIR_OWN_MALLOC 0
#endif
#endif
#ifndef WEIR_OWN_MALLOC
#define WEIR_OWN_MALLOC 1
#endif

static int tunable_set(const char *glibc_tunables, const char *name) {
  return glibc_tunables && strstr(glibc_tunables, name);
}

static int env_set(const char *value) {
  return value && *value;
}

weir_malloc_tune_result_t weir_malloc_tune(const char *glibc_tunables,
                                           const char *mmap_threshold_env,
                                           const char *trim_threshold_env) {
  if (tunable_set(glibc_tunables, "glibc.malloc.mmap_threshold") || env_set(mmap_threshold_env))
    return WEIR_MALLOC_USER_SET;
#if defined(__GLIBC__)
  /* Under AddressSanitizer malloc is the sanitizer's, and mallopt a stub. */
  if (!WEIR_OWN_MALLOC || mallopt(M_MMAP_THRESHOLD, WEIR_MALLOC_MMAP_THRESHOLD) != 1)
    return WEIR_MALLOC_NOT_GLIBC;
  if (!tunable_set(glibc_tunables, "glibc.malloc.trim_threshold") && !env_set(trim_threshold_env) &&
      mallopt(M_TRIM_THRESHOLD, WEIR_MALLOC_TRIM_THRESHOLD) != 1)
    return WEIR_MALLOC_NOT_GLIBC;
  return WEIR_MALLOC_TUNED;
#else
  return WEIR_MALLOC_NOT_GLIBC;
#endif
}
