/* The engine's drain thread (drain.c): it hands the ring's records to librdkafka and serves
 * librdkafka's delivery reports, without the GIL. Internal to the engine (engine.c starts it). */
#ifndef FASTPROD_DRAIN_H
#define FASTPROD_DRAIN_H

#include "engine.h"

/* The thread's body: drains the ring until fp_engine_stop, then flushes librdkafka until the
 * stop deadline and fails what is left. */
void *fp_drain_main(void *arg);
/* librdkafka's delivery-report and error callbacks (called in rd_kafka_poll on the drain thread). */
void fp_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
void fp_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque);
void fp_on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
void fp_on_throttle(rd_kafka_t *rk, const char *broker_name, int32_t broker_id,
                    int throttle_time_ms, void *opaque);
int fp_on_stats(rd_kafka_t *rk, char *json, size_t json_len, void *opaque);
/* After ring or buffer space was released: wakes writers blocked for it (see drain.c). */
void fp_wake_space_waiters(fp_engine *e);
/* Waits up to wait_ms, counted in space_waiters, until ready(e, n) (engine.c). */
void fp_wait_space(fp_engine *e, int wait_ms, int (*ready)(fp_engine *, size_t), size_t n);

#endif
