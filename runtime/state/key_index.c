/* key_index — the treap of key_index.h. Node ids index one array (node 0
 * is the "none" id, never used), so growing the array moves no id; free
 * nodes are chained through their `left` link. */
#include "state/key_index.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  const unsigned char *key;
  uint32_t key_len;
  uint32_t prio; /* a parent's is >= its children's */
  uint32_t left, right, parent;
} node_t;

_Static_assert(sizeof(node_t) <= WEIR_KEY_INDEX_NODE_BYTES, "node size");

struct weir_key_index {
  node_t *v;
  uint32_t cap;   /* nodes in v, node 0 included */
  uint32_t used;  /* nodes handed out at least once, node 0 included */
  uint32_t free;  /* a removed node to reuse first; 0: none */
  uint32_t count; /* keys indexed */
  uint32_t root;
  uint64_t rng; /* xorshift64 state for the priorities */
};

weir_key_index_t *weir_key_index_new(void) {
  weir_key_index_t *x = calloc(1, sizeof *x);
  if (x) {
    x->used = 1;
    /* A fixed seed: the same inserts build the same tree, so a slow case
     * can be replayed. Nothing an input controls picks the priorities. */
    x->rng = 0x9e3779b97f4a7c15ULL;
  }
  return x;
}

void weir_key_index_free(weir_key_index_t *x) {
  if (x)
    free(x->v);
  free(x);
}

int weir_key_index_reserve(weir_key_index_t *x, size_t n) {
  size_t need = (size_t)x->count + n + 1; /* + node 0 */
  if (need <= x->cap)
    return 0;
  if (need > UINT32_MAX)
    return -1;
  size_t cap = x->cap ? x->cap : 64;
  while (cap < need)
    cap *= 2;
  if (cap > UINT32_MAX)
    cap = UINT32_MAX;
  node_t *v = realloc(x->v, cap * sizeof *v);
  if (!v)
    return -1;
  x->v = v;
  x->cap = (uint32_t)cap;
  return 0;
}

size_t weir_key_index_count(const weir_key_index_t *x) {
  return x->count;
}

static uint32_t next_prio(weir_key_index_t *x) {
  x->rng ^= x->rng << 13;
  x->rng ^= x->rng >> 7;
  x->rng ^= x->rng << 17;
  return (uint32_t)(x->rng >> 32);
}

/* RocksDB's bytewise order. */
static int key_cmp(const void *a, size_t a_len, const void *b, size_t b_len) {
  size_t n = a_len < b_len ? a_len : b_len;
  int c = n ? memcmp(a, b, n) : 0;
  return c ? c : (a_len > b_len) - (a_len < b_len);
}

/* Point whatever links to `old` (its parent's child link, or the root) at
 * `now`. */
static void replace_child(weir_key_index_t *x, uint32_t parent, uint32_t old, uint32_t now) {
  if (!parent)
    x->root = now;
  else if (x->v[parent].left == old)
    x->v[parent].left = now;
  else
    x->v[parent].right = now;
}

/* Rotate node c above its parent, keeping the key order. */
static void rotate_up(weir_key_index_t *x, uint32_t c) {
  node_t *v = x->v;
  uint32_t p = v[c].parent, g = v[p].parent, b;
  if (v[p].left == c) {
    b = v[c].right;
    v[p].left = b;
    v[c].right = p;
  } else {
    b = v[c].left;
    v[p].right = b;
    v[c].left = p;
  }
  if (b)
    v[b].parent = p;
  v[p].parent = c;
  v[c].parent = g;
  replace_child(x, g, p, c);
}

uint32_t weir_key_index_insert(weir_key_index_t *x, const void *key, size_t key_len) {
  uint32_t id;
  if (x->free) {
    id = x->free;
    x->free = x->v[id].left;
  } else {
    id = x->used++; /* reserved: used < cap */
  }
  node_t *v = x->v;
  v[id] = (node_t){key, (uint32_t)key_len, next_prio(x), 0, 0, 0};
  uint32_t parent = 0, cur = x->root;
  int left = 0;
  while (cur) {
    parent = cur;
    left = key_cmp(key, key_len, v[cur].key, v[cur].key_len) < 0;
    cur = left ? v[cur].left : v[cur].right;
  }
  v[id].parent = parent;
  if (!parent)
    x->root = id;
  else if (left)
    v[parent].left = id;
  else
    v[parent].right = id;
  while (v[id].parent && v[v[id].parent].prio < v[id].prio)
    rotate_up(x, id);
  x->count++;
  return id;
}

void weir_key_index_remove(weir_key_index_t *x, uint32_t id) {
  node_t *v = x->v;
  /* Rotate it down (its higher-priority child up) until it is a leaf. */
  while (v[id].left || v[id].right) {
    uint32_t l = v[id].left, r = v[id].right;
    rotate_up(x, !l ? r : !r ? l : v[l].prio > v[r].prio ? l : r);
  }
  replace_child(x, v[id].parent, id, 0);
  v[id].key = NULL;
  v[id].left = x->free;
  x->free = id;
  /* Empty (a store's index empties at most commits): hand out ids from
   * the start again, so the next ones are adjacent in memory. */
  if (--x->count == 0) {
    x->used = 1;
    x->free = 0;
  }
}

void weir_key_index_move(weir_key_index_t *x, uint32_t id, const void *key) {
  x->v[id].key = key;
}

uint32_t weir_key_index_seek(const weir_key_index_t *x, const void *from, size_t from_len) {
  const node_t *v = x->v;
  uint32_t best = 0;
  for (uint32_t cur = x->root; cur;) {
    if (!from || key_cmp(v[cur].key, v[cur].key_len, from, from_len) >= 0) {
      best = cur;
      cur = v[cur].left;
    } else {
      cur = v[cur].right;
    }
  }
  return best;
}

uint32_t weir_key_index_next(const weir_key_index_t *x, uint32_t id) {
  const node_t *v = x->v;
  if (v[id].right) {
    id = v[id].right;
    while (v[id].left)
      id = v[id].left;
    return id;
  }
  uint32_t p = v[id].parent;
  while (p && v[p].right == id) {
    id = p;
    p = v[p].parent;
  }
  return p;
}

const void *weir_key_index_key(const weir_key_index_t *x, uint32_t id, size_t *key_len) {
  *key_len = x->v[id].key_len;
  return x->v[id].key;
}
