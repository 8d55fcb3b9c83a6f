/* Implementation of sync.h: monotonic condition waits and thread names, per platform. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <time.h>

#include "sync.h"

/* Waits are timed on the monotonic clock, so that a wall-clock step cannot stretch or cut them:
 * macOS lacks pthread_condattr_setclock but has a relative timed wait instead. */
#ifdef __APPLE__
void fp_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *lock, int wait_ms) {
    struct timespec rel = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
    pthread_cond_timedwait_relative_np(cv, lock, &rel);
}

int fp_cond_init(pthread_cond_t *cv) { return pthread_cond_init(cv, NULL); }

void fp_name_thread(const char *name) { pthread_setname_np(name); }
#else
void fp_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *lock, int wait_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += wait_ms / 1000;
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, lock, &ts);
}

int fp_cond_init(pthread_cond_t *cv) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

void fp_name_thread(const char *name) { pthread_setname_np(pthread_self(), name); }
#endif
