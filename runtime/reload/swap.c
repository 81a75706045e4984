#include "reload/swap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *phase_name(int phase) {
  static const char *const names[] = {"idle", "prepare", "commit", "abort"};
  return names[phase & 3];
}

int weir_swap_init(weir_swap_t *s, const weir_topology_t *first) {
  memset(s, 0, sizeof *s);
  s->moving = calloc(first->node_count + 1, 1);
  if (!s->moving || weir_publisher_init(&s->versions, first)) {
    free(s->moving);
    s->moving = NULL;
    return -1;
  }
  s->swaps = 1;
  pthread_mutex_init(&s->mu, NULL);
  return 0;
}

void weir_swap_destroy(weir_swap_t *s) {
  weir_publisher_destroy(&s->versions);
  free(s->moving);
  pthread_mutex_destroy(&s->mu);
  memset(s, 0, sizeof *s);
}

void weir_swap_join(weir_swap_t *s, weir_swap_member_t *m, int index) {
  m->index = index;
  atomic_init(&m->served, 0);
  pthread_mutex_lock(&s->mu);
  m->next = s->members;
  s->members = m;
  pthread_mutex_unlock(&s->mu);
}

void weir_swap_leave(weir_swap_t *s, weir_swap_member_t *m) {
  pthread_mutex_lock(&s->mu);
  for (weir_swap_member_t **p = &s->members; *p; p = &(*p)->next)
    if (*p == m) {
      *p = m->next;
      break;
    }
  pthread_mutex_unlock(&s->mu);
}

int weir_swap_begin(weir_swap_t *s, weir_swap_member_t *m, weir_swap_phase_t *ph) {
  unsigned gen = atomic_load_explicit(&s->generation, memory_order_acquire);
  if (gen == atomic_load_explicit(&m->served, memory_order_relaxed))
    return WEIR_SWAP_IDLE;
  if ((gen & 3) == WEIR_SWAP_IDLE) {
    /* Joined after the last phase, or idle again: nothing to serve. */
    atomic_store_explicit(&m->served, gen, memory_order_relaxed);
    return WEIR_SWAP_IDLE;
  }
  m->serving = gen;
  m->started_us = now_us();
  *ph = (weir_swap_phase_t){.phase = (int)(gen & 3), .next = s->next, .moving = s->moving};
  return ph->phase;
}

static void note_pause(weir_swap_t *s, long long us) {
  long long seen = atomic_load(&s->max_pause_us);
  while (us > seen && !atomic_compare_exchange_weak(&s->max_pause_us, &seen, us))
    ;
}

void weir_swap_done(weir_swap_t *s, weir_swap_member_t *m, long long moved) {
  /* Every task of this thread stood still meanwhile: that is the pause. */
  note_pause(s, now_us() - m->started_us);
  atomic_fetch_add(&s->swapped, moved);
  atomic_store_explicit(&m->served, m->serving, memory_order_release);
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

int weir_swap_failed(weir_swap_t *s) {
  return atomic_load(&s->failed);
}

unsigned weir_swap_start(weir_swap_t *s, weir_version_t *v) {
  s->next = v;
  atomic_store(&s->failed, 0);
  s->why[0] = '\0';
  atomic_store(&s->max_pause_us, 0);
  atomic_store(&s->swapped, 0);
  return s->swaps++;
}

/* Under s->mu: how many members have not served `gen`; their numbers go
 * to `who`. */
static int pending(weir_swap_t *s, unsigned gen, char *who, size_t size) {
  int n = 0;
  size_t used = 0;
  who[0] = '\0';
  for (weir_swap_member_t *m = s->members; m; m = m->next) {
    if (atomic_load_explicit(&m->served, memory_order_acquire) == gen)
      continue;
    n++;
    used += (size_t)snprintf(who + used, used < size ? size - used : 0, "%s%d", n > 1 ? ", " : "",
                             m->index);
  }
  return n;
}

int weir_swap_run_phase(weir_swap_t *s, unsigned id, int phase, int last, int give_up_ms,
                        int warn_ms) {
  const struct timespec tick = {0, 1000000};
  const unsigned gen = id * 4 + (unsigned)phase;
  char who[256];
  int64_t start = now_us(), warned = start;
  atomic_store_explicit(&s->generation, gen, memory_order_release);
  for (;;) {
    pthread_mutex_lock(&s->mu);
    int waiting = pending(s, gen, who, sizeof who);
    if (!waiting && last) /* in the same hold: a member joining later sees idle */
      atomic_store_explicit(&s->generation, id * 4 + WEIR_SWAP_IDLE, memory_order_release);
    pthread_mutex_unlock(&s->mu);
    if (!waiting)
      return 0;
    int64_t now = now_us();
    if (give_up_ms > 0 && now - start >= (int64_t)give_up_ms * 1000) {
      weir_swap_fail(s, "stream thread(s) %s did not answer the %s phase within %d ms", who,
                     phase_name(phase), give_up_ms);
      return -1;
    }
    if (now - warned >= (int64_t)warn_ms * 1000) {
      WEIR_WARN("swap %u: still waiting after %lld s for stream thread(s) %s to serve the %s "
                "phase (a thread busy in one call, or stuck); the swap completes when they do",
                id, (long long)((now - start) / 1000000), who, phase_name(phase));
      warned = now;
    }
    nanosleep(&tick, NULL);
  }
}
