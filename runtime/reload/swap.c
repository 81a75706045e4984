#include "reload/swap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int weir_swap_init(weir_swap_t *s, const weir_topology_t *first) {
  memset(s, 0, sizeof *s);
  s->node_count = first->node_count;
  s->current_impl = calloc(first->node_count + 1, sizeof *s->current_impl);
  s->current_version = calloc(first->node_count + 1, sizeof *s->current_version);
  s->moving = calloc(first->node_count + 1, 1);
  if (!s->current_impl || !s->current_version || !s->moving)
    return -1;
  for (size_t i = 0; i < first->node_count; i++)
    s->current_impl[i] = first->nodes[i];
  pthread_mutex_init(&s->mu, NULL);
  return 0;
}

void weir_swap_destroy(weir_swap_t *s) {
  for (size_t i = 0; s->current_version && i < s->node_count; i++)
    weir_version_release(s->current_version[i]);
  free(s->current_impl);
  free(s->current_version);
  free(s->moving);
  pthread_mutex_destroy(&s->mu);
  memset(s, 0, sizeof *s);
}

void weir_version_acquire(weir_version_t *v) {
  if (v)
    atomic_fetch_add(&v->users, 1);
}

void weir_version_release(weir_version_t *v) {
  if (!v || atomic_fetch_sub(&v->users, 1) != 1)
    return;
  weir_topology_free(v->topo); /* dlclose, and the staged copies go */
  free(v);
}

void weir_swap_fail(weir_swap_t *s, const char *fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&s->mu);
  if (!atomic_load(&s->failed)) {
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
    atomic_store(&s->failed, 1);
  }
  pthread_mutex_unlock(&s->mu);
}
