/* Implementation of drain.h: the drain thread and librdkafka's callbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"

/* How long the idle drain thread sleeps in rd_kafka_poll; new records cut it short by yielding
 * the main queue, so this only bounds how often an idle producer wakes up. */
#define FP_IDLE_POLL_MS 200
/* While librdkafka's own queue is full, how long to serve delivery reports before retrying. */
#define FP_QUEUE_FULL_POLL_MS 10
#define FP_COMPLETIONS_MIN 1024
/* With an empty ring the drain thread first naps (nap_ms polls that writers do not cut short),
 * so records arriving every few microseconds cost one wake-up per nap instead of one futex
 * wake-up per record (perf: 12 % of a send() loop's time at 8 µs per record); after this many
 * empty naps it sleeps until a writer wakes it. */
#define FP_NAPS_BEFORE_SLEEP 10
/* Records handed to librdkafka in one rd_kafka_produce_batch call (and ring bytes released per
 * call): callgrind on the mock cluster, 2,338 instructions per record through produce_batch
 * against 3,234 through producev (argument parsing, per-call locking and clock reads). */
#define FP_RUN_MAX 256
/* produce_batch stamps its records with the time of the call (ms). A run therefore only takes
 * records whose send() time is that same millisecond, so that a record's timestamp is the time
 * of its send() either way (a test reads the clock around send() and checks it); older records
 * go through producev with their own timestamp. */

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

static void fp_publish(fp_engine *e) {
    if (e->local.len == 0 && e->local_untracked == 0)
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
    __atomic_sub_fetch(&e->held_bytes, e->local_released, __ATOMIC_SEQ_CST);
    e->local_released = 0;
    if (e->local_untracked) {
        /* resolved here, not by the dispatcher: wake flush() as fp_engine_resolved would */
        __atomic_sub_fetch(&e->outstanding, e->local_untracked, __ATOMIC_RELAXED);
        __atomic_add_fetch(&e->counters.untracked_delivered, e->local_untracked,
                           __ATOMIC_RELAXED);
        e->local_untracked = 0;
        e->resolved_generation++;
        pthread_cond_broadcast(&e->resolved_cv);
    }
    pthread_cond_broadcast(&e->space_cv);
    if (e->done.len)
        pthread_cond_signal(&e->done_cv);
    pthread_mutex_unlock(&e->lock);
}

/* The opaque of a failed record that had none (see fp_lost_record): a copy of its bytes. */
static void *fp_lost_opaque(rd_kafka_topic_t *rkt, uint32_t flags, const void *key,
                            size_t key_len, const void *value, size_t value_len) {
    fp_lost_record *lost = malloc(sizeof(fp_lost_record) + key_len + value_len);
    if (lost == NULL)
        abort(); /* as fp_completions_push: a failure must never be dropped silently */
    lost->rkt = rkt;
    lost->key_len = (uint32_t)key_len;
    lost->value_len = (uint32_t)value_len;
    lost->flags = flags & (FP_SLOT_HAS_KEY | FP_SLOT_HAS_VALUE);
    if (key_len)
        memcpy(lost->bytes, key, key_len);
    if (value_len)
        memcpy(lost->bytes + key_len, value, value_len);
    return (void *)((uintptr_t)lost | FP_OPAQUE_LOST);
}

/* librdkafka's delivery-report callback; runs on the drain thread inside rd_kafka_poll. */
void fp_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    fp_engine *e = opaque;
    rd_kafka_headers_t *hdrs = NULL;
    if (rdk.rd_kafka_message_headers(m, &hdrs) != 0)
        hdrs = NULL;
    size_t charge = fp_record_charge(m->key_len, m->len, fp_headers_bytes(hdrs));
    e->local_released += charge;
    if (m->err == RDK_ERR_NO_ERROR && !e->acknowledged)
        __atomic_store_n(&e->acknowledged, 1, __ATOMIC_RELAXED);
    if (m->_private == NULL && m->err == RDK_ERR_NO_ERROR) {
        e->local_untracked++; /* nobody waits for it: counted, no completion */
        return;
    }
    int tstype = RDK_TIMESTAMP_NOT_AVAILABLE;
    fp_completion *c = fp_completions_push(&e->local);
    c->opaque = m->_private;
    if (c->opaque == NULL)
        c->opaque = fp_lost_opaque(m->rkt, (m->key ? FP_SLOT_HAS_KEY : 0) |
                                               (m->payload ? FP_SLOT_HAS_VALUE : 0),
                                   m->key, m->key_len, m->payload, m->len);
    c->offset = m->offset;
    c->timestamp_ms = rdk.rd_kafka_message_timestamp(m, &tstype);
    c->timestamp_type = (int16_t)tstype;
    c->partition = m->partition;
    c->err = m->err;
    c->status = (int16_t)rdk.rd_kafka_message_status(m);
    int credentials = __atomic_load_n(&e->credentials_error, __ATOMIC_ACQUIRE);
    if (credentials && (m->err == RDK_ERR__PURGE_QUEUE || m->err == RDK_ERR__PURGE_INFLIGHT))
        c->err = credentials; /* purged because of it: say so */
}

/* Keeps an event for the dispatcher (any thread; see fp_event). */
static void fp_push_event(fp_engine *e, int kind, int code, int32_t broker_id,
                          const char *facility, const char *text) {
    pthread_mutex_lock(&e->lock);
    fp_events *events = &e->events;
    if (events->len == events->cap && events->cap < FP_EVENTS_MAX) {
        size_t cap = events->cap ? events->cap * 4 : 16;
        fp_event *items = realloc(events->items, cap * sizeof(fp_event));
        if (items != NULL) {
            events->items = items;
            events->cap = cap;
        }
    }
    if (events->len < events->cap) {
        fp_event *event = &events->items[events->len++];
        event->kind = kind;
        event->code = code;
        event->broker_id = broker_id;
        snprintf(event->facility, sizeof(event->facility), "%s", facility);
        snprintf(event->text, sizeof(event->text), "%s", text);
    } else {
        events->dropped++;
    }
    pthread_cond_signal(&e->done_cv);
    pthread_mutex_unlock(&e->lock);
}

/* librdkafka's log callback (drain thread, inside rd_kafka_poll; during rd_kafka_new, the thread
 * that creates the producer): the dispatcher logs the line in Python. */
void fp_on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    fp_push_event(rdk.rd_kafka_opaque(rk), FP_EVENT_LOG, level, 0, fac, buf);
}

/* librdkafka's throttle callback (drain thread, inside rd_kafka_poll). */
void fp_on_throttle(rd_kafka_t *rk, const char *broker_name, int32_t broker_id,
                    int throttle_time_ms, void *opaque) {
    (void)rk;
    fp_push_event(opaque, FP_EVENT_THROTTLE, throttle_time_ms, broker_id, "", broker_name);
}

/* librdkafka's statistics callback (drain thread, inside rd_kafka_poll): only the latest JSON
 * is kept for the dispatcher. Returns 0: librdkafka frees its own copy. */
int fp_on_stats(rd_kafka_t *rk, char *json, size_t json_len, void *opaque) {
    (void)rk;
    fp_engine *e = opaque;
    char *copy = malloc(json_len + 1);
    if (copy == NULL)
        return 0; /* this interval's statistics are lost, not the producer */
    memcpy(copy, json, json_len);
    copy[json_len] = '\0';
    pthread_mutex_lock(&e->lock);
    free(e->stats_json);
    e->stats_json = copy;
    pthread_cond_signal(&e->done_cv);
    pthread_mutex_unlock(&e->lock);
    return 0;
}

/* librdkafka's error callback (drain thread, inside rd_kafka_poll). Authentication and TLS
 * failures do not heal by retrying, unlike the connection errors librdkafka also reports here. */
void fp_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk;
    fp_engine *e = opaque;
    if ((err == RDK_ERR__AUTHENTICATION || err == RDK_ERR__SSL) &&
        !__atomic_load_n(&e->credentials_error, __ATOMIC_ACQUIRE)) {
        snprintf(e->credentials_reason, sizeof(e->credentials_reason), "%s", reason);
        __atomic_store_n(&e->credentials_error, err, __ATOMIC_RELEASE);
    }
    fp_push_event(e, FP_EVENT_ERROR, err, 0, "", reason);
}

/* The slot's key bytes, its value bytes right after them. */
static const char *fp_slot_key(const fp_slot *slot) {
    return slot->flags & FP_SLOT_EXTERNAL ? slot->external : (const char *)(slot + 1);
}

/* A record librdkafka refused outright completes with that error, like a failed delivery. */
static void fp_fail_slot(fp_engine *e, const fp_slot *slot, int err) {
    fp_completion *c = fp_completions_push(&e->local);
    c->opaque = slot->opaque;
    if (c->opaque == NULL) {
        const char *key = fp_slot_key(slot);
        c->opaque = fp_lost_opaque(slot->rkt, slot->flags, key, slot->key_len,
                                   key + slot->key_len, slot->value_len);
    }
    c->offset = -1;
    c->timestamp_ms = -1;
    c->timestamp_type = RDK_TIMESTAMP_NOT_AVAILABLE;
    c->partition = slot->partition;
    c->err = err;
    c->status = RDK_MSG_STATUS_NOT_PERSISTED; /* librdkafka refused it before sending */
    e->local_released += fp_record_charge(slot->key_len, slot->value_len,
                                          fp_headers_bytes(slot->headers));
}

/* ---- drain thread ------------------------------------------------------------------------- */

/* close() is under way and its deadline passed (drain thread). */
static int fp_stop_overdue(fp_engine *e) {
    return __atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE) && fp_now_ms() >= e->stop_deadline_ms;
}

/* librdkafka's queue was full: serves delivery reports for a while so that it drains. 0 once
 * close()'s deadline passed: the waiting records then fail, as a purge would fail them. */
static int fp_wait_queue_room(fp_engine *e) {
    if (fp_stop_overdue(e))
        return 0;
    __atomic_add_fetch(&e->counters.queue_full_retries, 1, __ATOMIC_RELAXED);
    rdk.rd_kafka_poll(e->rk, FP_QUEUE_FULL_POLL_MS);
    fp_publish(e);
    return 1;
}

static void fp_produce_slot(fp_engine *e, fp_slot *slot) {
    const char *key = fp_slot_key(slot);
    const char *value = key + slot->key_len;
    for (;;) {
        int err = rdk.rd_kafka_producev(
            e->rk, RDK_VTYPE_RKT, slot->rkt, RDK_VTYPE_PARTITION, slot->partition,
            RDK_VTYPE_MSGFLAGS, RDK_MSG_F_COPY,
            RDK_VTYPE_KEY, slot->flags & FP_SLOT_HAS_KEY ? key : NULL, (size_t)slot->key_len,
            RDK_VTYPE_VALUE, slot->flags & FP_SLOT_HAS_VALUE ? value : NULL, (size_t)slot->value_len,
            RDK_VTYPE_OPAQUE, slot->opaque, RDK_VTYPE_TIMESTAMP, slot->timestamp_ms,
            RDK_VTYPE_HEADERS, slot->headers, RDK_VTYPE_END);
        if (err == RDK_ERR_NO_ERROR) {
            slot->headers = NULL; /* librdkafka owns them now */
            break;
        }
        if (err != RDK_ERR__QUEUE_FULL) {
            fp_fail_slot(e, slot, err);
            break;
        }
        if (!fp_wait_queue_room(e)) {
            fp_fail_slot(e, slot, RDK_ERR__PURGE_QUEUE);
            break;
        }
        /* then retry the same record: order within a partition is send() order */
    }
    if (slot->headers)
        rdk.rd_kafka_headers_destroy(slot->headers);
    free(slot->external);
}

/* Whether produce_batch can carry the slot: it has no headers or caller-given timestamp, and
 * it was sent in the millisecond now_ms. */
static int fp_slot_batchable(const fp_slot *slot, int64_t now_ms) {
    return (slot->flags & FP_SLOT_SEND_TIME) && slot->headers == NULL &&
           slot->timestamp_ms == now_ms;
}

/* A run of batchable slots for one partition (or all for librdkafka's partitioner), in ring
 * order, waiting for one produce_batch call. */
typedef struct fp_run {
    size_t len;
    fp_slot *slots[FP_RUN_MAX];
    rd_kafka_message_t messages[FP_RUN_MAX];
} fp_run;

/* Hands the run to librdkafka with produce_batch. One partition per call: with per-message
 * partitions (RD_KAFKA_MSG_F_PARTITION) librdkafka 2.x leaks a record whose partition it does not
 * know, and its flush then never ends. librdkafka fails every record after the first one its
 * full queue refused (QUEUE_FULL), so those are retried, in order, after serving delivery
 * reports, as fp_produce_slot does; other errors fail their record, as producev's would. */
static void fp_produce_run(fp_engine *e, fp_run *run) {
    size_t n = run->len, done = 0;
    if (n == 0)
        return;
    run->len = 0;
    rd_kafka_topic_t *rkt = run->slots[0]->rkt;
    int32_t partition = run->slots[0]->partition;
    int64_t sent_ms = run->slots[0]->timestamp_ms;
    for (size_t i = 0; i < n; i++) {
        const fp_slot *slot = run->slots[i];
        const char *key = fp_slot_key(slot);
        rd_kafka_message_t *m = &run->messages[i];
        memset(m, 0, sizeof(*m));
        m->key = slot->flags & FP_SLOT_HAS_KEY ? (void *)key : NULL;
        m->key_len = slot->key_len;
        m->payload = slot->flags & FP_SLOT_HAS_VALUE ? (void *)(key + slot->key_len) : NULL;
        m->len = slot->value_len;
        m->_private = slot->opaque;
    }
    while (done < n) {
        if (fp_wallclock_ms() != sent_ms) {
            /* their send()'s millisecond is over (or passed while librdkafka's queue was full):
             * the rest go one by one with their own timestamp */
            for (size_t i = done; i < n; i++)
                fp_produce_slot(e, run->slots[i]);
            n = done;
            break;
        }
        rdk.rd_kafka_produce_batch(rkt, partition, RDK_MSG_F_COPY, run->messages + done,
                                   (int)(n - done));
        for (; done < n && run->messages[done].err != RDK_ERR__QUEUE_FULL; done++)
            if (run->messages[done].err != RDK_ERR_NO_ERROR)
                fp_fail_slot(e, run->slots[done], run->messages[done].err);
        if (done < n && !fp_wait_queue_room(e)) {
            for (; done < n; done++)
                fp_fail_slot(e, run->slots[done], RDK_ERR__PURGE_QUEUE);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(run->slots[i]->external);
    __atomic_add_fetch(&e->counters.batched_records, n, __ATOMIC_RELAXED);
}

/* After ring or buffer space was released: wakes writers blocked for it, if there are any.
 * The release (a seq_cst store or read-modify-write of tail/held_bytes) and this load pair with
 * the waiter's increment of space_waiters and seq_cst look at tail/held_bytes in fp_wait_space:
 * either the waiter sees the room, or this sees the waiter. */
void fp_wake_space_waiters(fp_engine *e) {
    if (__atomic_load_n(&e->space_waiters, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&e->lock);
        pthread_cond_broadcast(&e->space_cv);
        pthread_mutex_unlock(&e->lock);
    }
}

/* Frees ring space up to tail. */
static void fp_release_ring(fp_engine *e, uint64_t tail) {
    __atomic_store_n(&e->tail, tail, __ATOMIC_SEQ_CST);
    fp_wake_space_waiters(e);
}

/* The slot at *tail, skipping the implicit padding at the ring's end (room too small for a
 * header); NULL at head. */
static fp_slot *fp_ring_slot(fp_engine *e, uint64_t *tail, uint64_t head) {
    uint64_t mask = e->capacity - 1;
    if (*tail != head && e->capacity - (*tail & mask) < sizeof(fp_slot))
        *tail += e->capacity - (*tail & mask);
    return *tail == head ? NULL : (fp_slot *)(e->ring + (*tail & mask));
}

/* Hands every record written so far to librdkafka, in ring order: runs for one partition through
 * produce_batch, the rest through producev; returns how many. */
static size_t fp_drain_ring(fp_engine *e, fp_run *run) {
    uint64_t tail = e->tail, head = __atomic_load_n(&e->head, __ATOMIC_ACQUIRE);
    int64_t now_ms = fp_wallclock_ms();
    size_t n = 0;
    fp_slot *slot;
    while ((slot = fp_ring_slot(e, &tail, head)) != NULL) {
        /* Read before the slot is released: a writer waiting for room reuses it at once. */
        uint64_t next = tail + slot->size;
        if (!(slot->flags & FP_SLOT_PAD)) {
            n++;
            if (run->len > 0 && (run->len == FP_RUN_MAX || slot->rkt != run->slots[0]->rkt ||
                                 slot->partition != run->slots[0]->partition ||
                                 !fp_slot_batchable(slot, now_ms))) {
                /* the run ends before this slot: hand it over and free its ring space */
                fp_produce_run(e, run);
                fp_release_ring(e, tail);
                now_ms = fp_wallclock_ms();
            }
            if (fp_slot_batchable(slot, now_ms)) {
                run->slots[run->len++] = slot;
            } else {
                fp_produce_slot(e, slot);
                if (n % FP_RUN_MAX == 0)
                    fp_release_ring(e, next);
            }
        }
        tail = next;
    }
    fp_produce_run(e, run);
    fp_release_ring(e, tail);
    return n;
}

/* purge(): fails the records still in the ring (if asked to), then has librdkafka purge its
 * queues with the flags asked for, and reports the purge done to the callers waiting for it. */
static void fp_drain_purge(fp_engine *e) {
    pthread_mutex_lock(&e->lock);
    int flags = e->purge_flags;
    uint64_t ticket = e->purge_requested;
    e->purge_flags = 0;
    pthread_mutex_unlock(&e->lock);
    if (flags & RDK_PURGE_F_QUEUE) {
        uint64_t tail = e->tail, head = __atomic_load_n(&e->head, __ATOMIC_ACQUIRE);
        fp_slot *slot;
        while ((slot = fp_ring_slot(e, &tail, head)) != NULL) {
            uint64_t next = tail + slot->size;
            if (!(slot->flags & FP_SLOT_PAD)) {
                fp_fail_slot(e, slot, RDK_ERR__PURGE_QUEUE);
                if (slot->headers)
                    rdk.rd_kafka_headers_destroy(slot->headers);
                free(slot->external);
            }
            tail = next;
        }
        fp_release_ring(e, tail);
    }
    rdk.rd_kafka_purge(e->rk, flags);
    rdk.rd_kafka_poll(e->rk, 0);
    fp_publish(e);
    pthread_mutex_lock(&e->lock);
    e->purge_done = ticket;
    pthread_cond_broadcast(&e->purged_cv);
    pthread_mutex_unlock(&e->lock);
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

void *fp_drain_main(void *arg) {
    fp_engine *e = arg;
    fp_name_thread("fastprod-drain");
    fp_run *run = malloc(sizeof(fp_run));
    if (run == NULL)
        abort(); /* 18 KiB at start-up; without it no record could ever be delivered */
    run->len = 0;
    int naps = 0;
    for (;;) {
        if (__atomic_load_n(&e->purge_flags, __ATOMIC_ACQUIRE))
            fp_drain_purge(e);
        if (__atomic_load_n(&e->credentials_error, __ATOMIC_ACQUIRE) &&
            rdk.rd_kafka_outq_len(e->rk) > 0) {
            /* nothing can be delivered: fail what waits instead of letting it time out */
            rdk.rd_kafka_purge(e->rk, RDK_PURGE_F_QUEUE | RDK_PURGE_F_INFLIGHT);
            rdk.rd_kafka_poll(e->rk, 0);
            fp_publish(e);
        }
        if (fp_drain_ring(e, run) > 0) {
            rdk.rd_kafka_poll(e->rk, 0);
            fp_publish(e);
            naps = 0;
            continue;
        }
        if (__atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE)) {
            /* close() set stopping after its last send(): one more pass sees every record. */
            fp_drain_ring(e, run);
            break;
        }
        if (naps < FP_NAPS_BEFORE_SLEEP && e->nap_ms > 0) {
            naps++;
            rdk.rd_kafka_poll(e->rk, e->nap_ms);
            fp_publish(e);
            continue;
        }
        /* Announce the sleep, then look once more: a writer publishes head, then reads this
         * flag (both seq_cst), so either it sees the flag and yields, or we see its record. */
        __atomic_store_n(&e->drain_sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&e->head, __ATOMIC_SEQ_CST) == e->tail)
            rdk.rd_kafka_poll(e->rk, FP_IDLE_POLL_MS);
        __atomic_store_n(&e->drain_sleeping, 0, __ATOMIC_SEQ_CST);
        fp_publish(e);
        naps = 0;
    }
    free(run);
    fp_drain_finish(e, e->stop_deadline_ms);
    pthread_mutex_lock(&e->lock);
    e->drain_finished = 1;
    pthread_cond_broadcast(&e->done_cv);
    pthread_cond_broadcast(&e->purged_cv); /* close() failed everything: no purge is left */
    pthread_mutex_unlock(&e->lock);
    return NULL;
}
