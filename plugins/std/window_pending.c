#include "window_pending.h"

#include <stdlib.h>
#include <string.h>

void win_pending_free(win_pending_t *p) {
  win_pending_items_free(p->v, p->n);
  p->v = NULL;
  p->n = p->cap = 0;
}

void win_pending_items_free(win_pending_item_t *items, size_t count) {
  for (size_t i = 0; i < count; i++)
    free(items[i].key);
  free(items);
}

static void give_up(win_pending_t *p) {
  win_pending_free(p);
  p->broken = 1;
}

void win_pending_add(win_pending_t *p, const void *key, size_t key_len, int64_t start) {
  if (p->broken)
    return;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 256;
    win_pending_item_t *grown = realloc(p->v, cap * sizeof *grown);
    if (!grown) {
      give_up(p);
      return;
    }
    p->v = grown;
    p->cap = cap;
  }
  char *copy = malloc(key_len ? key_len : 1);
  if (!copy) {
    give_up(p);
    return;
  }
  if (key_len)
    memcpy(copy, key, key_len);
  p->v[p->n++] = (win_pending_item_t){start, key_len, copy};
}

int win_pending_usable(const win_pending_t *p) {
  return p->complete && !p->broken;
}

void win_pending_closed(win_pending_t *p, int64_t to, int scanned) {
  size_t kept = 0;
  for (size_t i = 0; i < p->n; i++) {
    if (p->v[i].start <= to)
      free(p->v[i].key);
    else
      p->v[kept++] = p->v[i];
  }
  p->n = kept;
  if (scanned)
    p->complete = 1;
}

static int item_cmp(const void *a, const void *b) {
  const win_pending_item_t *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = n ? memcmp(x->key, y->key, n) : 0;
  return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

int win_pending_due(win_pending_t *p, int64_t from, int64_t to, win_pending_item_t **out,
                    size_t *count) {
  size_t due = 0;
  *out = NULL;
  *count = 0;
  for (size_t i = 0; i < p->n; i++)
    due += p->v[i].start >= from && p->v[i].start <= to;
  if (!due)
    return 0;
  win_pending_item_t *items = malloc(due * sizeof *items);
  if (!items)
    return -1;
  size_t kept = 0;
  for (size_t i = 0; i < p->n; i++) {
    if (p->v[i].start >= from && p->v[i].start <= to)
      items[(*count)++] = p->v[i];
    else
      p->v[kept++] = p->v[i];
  }
  p->n = kept;
  qsort(items, *count, sizeof *items, item_cmp);
  *out = items;
  return 0;
}
