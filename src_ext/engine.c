/* Implementation of includes/engine.h. Never touches Python objects: opaques are carried, not used. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

/* How long the idle drain thread sleeps in rd_kafka_poll; new records cut it short by yielding
 * the main queue, so this only bounds how often an idle producer wakes up. */
#define FP_IDLE_POLL_MS 200
/* While librdkafka's own queue is full, how long to serve delivery reports before retrying. */
#define FP_QUEUE_FULL_POLL_MS 10
#define FP_COMPLETIONS_MIN 1024

static int64_t fp_clock_ms(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t fp_now_ms(void) { return fp_clock_ms(CLOCK_MONOTONIC); }
static int64_t fp_wallclock_ms(void) { return fp_clock_ms(CLOCK_REALTIME); }

static void fp_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *lock, int wait_ms) {
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

static int fp_cond_init(pthread_cond_t *cv) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

/* ---- records ------------------------------------------------------------------------------ */

static size_t fp_record_charge(size_t key_len, size_t value_len, size_t header_bytes) {
    return FP_RECORD_OVERHEAD + key_len + value_len + header_bytes;
}

static fp_record *fp_record_new(rd_kafka_topic_t *rkt, int32_t partition, int64_t timestamp_ms,
                                const char *key, ssize_t key_len, const char *value,
                                ssize_t value_len, rd_kafka_headers_t *headers, void *opaque) {
    size_t klen = key_len < 0 ? 0 : (size_t)key_len;
    size_t vlen = value_len < 0 ? 0 : (size_t)value_len;
    fp_record *r = malloc(sizeof(fp_record) + klen + vlen);
    if (r == NULL)
        return NULL;
    r->next = NULL;
    r->opaque = opaque;
    r->rkt = rkt;
    r->headers = headers;
    r->timestamp_ms = timestamp_ms;
    r->partition = partition;
    r->has_key = key_len >= 0;
    r->has_value = value_len >= 0;
    r->key_len = klen;
    r->value_len = vlen;
    if (klen)
        memcpy(r->data, key, klen);
    if (vlen)
        memcpy(r->data + klen, value, vlen);
    return r;
}

static void fp_record_free(fp_record *r) {
    if (r->headers)
        rdk.rd_kafka_headers_destroy(r->headers);
    free(r);
}

/* ---- completions -------------------------------------------------------------------------- */

static fp_completion *fp_completions_push(fp_completions *c) {
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : FP_COMPLETIONS_MIN;
        fp_completion *items = realloc(c->items, cap * sizeof(fp_completion));
        if (items == NULL)
            abort(); /* a delivery result must never be dropped: its future would hang */
        c->items = items;
        c->cap = cap;
    }
    return &c->items[c->len++];
}

static size_t fp_headers_bytes(rd_kafka_headers_t *hdrs) {
    size_t total = 0, size;
    const char *name;
    const void *value;
    for (size_t i = 0; hdrs && rdk.rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == 0; i++)
        total += strlen(name) + size;
    return total;
}

/* Publishes the drain thread's local completions and releases their buffer charge. */
static void fp_publish(fp_engine *e) {
    if (e->local.len == 0)
        return;
    pthread_mutex_lock(&e->lock);
    if (e->done.len == 0) {
        fp_completions swap = e->done;
        e->done = e->local;
        e->local = swap;
    } else {
        for (size_t i = 0; i < e->local.len; i++)
            *fp_completions_push(&e->done) = e->local.items[i];
        e->local.len = 0;
    }
    e->held_bytes -= e->local_released;
    e->local_released = 0;
    pthread_cond_broadcast(&e->space_cv);
    pthread_cond_signal(&e->done_cv);
    pthread_mutex_unlock(&e->lock);
}

/* librdkafka's delivery-report callback; runs on the drain thread inside rd_kafka_poll. */
static void fp_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    fp_engine *e = opaque;
    rd_kafka_headers_t *hdrs = NULL;
    if (rdk.rd_kafka_message_headers(m, &hdrs) != 0)
        hdrs = NULL;
    int tstype = RDK_TIMESTAMP_NOT_AVAILABLE;
    fp_completion *c = fp_completions_push(&e->local);
    c->opaque = m->_private;
    c->offset = m->offset;
    c->timestamp_ms = rdk.rd_kafka_message_timestamp(m, &tstype);
    c->timestamp_type = tstype;
    c->partition = m->partition;
    c->err = m->err;
    e->local_released += fp_record_charge(m->key_len, m->len, fp_headers_bytes(hdrs));
}

/* A record librdkafka refused outright completes with that error, like a failed delivery. */
static void fp_fail_record(fp_engine *e, fp_record *r, int err) {
    size_t header_bytes = fp_headers_bytes(r->headers);
    fp_completion *c = fp_completions_push(&e->local);
    c->opaque = r->opaque;
    c->offset = -1;
    c->timestamp_ms = -1;
    c->timestamp_type = RDK_TIMESTAMP_NOT_AVAILABLE;
    c->partition = r->partition;
    c->err = err;
    e->local_released += fp_record_charge(r->key_len, r->value_len, header_bytes);
}

/* ---- drain thread ------------------------------------------------------------------------- */

static void fp_produce_one(fp_engine *e, fp_record *r) {
    for (;;) {
        int err = rdk.rd_kafka_producev(
            e->rk, RDK_VTYPE_RKT, r->rkt, RDK_VTYPE_PARTITION, r->partition, RDK_VTYPE_MSGFLAGS,
            RDK_MSG_F_COPY, RDK_VTYPE_KEY, r->has_key ? r->data : NULL, r->key_len,
            RDK_VTYPE_VALUE, r->has_value ? r->data + r->key_len : NULL, r->value_len,
            RDK_VTYPE_OPAQUE, r->opaque, RDK_VTYPE_TIMESTAMP, r->timestamp_ms, RDK_VTYPE_HEADERS,
            r->headers, RDK_VTYPE_END);
        if (err == RDK_ERR_NO_ERROR) {
            r->headers = NULL; /* librdkafka owns them now */
            return;
        }
        if (err != RDK_ERR__QUEUE_FULL) {
            fp_fail_record(e, r, err);
            return;
        }
        /* Retry the same record: order within a partition is send() order. */
        rdk.rd_kafka_poll(e->rk, FP_QUEUE_FULL_POLL_MS);
        fp_publish(e);
    }
}

static void fp_drain_finish(fp_engine *e, int64_t deadline_ms) {
    while (rdk.rd_kafka_outq_len(e->rk) > 0) {
        int64_t left = deadline_ms - fp_now_ms();
        if (left <= 0)
            break;
        rdk.rd_kafka_flush(e->rk, left < 100 ? (int)left : 100);
        fp_publish(e);
    }
    /* Out of time: fail what librdkafka still holds, so every future resolves. */
    rdk.rd_kafka_purge(e->rk, RDK_PURGE_F_QUEUE | RDK_PURGE_F_INFLIGHT);
    while (rdk.rd_kafka_outq_len(e->rk) > 0) {
        rdk.rd_kafka_poll(e->rk, 10);
        fp_publish(e);
    }
    rdk.rd_kafka_poll(e->rk, 0);
    fp_publish(e);
}

static void *fp_drain_main(void *arg) {
    fp_engine *e = arg;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        fp_record *batch = e->head;
        e->head = e->tail = NULL;
        int stopping = e->stopping;
        e->drain_sleeping = batch == NULL && !stopping;
        pthread_mutex_unlock(&e->lock);
        if (batch != NULL) {
            while (batch != NULL) {
                fp_record *next = batch->next;
                fp_produce_one(e, batch);
                fp_record_free(batch);
                batch = next;
            }
            rdk.rd_kafka_poll(e->rk, 0);
        } else if (stopping) {
            break;
        } else {
            rdk.rd_kafka_poll(e->rk, FP_IDLE_POLL_MS);
        }
        fp_publish(e);
        pthread_mutex_lock(&e->lock);
        e->drain_sleeping = 0;
    }
    fp_drain_finish(e, e->stop_deadline_ms);
    pthread_mutex_lock(&e->lock);
    e->drain_finished = 1;
    pthread_cond_broadcast(&e->done_cv);
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* ---- engine ------------------------------------------------------------------------------- */

static fp_engine *fp_engine_new(rd_kafka_conf_t *conf, size_t buffer_memory, char *errstr,
                                size_t errstr_size) {
    fp_engine *e = calloc(1, sizeof(fp_engine));
    if (e == NULL) {
        rdk.rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&e->lock, NULL);
    fp_cond_init(&e->space_cv);
    fp_cond_init(&e->done_cv);
    fp_cond_init(&e->resolved_cv);
    e->buffer_memory = buffer_memory;
    rdk.rd_kafka_conf_set_dr_msg_cb(conf, fp_on_delivery);
    rdk.rd_kafka_conf_set_opaque(conf, e);
    e->rk = rdk.rd_kafka_new(RDK_PRODUCER, conf, errstr, errstr_size);
    if (e->rk == NULL) {
        rdk.rd_kafka_conf_destroy(conf); /* rd_kafka_new takes conf only on success */
        fp_engine_free(e);
        return NULL;
    }
    e->main_queue = rdk.rd_kafka_queue_get_main(e->rk);
    int rc = pthread_create(&e->drain_thread, NULL, fp_drain_main, e);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "cannot start the drain thread: %s", strerror(rc));
        fp_engine_free(e);
        return NULL;
    }
    e->drain_started = 1;
    return e;
}

static void fp_engine_free(fp_engine *e) {
    for (fp_record *r = e->head, *next; r != NULL; r = next) {
        next = r->next;
        fp_record_free(r);
    }
    if (e->main_queue)
        rdk.rd_kafka_queue_destroy(e->main_queue);
    if (e->rk)
        rdk.rd_kafka_destroy(e->rk);
    free(e->done.items);
    free(e->local.items);
    pthread_cond_destroy(&e->space_cv);
    pthread_cond_destroy(&e->done_cv);
    pthread_cond_destroy(&e->resolved_cv);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static int fp_engine_try_reserve(fp_engine *e, size_t charge) {
    int ok;
    pthread_mutex_lock(&e->lock);
    ok = e->held_bytes + charge <= e->buffer_memory;
    if (ok)
        e->held_bytes += charge;
    pthread_mutex_unlock(&e->lock);
    return ok;
}

static int fp_engine_wait_reserve(fp_engine *e, size_t charge, int wait_ms) {
    int ok;
    pthread_mutex_lock(&e->lock);
    if (e->held_bytes + charge > e->buffer_memory)
        fp_cond_wait_ms(&e->space_cv, &e->lock, wait_ms);
    ok = e->held_bytes + charge <= e->buffer_memory;
    if (ok)
        e->held_bytes += charge;
    pthread_mutex_unlock(&e->lock);
    return ok;
}

static void fp_engine_unreserve(fp_engine *e, size_t charge) {
    pthread_mutex_lock(&e->lock);
    e->held_bytes -= charge;
    pthread_cond_broadcast(&e->space_cv);
    pthread_mutex_unlock(&e->lock);
}

static void fp_engine_enqueue(fp_engine *e, fp_record *r) {
    pthread_mutex_lock(&e->lock);
    if (e->tail)
        e->tail->next = r;
    else
        e->head = r;
    e->tail = r;
    e->outstanding++;
    int wake = e->drain_sleeping;
    e->drain_sleeping = 0;
    pthread_mutex_unlock(&e->lock);
    if (wake)
        rdk.rd_kafka_queue_yield(e->main_queue);
}

static size_t fp_engine_take(fp_engine *e, fp_completions *out, int wait_ms, int *finished) {
    out->len = 0;
    pthread_mutex_lock(&e->lock);
    if (e->done.len == 0 && !e->drain_finished)
        fp_cond_wait_ms(&e->done_cv, &e->lock, wait_ms);
    fp_completions swap = e->done;
    e->done = *out;
    *out = swap;
    *finished = e->drain_finished && out->len == 0;
    pthread_mutex_unlock(&e->lock);
    return out->len;
}

static void fp_engine_resolved(fp_engine *e, size_t n) {
    pthread_mutex_lock(&e->lock);
    e->outstanding -= n;
    e->resolved_generation++;
    pthread_cond_broadcast(&e->resolved_cv);
    pthread_mutex_unlock(&e->lock);
}

static uint64_t fp_engine_wait_idle(fp_engine *e, int wait_ms) {
    uint64_t left;
    pthread_mutex_lock(&e->lock);
    if (e->outstanding > 0)
        fp_cond_wait_ms(&e->resolved_cv, &e->lock, wait_ms);
    left = e->outstanding;
    pthread_mutex_unlock(&e->lock);
    return left;
}

static uint64_t fp_engine_generation(fp_engine *e) {
    uint64_t g;
    pthread_mutex_lock(&e->lock);
    g = e->resolved_generation;
    pthread_mutex_unlock(&e->lock);
    return g;
}

static void fp_engine_wait_generation(fp_engine *e, uint64_t seen, int wait_ms) {
    pthread_mutex_lock(&e->lock);
    if (e->resolved_generation == seen)
        fp_cond_wait_ms(&e->resolved_cv, &e->lock, wait_ms);
    pthread_mutex_unlock(&e->lock);
}

static void fp_engine_stop(fp_engine *e, int64_t deadline_ms) {
    pthread_mutex_lock(&e->lock);
    if (!e->stopping) {
        e->stopping = 1;
        e->stop_deadline_ms = deadline_ms;
    }
    int wake = e->drain_sleeping;
    pthread_mutex_unlock(&e->lock);
    if (wake)
        rdk.rd_kafka_queue_yield(e->main_queue);
}

static void fp_engine_join(fp_engine *e) {
    if (e->drain_started) {
        pthread_join(e->drain_thread, NULL);
        e->drain_started = 0;
    }
}
