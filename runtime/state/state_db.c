/* state_db — the one RocksDB of the process: directory, lock, options,
 * corruption recovery, the key layout, batches and bounded iterators. */
#include "state/state_db.h"

#include <errno.h>
#include <fcntl.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/log.h"
#include "util/pid_lock.h"

enum { TAG_DATA = 0x00, TAG_CHECKPOINT = 0x01 };
/* tag + u16 name length + u32 partition, around the store name. */
enum { KEY_FIXED = 1 + 2 + 4, KEY_INLINE = 256 };
/* The block cache in 2^2 shards (see set_table_options). */
enum { CACHE_SHARD_BITS = 2 };
/* A cleared batch keeps a buffer up to this size (see weir_state_batch_clear). */
enum { BATCH_KEEP_BYTES = 1 << 20 };

struct weir_state_db {
  rocksdb_t *rdb;
  rocksdb_options_t *opts;
  rocksdb_cache_t *cache;
  rocksdb_readoptions_t *ro;
  rocksdb_writeoptions_t *wo;
  rocksdb_writeoptions_t *wo_unlogged; /* restore: no WAL */
  int lock_fd;
  char *dir;  /* <state_dir>/<app_id>: holds the lock */
  char *path; /* <dir>/rocksdb */
};

struct weir_state_batch {
  rocksdb_writebatch_t *wb;
  int bad_store; /* a store name too long for the key layout was given */
};

struct weir_state_iter {
  rocksdb_iterator_t *it;
  rocksdb_readoptions_t *ro;
  char *lower, *upper; /* RocksDB keeps pointers to the bounds: they live here */
  size_t strip;        /* length of the store-partition prefix of every key */
  int started;
  char err[256];
};

/* ------------------------------------------------------------ key layout */

/* A key built on the stack when it fits, so point reads do not allocate. */
typedef struct {
  char *p;
  size_t len;
  char small[KEY_INLINE];
} db_key_t;

static int store_name_ok(const char *store) {
  return store && strlen(store) <= UINT16_MAX;
}

static void put_be16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)(v >> 8);
  p[1] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static size_t header_len(const char *store) {
  return KEY_FIXED + strlen(store);
}

/* Writes tag | len | name | partition into out (header_len(store) bytes). */
static void write_header(unsigned char *out, int tag, const char *store, int32_t partition) {
  size_t n = strlen(store);
  out[0] = (unsigned char)tag;
  put_be16(out + 1, (uint16_t)n);
  memcpy(out + 3, store, n);
  put_be32(out + 3 + n, (uint32_t)partition);
}

static int key_build(db_key_t *k, int tag, const char *store, int32_t partition, const void *user,
                     size_t user_len) {
  size_t h = header_len(store);
  k->len = h + user_len;
  k->p = k->len <= sizeof k->small ? k->small : malloc(k->len);
  if (!k->p)
    return -1;
  write_header((unsigned char *)k->p, tag, store, partition);
  if (user_len)
    memcpy(k->p + h, user, user_len);
  return 0;
}

static void key_done(db_key_t *k) {
  if (k->p != k->small)
    free(k->p);
}

/* The smallest key greater than every key starting with p[0..len): drop
 * trailing 0xff bytes and increment the last. 0 when there is none. */
static size_t prefix_successor(char *p, size_t len) {
  while (len > 0 && (unsigned char)p[len - 1] == 0xff)
    len--;
  if (len > 0)
    p[len - 1] = (char)((unsigned char)p[len - 1] + 1);
  return len;
}

/* ------------------------------------------------------------ directories */

static char *path_join(const char *a, const char *b) {
  size_t n = strlen(a) + 1 + strlen(b) + 1;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s", a, b);
  return p;
}

static int mkdir_p(const char *path, char *errstr, size_t errstr_size) {
  const char *failed = path;
  if (weir_mkdir_p(path, &failed) == 0)
    return 0;
  snprintf(errstr, errstr_size, "cannot create state directory %s: %s: check state.dir", failed,
           strerror(errno));
  return -1;
}

/* ------------------------------------------------------------ lock file */

static int lock_dir(weir_state_db_t *db, char *errstr, size_t errstr_size) {
  char *lock_path = path_join(db->dir, ".lock");
  if (!lock_path) {
    snprintf(errstr, errstr_size, "out of memory opening state directory %s", db->dir);
    return -1;
  }
  long holder;
  char why[512];
  int rc = weir_pid_lock_take(lock_path, &db->lock_fd, &holder, why, sizeof why);
  free(lock_path);
  if (rc == WEIR_PID_LOCK_ERROR)
    snprintf(errstr, errstr_size, "%s: check state.dir", why);
  else if (rc == WEIR_PID_LOCK_HELD && holder)
    snprintf(errstr, errstr_size,
             "state directory %s is in use by another process (pid %ld): give each instance its "
             "own state.dir",
             db->dir, holder);
  else if (rc == WEIR_PID_LOCK_HELD)
    snprintf(errstr, errstr_size,
             "state directory %s is in use by another process (pid unknown): give each instance "
             "its own state.dir",
             db->dir);
  return rc == WEIR_PID_LOCK_TAKEN ? 0 : -1;
}

/* ------------------------------------------------------------ options */

/* The block cache holds the data blocks and, charged to the same budget,
 * every table's filter and index: outside it they grew with the keys
 * (10 bits of filter a key, never evicted). Filters and indexes are
 * partitioned, so what the cache holds is small blocks, and compaction
 * builds a filter a partition at a time instead of buffering a hash of
 * every key of its output file (33 MiB at 5,000,000 distinct keys, by
 * heaptrack). The top level of each table's index and filter is pinned, as
 * are L0's, so a get finds its partition without reading a file. */
static void set_table_options(weir_state_db_t *db, size_t cache_bytes) {
  rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();
  rocksdb_lru_cache_options_t *co = rocksdb_lru_cache_options_create();
  rocksdb_lru_cache_options_set_capacity(co, cache_bytes);
  /* Few shards: RocksDB's default (capacity / 512 KiB, up to 64) makes a
   * shard of 0.75 MiB, and a block larger than its shard is read, used and
   * dropped at every get — unpartitioned, a filter block is 1.25 bytes a
   * key of its table (before partitioning, a count over 1,000,000 distinct
   * keys with filters in the cache ran at 41,000 records/s and 27 us of
   * CPU a record). A few threads use the cache: contention needs no more. */
  rocksdb_lru_cache_options_set_num_shard_bits(co, CACHE_SHARD_BITS);
  db->cache = rocksdb_cache_create_lru_opts(co);
  rocksdb_lru_cache_options_destroy(co);
  rocksdb_block_based_options_set_block_cache(t, db->cache);
  rocksdb_block_based_options_set_cache_index_and_filter_blocks(t, 1);
  rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(t, 1);
  rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(t, 1);
  rocksdb_block_based_options_set_pin_top_level_index_and_filter(t, 1);
  rocksdb_block_based_options_set_index_type(
      t, rocksdb_block_based_table_index_type_two_level_index_search);
  rocksdb_block_based_options_set_partition_filters(t, 1);
  rocksdb_block_based_options_set_filter_policy(t, rocksdb_filterpolicy_create_bloom_full(10));
  rocksdb_block_based_options_set_format_version(t, 5);
  rocksdb_options_set_block_based_table_factory(db->opts, t);
  rocksdb_block_based_options_destroy(t);
}

/* Three quarters block cache, one quarter memtables: two memtables of half
 * that (one filling, one flushing), capped process-wide by
 * db_write_buffer_size. */
static void set_options(weir_state_db_t *db, int memory_mb, int compression) {
  size_t total = (size_t)memory_mb << 20;
  size_t write_buffers = total / 4;
  db->opts = rocksdb_options_create();
  rocksdb_options_set_create_if_missing(db->opts, 1);
  rocksdb_options_set_db_write_buffer_size(db->opts, write_buffers);
  rocksdb_options_set_write_buffer_size(db->opts, write_buffers / 2);
  rocksdb_options_set_max_write_buffer_number(db->opts, 2);
  /* A whole-key bloom filter in each memtable (2% of it): a get for a key
   * that was never written — every new window, every new key a count sees
   * — skips the skiplist walk, which callgrind put at 10,000 instructions. */
  rocksdb_options_set_memtable_prefix_bloom_size_ratio(db->opts, 0.02);
  rocksdb_options_set_memtable_whole_key_filtering(db->opts, 1);
  rocksdb_options_set_compression(db->opts, compression);
  rocksdb_options_set_info_log_level(db->opts, 2 /* WARN: RocksDB's LOG stays small */);
  rocksdb_options_set_keep_log_file_num(db->opts, 2);
  rocksdb_options_set_max_log_file_size(db->opts, 1 << 20);
  set_table_options(db, total - write_buffers);
}

static void free_options(weir_state_db_t *db) {
  if (db->opts)
    rocksdb_options_destroy(db->opts);
  if (db->cache)
    rocksdb_cache_destroy(db->cache);
  db->opts = NULL;
  db->cache = NULL;
}

/* ------------------------------------------------------------ open / close */

/* Opens with lz4, or without compression when this RocksDB lacks lz4.
 * Returns RocksDB's error (caller frees with rocksdb_free) or NULL. */
static char *open_rocksdb(weir_state_db_t *db, int memory_mb) {
  char *err = NULL;
  set_options(db, memory_mb, rocksdb_lz4_compression);
  db->rdb = rocksdb_open(db->opts, db->path, &err);
  if (db->rdb || !strstr(err, "not linked"))
    return err;
  rocksdb_free(err);
  err = NULL;
  free_options(db);
  set_options(db, memory_mb, rocksdb_no_compression);
  db->rdb = rocksdb_open(db->opts, db->path, &err);
  return err;
}

/* A directory that is not a usable database: damaged files, or CURRENT
 * naming a MANIFEST that is gone. Never I/O trouble such as permissions. */
static int looks_corrupt(const char *err) {
  return strstr(err, "Corruption") ||
         (strstr(err, "No such file") && (strstr(err, "MANIFEST") || strstr(err, "CURRENT")));
}

static int open_or_wipe(weir_state_db_t *db, int memory_mb, int *wiped, char *errstr,
                        size_t errstr_size) {
  char *err = open_rocksdb(db, memory_mb);
  if (err && looks_corrupt(err)) {
    WEIR_WARN("state directory %s is damaged (RocksDB: %s): wiping it; every store will be "
              "restored from its changelog",
              db->path, err);
    rocksdb_free(err);
    err = NULL;
    free_options(db);
    if (weir_rm_rf(db->path) != 0) {
      snprintf(errstr, errstr_size,
               "cannot remove damaged state directory %s: %s: remove it by hand", db->path,
               strerror(errno));
      return -1;
    }
    if (wiped)
      *wiped = 1;
    err = open_rocksdb(db, memory_mb);
  }
  if (err) {
    snprintf(errstr, errstr_size, "cannot open state directory %s: %s", db->path, err);
    rocksdb_free(err);
    return -1;
  }
  return 0;
}

static int app_id_ok(const char *app_id) {
  return app_id && *app_id && !strchr(app_id, '/') && strcmp(app_id, ".") != 0 &&
         strcmp(app_id, "..") != 0;
}

static int check_args(const char *state_dir, const char *app_id, int memory_mb, char *errstr,
                      size_t errstr_size) {
  if (!state_dir || !*state_dir) {
    snprintf(errstr, errstr_size, "state.dir is empty: set it to a writable directory");
    return -1;
  }
  if (!app_id_ok(app_id)) {
    snprintf(errstr, errstr_size,
             "application.id '%s' cannot name a state directory: avoid '/', '.' and '..'",
             app_id ? app_id : "");
    return -1;
  }
  if (memory_mb < 4) {
    snprintf(errstr, errstr_size, "state.memory.mb = %d is too small: use at least 4", memory_mb);
    return -1;
  }
  return 0;
}

static int make_paths(weir_state_db_t *db, const char *state_dir, const char *app_id, char *errstr,
                      size_t errstr_size) {
  db->dir = path_join(state_dir, app_id);
  db->path = db->dir ? path_join(db->dir, "rocksdb") : NULL;
  if (!db->path) {
    snprintf(errstr, errstr_size, "out of memory opening state directory %s/%s", state_dir, app_id);
    return -1;
  }
  return mkdir_p(db->dir, errstr, errstr_size);
}

weir_state_db_t *weir_state_db_open(const char *state_dir, const char *app_id, int memory_mb,
                                    int *wiped, char *errstr, size_t errstr_size) {
  if (wiped)
    *wiped = 0;
  if (check_args(state_dir, app_id, memory_mb, errstr, errstr_size) != 0)
    return NULL;
  weir_state_db_t *db = calloc(1, sizeof *db);
  if (!db) {
    snprintf(errstr, errstr_size, "out of memory opening state directory %s/%s", state_dir, app_id);
    return NULL;
  }
  db->lock_fd = -1;
  if (make_paths(db, state_dir, app_id, errstr, errstr_size) != 0 ||
      lock_dir(db, errstr, errstr_size) != 0 ||
      open_or_wipe(db, memory_mb, wiped, errstr, errstr_size) != 0) {
    weir_state_db_close(db);
    return NULL;
  }
  db->ro = rocksdb_readoptions_create();
  db->wo = rocksdb_writeoptions_create();
  /* WAL on, not synced: a killed process loses nothing, a power cut may
   * lose the tail, which the changelog restores. */
  rocksdb_writeoptions_set_sync(db->wo, 0);
  db->wo_unlogged = rocksdb_writeoptions_create();
  rocksdb_writeoptions_disable_WAL(db->wo_unlogged, 1);
  return db;
}

void weir_state_db_set_wal(weir_state_db_t *db, int on) {
  rocksdb_writeoptions_disable_WAL(db->wo, !on);
}

void weir_state_db_close(weir_state_db_t *db) {
  if (!db)
    return;
  if (db->rdb)
    rocksdb_close(db->rdb);
  free_options(db);
  if (db->ro)
    rocksdb_readoptions_destroy(db->ro);
  if (db->wo)
    rocksdb_writeoptions_destroy(db->wo);
  if (db->wo_unlogged)
    rocksdb_writeoptions_destroy(db->wo_unlogged);
  if (db->lock_fd >= 0)
    close(db->lock_fd); /* releases the flock */
  free(db->path);
  free(db->dir);
  free(db);
}

const char *weir_state_db_path(const weir_state_db_t *db) {
  return db->path;
}

/* ------------------------------------------------------------ reads */

/* Point read of an internal key: 1 + malloc'd copy, 0 absent, -1 error. */
static int raw_get(weir_state_db_t *db, const db_key_t *k, void **value, size_t *value_len,
                   char **err) {
  rocksdb_pinnableslice_t *ps = rocksdb_get_pinned(db->rdb, db->ro, k->p, k->len, err);
  if (*err)
    return -1;
  if (!ps)
    return 0;
  size_t n;
  const char *v = rocksdb_pinnableslice_value(ps, &n);
  /* malloc(n ? n : 1): an empty value is present, and must not look absent. */
  char *copy = malloc(n ? n : 1);
  if (copy && n)
    memcpy(copy, v, n);
  rocksdb_pinnableslice_destroy(ps);
  if (!copy)
    return -1;
  *value = copy;
  *value_len = n;
  return 1;
}

int weir_state_db_get(weir_state_db_t *db, const char *store, int32_t partition, const void *key,
                      size_t key_len, void **value, size_t *value_len, char *errstr,
                      size_t errstr_size) {
  db_key_t k;
  char *err = NULL;
  if (!store_name_ok(store) || key_build(&k, TAG_DATA, store, partition, key, key_len) != 0) {
    snprintf(errstr, errstr_size, "cannot read store %.64s partition %d: bad name or out of memory",
             store ? store : "(null)", (int)partition);
    return -1;
  }
  int rc = raw_get(db, &k, value, value_len, &err);
  key_done(&k);
  if (rc < 0) {
    snprintf(errstr, errstr_size, "cannot read store %s partition %d from %s: %s", store,
             (int)partition, db->path, err ? err : "out of memory");
    rocksdb_free(err);
  }
  return rc;
}

static int64_t decode_be64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return (int64_t)v;
}

int64_t weir_state_db_checkpoint(weir_state_db_t *db, const char *store, int32_t partition,
                                 char *errstr, size_t errstr_size) {
  db_key_t k;
  void *v = NULL;
  size_t n = 0;
  char *err = NULL;
  if (!store_name_ok(store) || key_build(&k, TAG_CHECKPOINT, store, partition, NULL, 0) != 0) {
    snprintf(errstr, errstr_size,
             "cannot read checkpoint of store %.64s: bad name or out of memory",
             store ? store : "(null)");
    return -2;
  }
  int rc = raw_get(db, &k, &v, &n, &err);
  key_done(&k);
  int64_t off = rc == 1 && n == 8 ? decode_be64(v) : -1;
  if (rc < 0 || (rc == 1 && n != 8)) {
    snprintf(errstr, errstr_size,
             "cannot read checkpoint of store %s partition %d in %s: %s: delete the state "
             "directory to restore from the changelog",
             store, (int)partition, db->path,
             err      ? err
             : rc < 0 ? "out of memory"
                      : "bad length");
    off = -2;
  }
  rocksdb_free(err);
  free(v);
  return off;
}

/* ------------------------------------------------------------ batches */

weir_state_batch_t *weir_state_batch_new(void) {
  weir_state_batch_t *b = calloc(1, sizeof *b);
  if (b)
    b->wb = rocksdb_writebatch_create();
  return b;
}

/* The three fixed parts of a key, for putv/deletev: no concatenation. */
typedef struct {
  unsigned char head[3];
  unsigned char part[4];
  const char *parts[4];
  size_t sizes[4];
} key_parts_t;

static int key_parts(key_parts_t *kp, int tag, const char *store, int32_t partition,
                     const void *key, size_t key_len) {
  if (!store_name_ok(store))
    return -1;
  size_t n = strlen(store);
  kp->head[0] = (unsigned char)tag;
  put_be16(kp->head + 1, (uint16_t)n);
  put_be32(kp->part, (uint32_t)partition);
  kp->parts[0] = (const char *)kp->head;
  kp->sizes[0] = 3;
  kp->parts[1] = store;
  kp->sizes[1] = n;
  kp->parts[2] = (const char *)kp->part;
  kp->sizes[2] = 4;
  kp->parts[3] = key_len ? key : "";
  kp->sizes[3] = key_len;
  return 0;
}

void weir_state_batch_put(weir_state_batch_t *b, const char *store, int32_t partition,
                          const void *key, size_t key_len, const void *value, size_t value_len) {
  key_parts_t kp;
  if (key_parts(&kp, TAG_DATA, store, partition, key, key_len) != 0) {
    b->bad_store = 1;
    return;
  }
  const char *v = value_len ? value : "";
  rocksdb_writebatch_putv(b->wb, 4, kp.parts, kp.sizes, 1, &v, &value_len);
}

void weir_state_batch_delete(weir_state_batch_t *b, const char *store, int32_t partition,
                             const void *key, size_t key_len) {
  key_parts_t kp;
  if (key_parts(&kp, TAG_DATA, store, partition, key, key_len) != 0) {
    b->bad_store = 1;
    return;
  }
  rocksdb_writebatch_deletev(b->wb, 4, kp.parts, kp.sizes);
}

void weir_state_batch_checkpoint(weir_state_batch_t *b, const char *store, int32_t partition,
                                 int64_t next_offset) {
  key_parts_t kp;
  unsigned char v[8];
  if (key_parts(&kp, TAG_CHECKPOINT, store, partition, NULL, 0) != 0) {
    b->bad_store = 1;
    return;
  }
  for (int i = 0; i < 8; i++)
    v[i] = (unsigned char)((uint64_t)next_offset >> (56 - 8 * i));
  const char *vp = (const char *)v;
  size_t vn = sizeof v;
  rocksdb_writebatch_putv(b->wb, 3, kp.parts, kp.sizes, 1, &vp, &vn);
}

size_t weir_state_batch_count(const weir_state_batch_t *b) {
  /* rocksdb_writebatch_count takes a non-const pointer but only reads. */
  return (size_t)rocksdb_writebatch_count(((weir_state_batch_t *)b)->wb);
}

/* A batch keeps the buffer of its largest write (a std::string that clear
 * does not shrink), and each task has its own: six tasks held 37 MiB of
 * them under a 10 MiB write cache. One past BATCH_KEEP_BYTES is given back. */
void weir_state_batch_clear(weir_state_batch_t *b) {
  size_t size = 0;
  rocksdb_writebatch_data(b->wb, &size);
  rocksdb_writebatch_t *fresh = size > BATCH_KEEP_BYTES ? rocksdb_writebatch_create() : NULL;
  if (fresh) {
    rocksdb_writebatch_destroy(b->wb);
    b->wb = fresh;
  } else {
    rocksdb_writebatch_clear(b->wb);
  }
  b->bad_store = 0;
}

static int batch_write(weir_state_db_t *db, weir_state_batch_t *b, rocksdb_writeoptions_t *wo,
                       char *errstr, size_t errstr_size) {
  char *err = NULL;
  if (b->bad_store) {
    snprintf(errstr, errstr_size,
             "state batch for %s names a store longer than 65535 bytes: shorten the store name",
             db->path);
    return -1;
  }
  rocksdb_write(db->rdb, wo, b->wb, &err);
  if (err) {
    snprintf(errstr, errstr_size, "cannot write state to %s: %s", db->path, err);
    rocksdb_free(err);
    return -1;
  }
  return 0;
}

int weir_state_batch_write(weir_state_db_t *db, weir_state_batch_t *b, char *errstr,
                           size_t errstr_size) {
  return batch_write(db, b, db->wo, errstr, errstr_size);
}

int weir_state_db_flush(weir_state_db_t *db, char *errstr, size_t errstr_size) {
  char *err = NULL;
  rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
  rocksdb_flushoptions_set_wait(fo, 1);
  rocksdb_flush(db->rdb, fo, &err);
  rocksdb_flushoptions_destroy(fo);
  if (err) {
    snprintf(errstr, errstr_size, "cannot flush %s: %s", db->path, err);
    rocksdb_free(err);
    return -1;
  }
  return 0;
}

int weir_state_batch_write_unlogged(weir_state_db_t *db, weir_state_batch_t *b, char *errstr,
                                    size_t errstr_size) {
  return batch_write(db, b, db->wo_unlogged, errstr, errstr_size);
}

void weir_state_batch_free(weir_state_batch_t *b) {
  if (!b)
    return;
  rocksdb_writebatch_destroy(b->wb);
  free(b);
}

/* A malloc'd key: the store-partition prefix followed by user bytes. */
static char *bound_key(const char *store, int32_t partition, const void *user, size_t user_len,
                       size_t *len) {
  size_t h = header_len(store);
  char *p = malloc(h + user_len + 1);
  if (!p)
    return NULL;
  write_header((unsigned char *)p, TAG_DATA, store, partition);
  if (user_len)
    memcpy(p + h, user, user_len);
  *len = h + user_len;
  return p;
}

void weir_state_batch_delete_range(weir_state_batch_t *b, const char *store, int32_t partition,
                                   const void *from, size_t from_len, const void *to,
                                   size_t to_len) {
  size_t lo_len = 0, hi_len = 0;
  char *lo =
      store_name_ok(store) ? bound_key(store, partition, from, from ? from_len : 0, &lo_len) : NULL;
  char *hi = lo ? bound_key(store, partition, to, to_len, &hi_len) : NULL;
  if (hi)
    rocksdb_writebatch_delete_range(b->wb, lo, lo_len, hi, hi_len);
  else
    b->bad_store = 1; /* the write reports it */
  free(lo);
  free(hi);
}

/* ------------------------------------------------------------ drop */

/* One range delete for the rows and one delete for the checkpoint, in one
 * batch: a crash leaves the store-partition either whole or gone. */
int weir_state_db_drop(weir_state_db_t *db, const char *store, int32_t partition, char *errstr,
                       size_t errstr_size) {
  size_t lo_len = 0, hi_len = 0;
  char *lo = store_name_ok(store) ? bound_key(store, partition, NULL, 0, &lo_len) : NULL;
  char *hi = lo ? bound_key(store, partition, NULL, 0, &hi_len) : NULL;
  weir_state_batch_t *b = hi ? weir_state_batch_new() : NULL;
  key_parts_t kp;
  int rc = -1;
  if (b) {
    /* The data prefix starts with 0x00, so it always has a successor. */
    hi_len = prefix_successor(hi, hi_len);
    rocksdb_writebatch_delete_range(b->wb, lo, lo_len, hi, hi_len);
    key_parts(&kp, TAG_CHECKPOINT, store, partition, NULL, 0);
    rocksdb_writebatch_deletev(b->wb, 3, kp.parts, kp.sizes);
    rc = weir_state_batch_write(db, b, errstr, errstr_size);
  } else {
    snprintf(errstr, errstr_size, "cannot drop store %.64s partition %d: bad name or out of memory",
             store ? store : "(null)", (int)partition);
  }
  weir_state_batch_free(b);
  free(lo);
  free(hi);
  return rc;
}

/* ------------------------------------------------------------ iterators */

/* Bounds are lower <= key < upper over internal keys; upper_len 0 cannot
 * happen (the data tag is 0x00, so every prefix has a successor). */
static weir_state_iter_t *iter_new(weir_state_db_t *db, const char *store, char *lower,
                                   size_t lower_len, char *upper, size_t upper_len) {
  weir_state_iter_t *it = calloc(1, sizeof *it);
  if (!it || !lower || !upper) {
    free(it);
    free(lower);
    free(upper);
    return NULL;
  }
  it->lower = lower;
  it->upper = upper;
  it->strip = header_len(store);
  it->ro = rocksdb_readoptions_create();
  rocksdb_readoptions_set_iterate_lower_bound(it->ro, lower, lower_len);
  rocksdb_readoptions_set_iterate_upper_bound(it->ro, upper, upper_len);
  it->it = rocksdb_create_iterator(db->rdb, it->ro);
  return it;
}

weir_state_iter_t *weir_state_iter_range(weir_state_db_t *db, const char *store, int32_t partition,
                                         const void *from, size_t from_len, const void *to,
                                         size_t to_len) {
  size_t lo_len = 0, hi_len = 0;
  if (!store_name_ok(store))
    return NULL;
  char *lo = bound_key(store, partition, from, from ? from_len : 0, &lo_len);
  char *hi = bound_key(store, partition, to, to ? to_len : 0, &hi_len);
  if (hi && !to)
    hi_len = prefix_successor(hi, hi_len);
  return iter_new(db, store, lo, lo_len, hi, hi_len);
}

weir_state_iter_t *weir_state_iter_prefix(weir_state_db_t *db, const char *store, int32_t partition,
                                          const void *prefix, size_t prefix_len) {
  size_t lo_len = 0, hi_len = 0;
  if (!store_name_ok(store))
    return NULL;
  char *lo = bound_key(store, partition, prefix, prefix_len, &lo_len);
  char *hi = bound_key(store, partition, prefix, prefix_len, &hi_len);
  if (hi)
    hi_len = prefix_successor(hi, hi_len);
  return iter_new(db, store, lo, lo_len, hi, hi_len);
}

/* The row the iterator is on: 1, 0 past the end, -1 on error (it->err). */
static int iter_current(weir_state_iter_t *it, const void **key, size_t *key_len,
                        const void **value, size_t *value_len) {
  it->started = 1;
  if (!rocksdb_iter_valid(it->it)) {
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    if (!err)
      return 0;
    snprintf(it->err, sizeof it->err, "%s", err);
    rocksdb_free(err);
    return -1;
  }
  size_t kn, vn;
  const char *k = rocksdb_iter_key(it->it, &kn);
  *key = k + it->strip;
  *key_len = kn - it->strip;
  *value = rocksdb_iter_value(it->it, &vn);
  *value_len = vn;
  return 1;
}

int weir_state_iter_next(weir_state_iter_t *it, const void **key, size_t *key_len,
                         const void **value, size_t *value_len) {
  if (it->started)
    rocksdb_iter_next(it->it);
  else
    rocksdb_iter_seek_to_first(it->it); /* honours the lower bound */
  return iter_current(it, key, key_len, value, value_len);
}

int weir_state_iter_last(weir_state_iter_t *it, const void **key, size_t *key_len,
                         const void **value, size_t *value_len) {
  rocksdb_iter_seek_to_last(it->it); /* honours the upper bound */
  return iter_current(it, key, key_len, value, value_len);
}

const char *weir_state_iter_error(const weir_state_iter_t *it) {
  return it->err;
}

void weir_state_iter_close(weir_state_iter_t *it) {
  if (!it)
    return;
  rocksdb_iter_destroy(it->it);
  rocksdb_readoptions_destroy(it->ro);
  free(it->lower);
  free(it->upper);
  free(it);
}

long long weir_state_db_estimate(weir_state_db_t *db, const char *name) {
  char *text = db ? rocksdb_property_value(db->rdb, name) : NULL;
  long long v = text ? strtoll(text, NULL, 10) : -1;
  rocksdb_free(text);
  return v;
}

void weir_state_db_memory(weir_state_db_t *db, weir_state_memory_t *out) {
  memset(out, 0, sizeof *out);
  if (!db)
    return;
  out->block_cache = rocksdb_cache_get_usage(db->cache);
  out->block_cache_pinned = rocksdb_cache_get_pinned_usage(db->cache);
  out->block_cache_capacity = rocksdb_cache_get_capacity(db->cache);
  long long mem = weir_state_db_estimate(db, "rocksdb.cur-size-all-mem-tables");
  out->memtables = mem > 0 ? (size_t)mem : 0;
}

long long weir_state_db_store_bytes(weir_state_db_t *db, const char *store) {
  if (!db || !store_name_ok(store))
    return -1;
  size_t h = header_len(store);
  unsigned char *lo = malloc(h), *hi = malloc(h);
  uint64_t size = 0;
  char *err = NULL;
  if (lo && hi) {
    /* Partitions 0 up to 0xffffffff, which no topic has. */
    write_header(lo, TAG_DATA, store, 0);
    write_header(hi, TAG_DATA, store, -1);
    const char *start = (const char *)lo, *limit = (const char *)hi;
    rocksdb_approximate_sizes(db->rdb, 1, &start, &h, &limit, &h, &size, &err);
  }
  long long rc = lo && hi && !err ? (long long)size : -1;
  rocksdb_free(err);
  free(lo);
  free(hi);
  return rc;
}
