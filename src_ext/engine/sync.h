/* Clocks, condition variables and thread names shared by the engine's threads. */
#ifndef FASTPROD_SYNC_H
#define FASTPROD_SYNC_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Inline: send() reads the clock for every record it timestamps. */
static inline int64_t fp_clock_ms(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t fp_now_ms(void) { return fp_clock_ms(CLOCK_MONOTONIC); } /* for waits */
static inline int64_t fp_wallclock_ms(void) { return fp_clock_ms(CLOCK_REALTIME); } /* timestamps */

/* A condition variable whose timed waits run on CLOCK_MONOTONIC. */
int fp_cond_init(pthread_cond_t *cv);
/* Waits up to wait_ms on cv (lock held), immune to wall-clock steps. */
void fp_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *lock, int wait_ms);
/* Names the calling thread (seen in top, gdb and py-spy). */
void fp_name_thread(const char *name);

#endif
