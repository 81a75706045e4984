/* kv_store + kv_iter range reads against a model: random puts, deletes,
 * gets, flushes (some failing half-way), skipped and full commits, evictions
 * under a small budget, growing values (entries that move), expired ranges
 * forgotten as window stores forget segments, and range and prefix reads
 * over random bounds (some left open while the store changes, some of the
 * unwritten entries alone), each compared exactly with what the model says
 * the task sees. The ordered
 * index of unwritten entries that range reads use is built by the first
 * one, so each round starts range-reading after a random number of
 * operations. A fixed seed: a failure replays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/kv_iter.h"
#include "state/kv_store.h"
#include "support/state_fixture.h"

typedef weir_test_db_t fx_t;

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof *fx);
  *state = fx;
  return weir_test_db_open(fx, "weir-kv-model");
}

static int teardown(void **state) {
  weir_test_db_close(*state);
  free(*state);
  return 0;
}

/* ------------------------------------------------------------ random */

static uint64_t rng_state;

static uint64_t rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned below(unsigned n) {
  return (unsigned)(rnd() % n);
}

/* ------------------------------------------------------------ keys */

/* Keys are a band byte (0..BANDS-1: the "segment", forgotten from the
 * lowest up as window stores forget expired ones) and 0..3 bytes of
 * {00, 'a', 'b', ff}: short, so keys repeat and prefix one another, with
 * the bytes that bytewise order gets wrong when signed. */
enum { BANDS = 8, PER_BAND = 1 + 4 + 16 + 64, NKEYS = BANDS * PER_BAND, MAXK = 4, MAXV = 400 };
static const unsigned char ALPHA[4] = {0x00, 'a', 'b', 0xff};

typedef struct {
  unsigned char b[MAXK];
  size_t len;
} mkey_t;

static mkey_t keys[NKEYS]; /* sorted bytewise */

static int key_cmp(const void *a, size_t al, const void *b, size_t bl) {
  size_t n = al < bl ? al : bl;
  int c = n ? memcmp(a, b, n) : 0;
  return c ? c : (al > bl) - (al < bl);
}

static int key_sort(const void *a, const void *b) {
  const mkey_t *x = a, *y = b;
  return key_cmp(x->b, x->len, y->b, y->len);
}

static void make_keys(void) {
  size_t n = 0;
  for (int band = 0; band < BANDS; band++)
    for (size_t len = 0; len < MAXK; len++) {
      size_t combos = (size_t)1 << (2 * len);
      for (size_t c = 0; c < combos; c++) {
        mkey_t *k = &keys[n++];
        k->b[0] = (unsigned char)band;
        for (size_t i = 0; i < len; i++)
          k->b[1 + i] = ALPHA[(c >> (2 * i)) & 3];
        k->len = 1 + len;
      }
    }
  assert_int_equal(n, NKEYS);
  qsort(keys, NKEYS, sizeof *keys, key_sort);
}

/* ------------------------------------------------------------ model */

typedef struct {
  int present; /* 0: absent (or a delete) */
  size_t len;
  unsigned char v[MAXV];
} val_t;

enum { NONE, DIRTY, FLUSHED };

enum { OP_PUT, OP_DEL, OP_DROP_BELOW };
typedef struct {
  int kind;
  int key; /* index in keys; OP_DROP_BELOW: the band */
  val_t val;
} op_t;

typedef struct {
  fx_t *fx;
  weir_kv_store_t *s;
  int32_t part;
  weir_state_batch_t *batch;
  val_t db[NKEYS];    /* what RocksDB holds */
  val_t cache[NKEYS]; /* the unwritten value, when state != NONE */
  int state[NKEYS];
  op_t *ops; /* the batch, in order */
  size_t nops, capops;
  int live_band;    /* keys below it are expired: never written again */
  int drop_pending; /* forgotten since the last flush: range-delete then */
  long reads;       /* range and prefix reads compared */
} model_t;

static void add_op(model_t *m, int kind, int key, const val_t *val) {
  if (m->nops == m->capops) {
    m->capops = m->capops ? 2 * m->capops : 256;
    m->ops = realloc(m->ops, m->capops * sizeof *m->ops);
    assert_non_null(m->ops);
  }
  op_t *o = &m->ops[m->nops++];
  o->kind = kind;
  o->key = key;
  if (val)
    o->val = *val;
}

static const val_t *visible(const model_t *m, int k) {
  return m->state[k] != NONE ? &m->cache[k] : &m->db[k];
}

static void random_val(val_t *v) {
  v->present = below(8) != 0;
  /* Mostly short, sometimes long: a value outgrowing its entry moves it. */
  v->len = !v->present ? 0 : below(10) ? below(12) : below(MAXV);
  for (size_t i = 0; i < v->len; i++)
    v->v[i] = (unsigned char)rnd();
}

/* A key of the live bands. */
static int live_key(const model_t *m) {
  for (;;) {
    int k = (int)below(NKEYS);
    if (keys[k].b[0] >= m->live_band)
      return k;
  }
}

/* ------------------------------------------------------------ operations */

static void do_put(model_t *m) {
  int k = live_key(m);
  val_t v;
  random_val(&v);
  int rc = weir_kv_store_put(m->s, keys[k].b, keys[k].len, v.present ? v.v : NULL, v.len);
  assert_true(rc == 0 || rc == 1);
  m->cache[k] = v;
  m->state[k] = DIRTY;
}

static void do_get(model_t *m) {
  int k = live_key(m);
  const void *v;
  size_t n;
  char err[256];
  int rc = weir_kv_store_get(m->s, keys[k].b, keys[k].len, &v, &n, err, sizeof err);
  const val_t *want = visible(m, k);
  assert_int_equal(rc, want->present);
  if (rc == 1) {
    assert_int_equal(n, want->len);
    if (n)
      assert_memory_equal(v, want->v, n);
  }
}

typedef struct {
  int fail_at; /* 1-based call that fails; 0: none */
  int calls;
} flush_cb_t;

static int flush_cb(void *opaque, const void *key, size_t key_len, const void *value,
                    size_t value_len) {
  flush_cb_t *f = opaque;
  return ++f->calls == f->fail_at ? 7 : 0;
}

/* Flush into the batch; with fail, the callback fails at a random call. */
static void do_flush(model_t *m, int fail) {
  int dirty[NKEYS], n = 0;
  for (int k = 0; k < NKEYS; k++) /* keys[] is sorted: flush's order */
    if (m->state[k] == DIRTY)
      dirty[n++] = k;
  assert_int_equal(weir_kv_store_dirty_count(m->s), n);
  flush_cb_t f = {fail ? (int)below((unsigned)n + 2) : 0, 0};
  int rc = weir_kv_store_flush(m->s, m->batch, flush_cb, &f);
  int failed = f.fail_at >= 1 && f.fail_at <= n;
  assert_int_equal(rc, failed ? 7 : 0);
  /* Entries handed over before the failure are in the batch but dirty. */
  int batched = failed ? f.fail_at - 1 : n;
  for (int i = 0; i < batched; i++) {
    int k = dirty[i];
    add_op(m, m->cache[k].present ? OP_PUT : OP_DEL, k, &m->cache[k]);
    if (!failed)
      m->state[k] = FLUSHED;
  }
  if (!failed && m->drop_pending) { /* as weir_window_store_flush */
    unsigned char to = (unsigned char)m->live_band;
    weir_state_batch_delete_range(m->batch, "s", m->part, NULL, 0, &to, 1);
    add_op(m, OP_DROP_BELOW, m->live_band, NULL);
    m->drop_pending = 0;
  }
}

/* The batch is in RocksDB: then batch_written. */
static void do_written(model_t *m) {
  assert_int_equal(weir_state_batch_write(m->fx->db, m->batch, m->fx->err, sizeof m->fx->err), 0);
  weir_state_batch_free(m->batch);
  m->batch = weir_state_batch_new();
  for (size_t i = 0; i < m->nops; i++) {
    op_t *o = &m->ops[i];
    if (o->kind == OP_DROP_BELOW) {
      for (int k = 0; k < NKEYS; k++)
        if (keys[k].b[0] < o->key)
          m->db[k].present = 0;
    } else {
      m->db[o->key] = o->val;
    }
  }
  m->nops = 0;
  weir_kv_store_batch_written(m->s);
  for (int k = 0; k < NKEYS; k++)
    if (m->state[k] == FLUSHED)
      m->state[k] = NONE;
}

/* The lowest live band expires: out of the cache now, out of RocksDB by a
 * range delete at the next flush (a window store's segment). */
static void do_forget(model_t *m) {
  if (m->live_band >= BANDS - 2)
    return;
  m->live_band++;
  unsigned char to = (unsigned char)m->live_band;
  weir_kv_store_forget_range(m->s, NULL, 0, &to, 1);
  for (int k = 0; k < NKEYS; k++)
    if (keys[k].b[0] < m->live_band)
      m->state[k] = NONE;
  m->drop_pending = 1;
}

/* ------------------------------------------------------------ reads */

typedef struct {
  int prefix;
  unsigned char from[MAXK], to[MAXK];
  size_t from_len, to_len;
  int has_from, has_to;
  int unwritten; /* the cache's unwritten entries alone (weir_kv_iter_*_unwritten) */
} bounds_t;

/* A bound: a key of the universe, or random bytes between them. */
static void random_bound(unsigned char *b, size_t *len) {
  if (below(2)) {
    const mkey_t *k = &keys[below(NKEYS)];
    memcpy(b, k->b, k->len);
    *len = k->len;
    return;
  }
  *len = below(MAXK + 1);
  for (size_t i = 0; i < *len; i++)
    b[i] = i == 0 ? (unsigned char)below(BANDS + 1) : (unsigned char)rnd();
}

static void random_bounds(bounds_t *q) {
  memset(q, 0, sizeof *q);
  q->prefix = below(4) == 0;
  q->unwritten = below(5) == 0;
  q->has_from = q->prefix ? below(10) != 0 : below(5) != 0;
  q->has_to = !q->prefix && below(5) != 0;
  if (q->has_from)
    random_bound(q->from, &q->from_len);
  if (q->has_to)
    random_bound(q->to, &q->to_len);
  /* Mostly from <= to: a narrow range, as a window fetch reads. */
  if (q->has_from && q->has_to && below(8) && key_cmp(q->from, q->from_len, q->to, q->to_len) > 0) {
    unsigned char t[MAXK];
    size_t tl = q->from_len;
    memcpy(t, q->from, tl);
    memcpy(q->from, q->to, q->to_len);
    q->from_len = q->to_len;
    memcpy(q->to, t, tl);
    q->to_len = tl;
  }
}

static int in_query(const bounds_t *q, const mkey_t *k) {
  if (q->prefix)
    return !q->has_from || (k->len >= q->from_len && memcmp(k->b, q->from, q->from_len) == 0);
  if (q->has_from && key_cmp(k->b, k->len, q->from, q->from_len) < 0)
    return 0;
  return !q->has_to || key_cmp(k->b, k->len, q->to, q->to_len) < 0;
}

static weir_kv_iter_t *open_query(model_t *m, const bounds_t *q) {
  const void *from = q->has_from ? q->from : NULL;
  const void *to = q->has_to ? q->to : NULL;
  weir_kv_iter_t *it =
      q->unwritten
          ? (q->prefix ? weir_kv_iter_prefix_unwritten(m->s, from, q->from_len)
                       : weir_kv_iter_range_unwritten(m->s, from, q->from_len, to, q->to_len))
          : (q->prefix ? weir_kv_iter_prefix(m->s, from, q->from_len)
                       : weir_kv_iter_range(m->s, from, q->from_len, to, q->to_len));
  assert_non_null(it);
  return it;
}

/* What the model says the read yields: key indices, in order. */
typedef struct {
  int k[NKEYS];
  val_t v[NKEYS];
  int n;
} expect_t;

static void expect_query(const model_t *m, const bounds_t *q, expect_t *e) {
  e->n = 0;
  for (int k = 0; k < NKEYS; k++) {
    const val_t *v = visible(m, k);
    if (q->unwritten && m->state[k] == NONE)
      continue;
    if (v->present && in_query(q, &keys[k])) {
      e->k[e->n] = k;
      e->v[e->n++] = *v;
    }
  }
}

static void check_query(model_t *m, weir_kv_iter_t *it, const expect_t *e, long op) {
  const void *k, *v;
  size_t kl, vl;
  int i = 0, rc;
  while ((rc = weir_kv_iter_next(it, &k, &kl, &v, &vl)) == 1) {
    if (i >= e->n)
      fail_msg("op %ld: read yields more than the %d rows expected", op, e->n);
    const mkey_t *want = &keys[e->k[i]];
    if (key_cmp(k, kl, want->b, want->len) != 0)
      fail_msg("op %ld: row %d has the wrong key (length %zu, want %zu)", op, i, kl, want->len);
    if (vl != e->v[i].len || (vl && memcmp(v, e->v[i].v, vl) != 0))
      fail_msg("op %ld: row %d has the wrong value", op, i);
    i++;
  }
  assert_int_equal(rc, 0);
  if (i != e->n)
    fail_msg("op %ld: read yields %d rows, want %d", op, i, e->n);
  weir_kv_iter_close(it);
  m->reads++;
}

static expect_t expected;

static void do_read(model_t *m, long op) {
  bounds_t q;
  random_bounds(&q);
  expect_query(m, &q, &expected);
  check_query(m, open_query(m, &q), &expected, op);
}

/* The store hands over exactly the model's unwritten entries, deletes
 * included, in order. */
typedef struct {
  const model_t *m;
  int next; /* the key index to look from */
  long op;
} unwritten_t;

static int check_unwritten(void *opaque, const void *key, size_t key_len, const void *value,
                           size_t value_len) {
  unwritten_t *u = opaque;
  while (u->next < NKEYS && u->m->state[u->next] == NONE)
    u->next++;
  if (u->next == NKEYS)
    fail_msg("op %ld: an entry the model holds written", u->op);
  int k = u->next++;
  const val_t *want = &u->m->cache[k];
  if (key_cmp(key, key_len, keys[k].b, keys[k].len) != 0)
    fail_msg("op %ld: unwritten entry of the wrong key", u->op);
  if ((value != NULL) != want->present || value_len != want->len ||
      (value_len && memcmp(value, want->v, value_len) != 0))
    fail_msg("op %ld: unwritten entry of the wrong value", u->op);
  return 0;
}

static void do_unwritten(model_t *m, long op) {
  unwritten_t u = {m, 0, op};
  assert_int_equal(weir_kv_store_unwritten_from(m->s, NULL, 0, check_unwritten, &u), 0);
  while (u.next < NKEYS && m->state[u.next] == NONE)
    u.next++;
  if (u.next != NKEYS)
    fail_msg("op %ld: an unwritten entry not handed over", op);
}

static void mutate(model_t *m);

/* An iterator shows the store as it was when opened, whatever is done to
 * the store before it is read. */
static void do_read_while_changing(model_t *m, long op) {
  bounds_t q;
  random_bounds(&q);
  expect_query(m, &q, &expected);
  weir_kv_iter_t *it = open_query(m, &q);
  for (unsigned i = 1 + below(6); i > 0; i--)
    mutate(m);
  check_query(m, it, &expected, op);
}

/* ------------------------------------------------------------ driver */

static void mutate(model_t *m) {
  unsigned r = below(100);
  if (r < 50)
    do_put(m);
  else if (r < 65)
    do_get(m);
  else if (r < 75)
    do_flush(m, 0);
  else if (r < 78)
    do_flush(m, 1);
  else if (r < 88)
    do_written(m);
  else if (r < 96) {
    do_flush(m, 0);
    do_written(m);
  } else if (r < 97) {
    if (below(8) == 0) /* a few times a round: the bands stay in use */
      do_forget(m);
  } else /* budget: small (eviction at each write, gets not cached) or not */
    m->fx->budget.max = below(2) ? 2000 + below(4000) : 1 << 20;
}

/* One store through `ops` operations, range-reading from operation
 * `first_read` on. */
static void run_round(fx_t *fx, int32_t part, long ops, long first_read) {
  model_t *m = calloc(1, sizeof *m);
  assert_non_null(m);
  m->fx = fx;
  m->part = part;
  m->s = weir_kv_store_new(fx->db, "s", part, &fx->budget);
  m->batch = weir_state_batch_new();
  assert_non_null(m->s);
  for (long op = 0; op < ops; op++) {
    unsigned r = below(100);
    if (op >= first_read && r < 2)
      do_unwritten(m, op);
    else if (op >= first_read && r < 25)
      do_read(m, op);
    else if (op >= first_read && r < 28)
      do_read_while_changing(m, op);
    else
      mutate(m);
  }
  /* Everything written: the reads see RocksDB alone. */
  do_flush(m, 0);
  do_written(m);
  do_read(m, ops);
  assert_true(m->reads > (ops - first_read) / 5);
  weir_kv_store_free(m->s);
  weir_state_batch_free(m->batch);
  free(m->ops);
  free(m);
  fx->budget.max = 1 << 20;
  assert_int_equal(atomic_load(&fx->budget.used), 0);
}

static void test_ranges_match_the_model(void **state) {
  fx_t *fx = *state;
  rng_state = 0x5eed0f2026d1ce5ULL;
  make_keys();
  for (int32_t round = 0; round < 8; round++)
    run_round(fx, round, 4000, below(2) ? 0 : below(1500));
}

/* Many entries, one read between two of them: the store hands over the
 * entries from the bound on, in order, and stops when asked, so a narrow
 * read costs what it reads. */
typedef struct {
  int calls;
  char first[16];
} visit_t;

static int visit_two(void *opaque, const void *key, size_t key_len, const void *value,
                     size_t value_len) {
  visit_t *v = opaque;
  if (v->calls++ == 0)
    snprintf(v->first, sizeof v->first, "%.*s", (int)key_len, (const char *)key);
  return v->calls == 2;
}

static void test_unwritten_from_stops(void **state) {
  fx_t *fx = *state;
  char k[16];
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 0, NULL);
  for (int i = 9999; i >= 0; i--) {
    snprintf(k, sizeof k, "k%05d", i);
    assert_int_equal(weir_kv_store_put(s, k, strlen(k), "v", 1), 0);
  }
  visit_t v = {0, ""};
  assert_int_equal(weir_kv_store_unwritten_from(s, "k04999x", 7, visit_two, &v), 0);
  assert_int_equal(v.calls, 2);
  assert_string_equal(v.first, "k05000");
  weir_kv_store_free(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_ranges_match_the_model),
      T(test_unwritten_from_stops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
