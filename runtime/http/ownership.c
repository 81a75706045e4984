#include "http/ownership.h"

#include <stdlib.h>
#include <string.h>

weir_ownership_t *weir_ownership_new(int subtopologies, const int32_t *partitions, int threads) {
  weir_ownership_t *o = calloc(1, sizeof *o);
  if (!o)
    return NULL;
  o->subtopologies = subtopologies;
  o->thread_count = threads;
  o->partitions = calloc((size_t)subtopologies + 1, sizeof *o->partitions);
  o->slots = calloc((size_t)subtopologies + 1, sizeof *o->slots);
  o->threads = calloc((size_t)threads + 1, sizeof *o->threads);
  if (!o->partitions || !o->slots || !o->threads) {
    weir_ownership_free(o);
    return NULL;
  }
  for (int i = 0; i < threads; i++)
    pthread_mutex_init(&o->threads[i].mu, NULL);
  for (int s = 0; s < subtopologies; s++) {
    o->partitions[s] = partitions[s] > 0 ? partitions[s] : 0;
    o->slots[s] = calloc((size_t)o->partitions[s] + 1, sizeof *o->slots[s]);
    if (!o->slots[s]) {
      weir_ownership_free(o);
      return NULL;
    }
    for (int32_t p = 0; p < o->partitions[s]; p++) {
      atomic_store(&o->slots[s][p].stream_time, -1);
      atomic_store(&o->slots[s][p].lag, -1);
    }
  }
  return o;
}

void weir_ownership_free(weir_ownership_t *o) {
  if (!o)
    return;
  for (int s = 0; o->slots && s < o->subtopologies; s++)
    free(o->slots[s]);
  for (int i = 0; o->threads && i < o->thread_count; i++) {
    weir_ownership_metrics_free(o->threads[i].metrics, o->threads[i].metric_count);
    free(o->threads[i].node_stats);
    pthread_mutex_destroy(&o->threads[i].mu);
  }
  free(o->slots);
  free(o->partitions);
  free(o->threads);
  free(o);
}

weir_own_slot_t *weir_ownership_slot(const weir_ownership_t *o, int subtopology,
                                     int32_t partition) {
  if (!o || subtopology < 0 || subtopology >= o->subtopologies || partition < 0 ||
      partition >= o->partitions[subtopology])
    return NULL;
  return &o->slots[subtopology][partition];
}

void weir_ownership_set(weir_ownership_t *o, int subtopology, int32_t partition,
                        weir_own_state_t state, int thread) {
  weir_own_slot_t *s = weir_ownership_slot(o, subtopology, partition);
  if (!s || (atomic_load(&s->state) == (int)state && atomic_load(&s->thread) == thread))
    return;
  /* Bumped before and after: a reader that saw the old generation and
   * state, and the same generation after its read, read before this. */
  atomic_fetch_add(&s->gen, 1);
  atomic_store(&s->thread, thread);
  atomic_store(&s->state, (int)state);
  if (state != WEIR_OWN_RESTORING) {
    atomic_store(&s->restore_done, 0);
    atomic_store(&s->restore_total, 0);
  }
  atomic_fetch_add(&s->gen, 1);
}

void weir_ownership_metrics_free(weir_own_metric_t *m, size_t count) {
  for (size_t i = 0; m && i < count; i++)
    free(m[i].name);
  free(m);
}

void weir_ownership_set_metrics(weir_ownership_t *o, int thread, weir_own_metric_t *metrics,
                                size_t count) {
  if (!o || thread < 0 || thread >= o->thread_count) {
    weir_ownership_metrics_free(metrics, count);
    return;
  }
  weir_own_thread_t *t = &o->threads[thread];
  pthread_mutex_lock(&t->mu);
  weir_own_metric_t *old = t->metrics;
  size_t old_count = t->metric_count;
  t->metrics = metrics;
  t->metric_count = count;
  pthread_mutex_unlock(&t->mu);
  weir_ownership_metrics_free(old, old_count);
}

/* Add one counter to `out`, summing with an equal (node, name). */
static int merge_one(weir_own_metric_t **out, size_t *count, size_t *cap,
                     const weir_own_metric_t *m) {
  for (size_t i = 0; i < *count; i++)
    if ((*out)[i].node == m->node && strcmp((*out)[i].name, m->name) == 0) {
      (*out)[i].value += m->value;
      return 0;
    }
  if (*count == *cap) {
    size_t ncap = *cap ? *cap * 2 : 16;
    weir_own_metric_t *grown = realloc(*out, ncap * sizeof *grown);
    if (!grown)
      return -1;
    *out = grown;
    *cap = ncap;
  }
  char *name = strdup(m->name);
  if (!name)
    return -1;
  (*out)[(*count)++] = (weir_own_metric_t){m->node, name, m->value};
  return 0;
}

int weir_ownership_metrics(weir_ownership_t *o, weir_own_metric_t **out, size_t *count) {
  size_t cap = 0;
  int rc = 0;
  *out = NULL;
  *count = 0;
  for (int i = 0; i < o->thread_count; i++) {
    weir_own_thread_t *t = &o->threads[i];
    pthread_mutex_lock(&t->mu);
    for (size_t k = 0; rc == 0 && k < t->metric_count; k++)
      rc = merge_one(out, count, &cap, &t->metrics[k]);
    pthread_mutex_unlock(&t->mu);
  }
  if (rc) {
    weir_ownership_metrics_free(*out, *count);
    *out = NULL;
    *count = 0;
  }
  return rc;
}

int weir_ownership_set_stats(weir_ownership_t *o, int thread, const weir_node_stats_t *nodes,
                             size_t node_count, const weir_policy_stats_t *policy) {
  if (!o || thread < 0 || thread >= o->thread_count)
    return 0;
  weir_own_thread_t *t = &o->threads[thread];
  int rc = 0;
  pthread_mutex_lock(&t->mu);
  if (t->node_count != node_count) {
    weir_node_stats_t *fresh = calloc(node_count ? node_count : 1, sizeof *fresh);
    if (fresh) {
      free(t->node_stats);
      t->node_stats = fresh;
      t->node_count = node_count;
    }
  }
  if (t->node_count == node_count) {
    memcpy(t->node_stats, nodes, node_count * sizeof *nodes);
    t->policy_stats = *policy;
  } else {
    rc = -1;
  }
  pthread_mutex_unlock(&t->mu);
  return rc;
}

int weir_ownership_stats(weir_ownership_t *o, size_t node_count, weir_node_stats_t **nodes,
                         weir_policy_stats_t *policy) {
  *nodes = calloc(node_count ? node_count : 1, sizeof **nodes);
  memset(policy, 0, sizeof *policy);
  if (!*nodes)
    return -1;
  for (int i = 0; i < o->thread_count; i++) {
    weir_own_thread_t *t = &o->threads[i];
    pthread_mutex_lock(&t->mu);
    for (size_t n = 0; n < node_count && n < t->node_count; n++)
      weir_node_stats_add(&(*nodes)[n], &t->node_stats[n]);
    weir_policy_stats_add(policy, &t->policy_stats);
    pthread_mutex_unlock(&t->mu);
  }
  return 0;
}
