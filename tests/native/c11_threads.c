/* C11 <threads.h> over pthreads, linked into engine_tsan (with -rdynamic, so that these
 * definitions take the place of glibc's for librdkafka).
 *
 * librdkafka creates its threads and guards its queues with thrd_create, mtx_* and cnd_*, which
 * gcc 12's TSan runtime does not intercept: a thread it did not see start crashes in its first
 * malloc, and locks it does not see would make every hand-over between librdkafka's threads and
 * ours look like a race. Routed through the pthread calls TSan intercepts, both are seen.
 * glibc lays out mtx_t and cnd_t as pthread_mutex_t and pthread_cond_t.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is not a pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is not a pthread_cond_t");

static int c11_result(int rc) {
    return rc == 0 ? thrd_success : rc == ETIMEDOUT ? thrd_timedout : rc == EBUSY ? thrd_busy
           : rc == ENOMEM ? thrd_nomem : thrd_error;
}

typedef struct start {
    thrd_start_t func;
    void *arg;
} start;

static void *c11_start(void *p) {
    start s = *(start *)p;
    free(p);
    return (void *)(intptr_t)s.func(s.arg); /* glibc's thrd_join reads an int back from it */
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg) {
    start *s = malloc(sizeof(start));
    if (s == NULL)
        return thrd_nomem;
    *s = (start){func, arg};
    int rc = pthread_create((pthread_t *)thr, NULL, c11_start, s);
    if (rc != 0)
        free(s);
    return c11_result(rc);
}

int thrd_join(thrd_t thr, int *res) {
    void *out;
    int rc = pthread_join((pthread_t)thr, &out);
    if (rc == 0 && res != NULL)
        *res = (int)(intptr_t)out;
    return c11_result(rc);
}

int thrd_detach(thrd_t thr) { return c11_result(pthread_detach((pthread_t)thr)); }

thrd_t thrd_current(void) { return (thrd_t)pthread_self(); }

int mtx_init(mtx_t *m, int type) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (type & mtx_recursive)
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init((pthread_mutex_t *)m, &attr);
    pthread_mutexattr_destroy(&attr);
    return c11_result(rc);
}

int mtx_lock(mtx_t *m) { return c11_result(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_trylock(mtx_t *m) { return c11_result(pthread_mutex_trylock((pthread_mutex_t *)m)); }
int mtx_unlock(mtx_t *m) { return c11_result(pthread_mutex_unlock((pthread_mutex_t *)m)); }
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

int cnd_init(cnd_t *c) { return c11_result(pthread_cond_init((pthread_cond_t *)c, NULL)); }
int cnd_signal(cnd_t *c) { return c11_result(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) { return c11_result(pthread_cond_broadcast((pthread_cond_t *)c)); }
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }

int cnd_wait(cnd_t *c, mtx_t *m) {
    return c11_result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict until) {
    return c11_result(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, until));
}
