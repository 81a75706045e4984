/* C11 threads on pthreads, for ThreadSanitizer builds only (WEIR_TSAN).
 *
 * Debian's librdkafka starts and joins its threads with glibc's C11
 * thrd_create/thrd_join and locks with mtx_* and cnd_*. TSan intercepts the
 * pthread calls but not these (glibc calls its internal __pthread_* names),
 * so it never learns of librdkafka's threads and crashes on their first
 * access, and it cannot see the happens-before of librdkafka's queues. A
 * test binary links this file: the executable's definitions interpose on
 * libc's for every library, and each maps onto the pthread call TSan knows.
 * glibc lays thrd_t, mtx_t, cnd_t and once_flag out as pthread_t,
 * pthread_mutex_t, pthread_cond_t and pthread_once_t. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is a pthread mutex");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is a pthread condition");
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t is a pthread_t");

static int result(int rc) {
  if (rc == 0)
    return thrd_success;
  if (rc == ETIMEDOUT)
    return thrd_timedout;
  if (rc == EBUSY)
    return thrd_busy;
  if (rc == ENOMEM)
    return thrd_nomem;
  return thrd_error;
}

typedef struct start {
  thrd_start_t func;
  void *arg;
} start_t;

static void *trampoline(void *p) {
  start_t s = *(start_t *)p;
  free(p);
  return (void *)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg) {
  start_t *s = malloc(sizeof *s);
  if (!s)
    return thrd_nomem;
  *s = (start_t){func, arg};
  int rc = pthread_create((pthread_t *)thr, NULL, trampoline, s);
  if (rc)
    free(s);
  return result(rc);
}

int thrd_join(thrd_t thr, int *res) {
  void *ret = NULL;
  int rc = pthread_join((pthread_t)thr, &ret);
  if (rc == 0 && res)
    *res = (int)(intptr_t)ret;
  return result(rc);
}

int thrd_detach(thrd_t thr) {
  return result(pthread_detach((pthread_t)thr));
}

_Noreturn void thrd_exit(int res) {
  pthread_exit((void *)(intptr_t)res);
}

int mtx_init(mtx_t *m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive)
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int rc = pthread_mutex_init((pthread_mutex_t *)m, &attr);
  pthread_mutexattr_destroy(&attr);
  return result(rc);
}

int mtx_lock(mtx_t *m) {
  return result(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m) {
  return result(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts) {
  return result(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

int mtx_unlock(mtx_t *m) {
  return result(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m) {
  pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c) {
  return result(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int cnd_signal(cnd_t *c) {
  return result(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c) {
  return result(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m) {
  return result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts) {
  return result(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}

void cnd_destroy(cnd_t *c) {
  pthread_cond_destroy((pthread_cond_t *)c);
}

void call_once(once_flag *flag, void (*func)(void)) {
  pthread_once((pthread_once_t *)flag, func);
}
