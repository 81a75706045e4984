/* The weir process's allocator settings, made once at start, before any
 * thread: a process-wide choice, so the weir program makes it and libweir
 * (which an embedding program links) does not. */
#ifndef WEIR_CLI_MALLOC_TUNE_H
#define WEIR_CLI_MALLOC_TUNE_H

/* What weir_malloc_tune did. */
typedef enum {
  WEIR_MALLOC_TUNED = 0,    /* the thresholds are fixed at WEIR_MALLOC_*_THRESHOLD */
  WEIR_MALLOC_USER_SET = 1, /* the environment sets it: left as the user asked */
  WEIR_MALLOC_NOT_GLIBC = 2 /* another allocator (or a sanitizer's): nothing to do */
} weir_malloc_tune_result_t;

#define WEIR_MALLOC_MMAP_THRESHOLD (1024 * 1024)
#define WEIR_MALLOC_TRIM_THRESHOLD (2 * WEIR_MALLOC_MMAP_THRESHOLD)

/* Fixes glibc's mmap threshold at 1 MiB unless `glibc_tunables` (the
 * GLIBC_TUNABLES variable) or `mmap_threshold_env` (MALLOC_MMAP_THRESHOLD_)
 * already set one. glibc starts at 128 KiB but raises the threshold to the
 * size of every mapped block freed, up to 32 MiB, after which RocksDB's
 * memtable blocks (1 MiB each) and the clients' largest buffers come from
 * the heap; freed, they leave holes that smaller allocations split and pin,
 * and RSS grew with every minute of processing (a count over 10,000,000
 * distinct keys: 194-198 MiB peak, 177-184 with it fixed at 1 MiB).
 * Fixing it turns the adjustment off. Why 1 MiB and not glibc's 128 KiB:
 * at 128 KiB every Fetch response and produce request is mapped and
 * unmapped, and a word count took up to 15% more CPU a record; at 1 MiB
 * it took the same CPU as unfixed and kept most of the saving.
 *
 * Fixing the mmap threshold also froze the trim threshold at glibc's
 * starting 128 KiB, where glibc's adjustment keeps it at twice the mmap
 * threshold: every free of a Fetch response or produce request (up to
 * 1 MiB) then handed the top of its thread's arena back to the kernel,
 * and the next one faulted its pages in again (37,000-127,000 page faults
 * in a word count of 5,000,000 records, 9,000-34,000 at 2 MiB). So the
 * trim threshold is fixed at 2 MiB, as glibc's own rule would set it,
 * unless `glibc_tunables` names glibc.malloc.trim_threshold or
 * `trim_threshold_env` (MALLOC_TRIM_THRESHOLD_) is set. A user-set mmap
 * threshold leaves both alone. */
weir_malloc_tune_result_t weir_malloc_tune(const char *glibc_tunables,
                                           const char *mmap_threshold_env,
                                           const char *trim_threshold_env);

#endif
