/* The weir process's allocator settings, made once at start, before any
 * thread: a process-wide choice, so the weir program makes it and libweir
 * (which an embedding program links) does not. */
#ifndef WEIR_CLI_MALLOC_TUNE_H
#define WEIR_CLI_MALLOC_TUNE_H

/* What weir_malloc_tune did. */
typedef enum {
  WEIR_MALLOC_TUNED = 0,    /* the mmap threshold is fixed at WEIR_MALLOC_MMAP_THRESHOLD */
  WEIR_MALLOC_USER_SET = 1, /* the environment sets it: left as the user asked */
  WEIR_MALLOC_NOT_GLIBC = 2 /* another allocator (or a sanitizer's): nothing to do */
} weir_malloc_tune_result_t;

#define WEIR_MALLOC_MMAP_THRESHOLD (128 * 1024)

/* Fixes glibc's mmap threshold at 128 KiB unless `glibc_tunables` (the
 * GLIBC_TUNABLES variable) or `mmap_threshold_env` (MALLOC_MMAP_THRESHOLD_)
 * already set one. glibc starts at 128 KiB but raises the threshold to the
 * size of every mmapped block freed, up to 32 MiB, after which RocksDB's
 * memtable blocks (1 MiB), the Kafka clients' fetch and produce buffers and
 * the stores' write batches all come from the heap; freed, they leave holes
 * that smaller allocations split and pin, and the process's RSS grew with
 * every minute of processing. Fixing the threshold turns the dynamic
 * adjustment off: blocks of 128 KiB and over are mapped and unmapped. */
weir_malloc_tune_result_t weir_malloc_tune(const char *glibc_tunables,
                                           const char *mmap_threshold_env);

#endif
