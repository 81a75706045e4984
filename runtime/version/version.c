#include "version/version.h"

#include <stdlib.h>

weir_version_t *weir_version_new(weir_topology_t *topo, unsigned number) {
  weir_version_t *v = calloc(1, sizeof *v);
  if (!v)
    return NULL;
  v->topo = topo;
  v->number = number;
  atomic_init(&v->users, 1);
  return v;
}

void weir_version_acquire(weir_version_t *v) {
  if (v)
    atomic_fetch_add_explicit(&v->users, 1, memory_order_relaxed);
}

void weir_version_release(weir_version_t *v) {
  /* acq_rel: every use of the version by the other users happens before
   * the free below. */
  if (!v || atomic_fetch_sub_explicit(&v->users, 1, memory_order_acq_rel) != 1)
    return;
  weir_topology_free(v->topo); /* dlclose, and the staged copies go */
  free(v);
}

static weir_published_t *snapshot_new(size_t node_count) {
  weir_published_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->node_count = node_count;
  s->impl = calloc(node_count + 1, sizeof *s->impl);
  s->version = calloc(node_count + 1, sizeof *s->version);
  if (!s->impl || !s->version) {
    free(s->impl);
    free(s->version);
    free(s);
    return NULL;
  }
  atomic_init(&s->refs, 1);
  return s;
}

int weir_publisher_init(weir_publisher_t *p, const weir_topology_t *first) {
  p->current = snapshot_new(first->node_count);
  if (!p->current)
    return -1;
  for (size_t i = 0; i < first->node_count; i++)
    p->current->impl[i] = first->nodes[i];
  pthread_mutex_init(&p->mu, NULL);
  return 0;
}

void weir_publisher_destroy(weir_publisher_t *p) {
  if (!p->current)
    return;
  weir_published_release(p->current);
  p->current = NULL;
  pthread_mutex_destroy(&p->mu);
}

weir_published_t *weir_publisher_acquire(weir_publisher_t *p) {
  pthread_mutex_lock(&p->mu);
  weir_published_t *s = p->current;
  atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
  pthread_mutex_unlock(&p->mu);
  return s;
}

void weir_published_release(weir_published_t *s) {
  if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
    return;
  for (size_t i = 0; i < s->node_count; i++)
    weir_version_release(s->version[i]);
  free(s->impl);
  free(s->version);
  free(s);
}

int weir_publisher_publish(weir_publisher_t *p, const unsigned char *moving, weir_version_t *v) {
  weir_published_t *cur = weir_publisher_acquire(p);
  weir_published_t *next = snapshot_new(cur->node_count);
  if (!next) {
    weir_published_release(cur);
    return -1;
  }
  for (size_t i = 0; i < cur->node_count; i++) {
    next->impl[i] = moving[i] ? v->topo->nodes[i] : cur->impl[i];
    next->version[i] = moving[i] ? v : cur->version[i];
    weir_version_acquire(next->version[i]);
  }
  pthread_mutex_lock(&p->mu);
  weir_published_t *old = p->current;
  p->current = next;
  pthread_mutex_unlock(&p->mu);
  weir_published_release(cur);
  weir_published_release(old); /* the publisher's own reference */
  return 0;
}
