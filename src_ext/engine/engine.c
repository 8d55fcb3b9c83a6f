/* Implementation of engine.h. Never touches Python objects: opaques are carried, not used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "metadata.h"
#include "sync.h"

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

/* ---- records ------------------------------------------------------------------------------ */

size_t fp_record_charge(size_t key_len, size_t value_len, size_t header_bytes) {
    return FP_RECORD_OVERHEAD + key_len + value_len + header_bytes;
}

static uint64_t fp_align(uint64_t n) { return (n + FP_RING_ALIGN - 1) & ~(uint64_t)(FP_RING_ALIGN - 1); }

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

size_t fp_headers_bytes(rd_kafka_headers_t *hdrs) {
    size_t total = 0, size;
    const char *name;
    const void *value;
    for (size_t i = 0; hdrs && rdk.rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == 0; i++)
        total += strlen(name) + size;
    return total;
}

/* Bytes of a zigzag varint (Kafka's record fields). */
static size_t fp_varint_bytes(int64_t v) {
    uint64_t zigzag = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 1;
    while (zigzag >= 0x80) {
        zigzag >>= 7;
        n++;
    }
    return n;
}

int64_t fp_record_batch_bytes(ssize_t key_len, ssize_t value_len, rd_kafka_headers_t *hdrs) {
    const char *name;
    const void *value;
    size_t size, count = 0;
    int64_t body = 1 + 1 + 1; /* attributes, timestamp delta 0, offset delta 0 */
    body += (int64_t)fp_varint_bytes(key_len) + (key_len > 0 ? key_len : 0);
    body += (int64_t)fp_varint_bytes(value_len) + (value_len > 0 ? value_len : 0);
    for (; hdrs && rdk.rd_kafka_header_get_all(hdrs, count, &name, &value, &size) == 0; count++) {
        size_t name_len = strlen(name);
        body += (int64_t)(fp_varint_bytes((int64_t)name_len) + name_len);
        body += value == NULL ? 1 : (int64_t)(fp_varint_bytes((int64_t)size) + size);
    }
    body += (int64_t)fp_varint_bytes((int64_t)count);
    return FP_RECORD_BATCH_OVERHEAD + (int64_t)fp_varint_bytes(body) + body;
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
    __atomic_sub_fetch(&e->held_bytes, e->local_released, __ATOMIC_SEQ_CST);
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
    c->timestamp_type = (int16_t)tstype;
    c->partition = m->partition;
    c->err = m->err;
    c->status = (int16_t)rdk.rd_kafka_message_status(m);
    int credentials = __atomic_load_n(&e->credentials_error, __ATOMIC_ACQUIRE);
    if (credentials && (m->err == RDK_ERR__PURGE_QUEUE || m->err == RDK_ERR__PURGE_INFLIGHT))
        c->err = credentials; /* purged because of it: say so */
    e->local_released += fp_record_charge(m->key_len, m->len, fp_headers_bytes(hdrs));
}

/* librdkafka's error callback (drain thread, inside rd_kafka_poll). Authentication and TLS
 * failures do not heal by retrying, unlike the connection errors librdkafka also reports here. */
static void fp_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk;
    fp_engine *e = opaque;
    if ((err == RDK_ERR__AUTHENTICATION || err == RDK_ERR__SSL) &&
        !__atomic_load_n(&e->credentials_error, __ATOMIC_ACQUIRE)) {
        snprintf(e->credentials_reason, sizeof(e->credentials_reason), "%s", reason);
        __atomic_store_n(&e->credentials_error, err, __ATOMIC_RELEASE);
    }
}

size_t fp_engine_held_bytes(fp_engine *e) {
    return __atomic_load_n(&e->held_bytes, __ATOMIC_RELAXED);
}

uint64_t fp_engine_queue_full_retries(fp_engine *e) {
    return __atomic_load_n(&e->queue_full_retries, __ATOMIC_RELAXED);
}

int fp_engine_credentials_error(fp_engine *e, const char **reason) {
    int err = __atomic_load_n(&e->credentials_error, __ATOMIC_ACQUIRE);
    *reason = e->credentials_reason;
    return err;
}

/* A record librdkafka refused outright completes with that error, like a failed delivery. */
static void fp_fail_slot(fp_engine *e, const fp_slot *slot, int err) {
    fp_completion *c = fp_completions_push(&e->local);
    c->opaque = slot->opaque;
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

static void fp_produce_slot(fp_engine *e, fp_slot *slot) {
    const char *key = slot->flags & FP_SLOT_EXTERNAL ? slot->external : (const char *)(slot + 1);
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
        if (fp_stop_overdue(e)) { /* close()'s deadline passed: fail it, as a purge would */
            fp_fail_slot(e, slot, RDK_ERR__PURGE_QUEUE);
            break;
        }
        /* Retry the same record: order within a partition is send() order. */
        __atomic_add_fetch(&e->queue_full_retries, 1, __ATOMIC_RELAXED);
        rdk.rd_kafka_poll(e->rk, FP_QUEUE_FULL_POLL_MS);
        fp_publish(e);
    }
    if (slot->headers)
        rdk.rd_kafka_headers_destroy(slot->headers);
    free(slot->external);
}

/* After ring or buffer space was released: wakes writers blocked for it, if there are any.
 * The release (a seq_cst store or read-modify-write of tail/held_bytes) and this load pair with
 * the waiter's increment of space_waiters and seq_cst look at tail/held_bytes in fp_wait_space:
 * either the waiter sees the room, or this sees the waiter. */
static void fp_wake_space_waiters(fp_engine *e) {
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

/* Hands every record written so far to librdkafka; returns how many. */
static size_t fp_drain_ring(fp_engine *e) {
    uint64_t tail = e->tail, head = __atomic_load_n(&e->head, __ATOMIC_ACQUIRE);
    uint64_t mask = e->capacity - 1;
    size_t n = 0;
    while (tail != head) {
        uint64_t contiguous = e->capacity - (tail & mask);
        if (contiguous < sizeof(fp_slot)) { /* too small for a header: implicit padding */
            tail += contiguous;
            continue;
        }
        fp_slot *slot = (fp_slot *)(e->ring + (tail & mask));
        /* Read before the slot is released: a writer waiting for room reuses it at once. */
        uint64_t next = tail + slot->size;
        if (!(slot->flags & FP_SLOT_PAD)) {
            fp_produce_slot(e, slot);
            if (++n % 256 == 0)
                fp_release_ring(e, next);
        }
        tail = next;
    }
    fp_release_ring(e, tail);
    return n;
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
    fp_name_thread("fastprod-drain");
    int naps = 0;
    for (;;) {
        if (__atomic_load_n(&e->credentials_error, __ATOMIC_ACQUIRE) &&
            rdk.rd_kafka_outq_len(e->rk) > 0) {
            /* nothing can be delivered: fail what waits instead of letting it time out */
            rdk.rd_kafka_purge(e->rk, RDK_PURGE_F_QUEUE | RDK_PURGE_F_INFLIGHT);
            rdk.rd_kafka_poll(e->rk, 0);
            fp_publish(e);
        }
        if (fp_drain_ring(e) > 0) {
            rdk.rd_kafka_poll(e->rk, 0);
            fp_publish(e);
            naps = 0;
            continue;
        }
        if (__atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE)) {
            /* close() set stopping after its last send(): one more pass sees every record. */
            fp_drain_ring(e);
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
    fp_drain_finish(e, e->stop_deadline_ms);
    pthread_mutex_lock(&e->lock);
    e->drain_finished = 1;
    pthread_cond_broadcast(&e->done_cv);
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* ---- engine ------------------------------------------------------------------------------- */

fp_engine *fp_engine_new(rd_kafka_conf_t *conf, size_t buffer_memory,
                         int64_t metadata_refresh_ms, int nap_ms, char *errstr,
                         size_t errstr_size) {
    fp_engine *e = calloc(1, sizeof(fp_engine));
    uint64_t capacity = FP_RING_MIN;
    while (capacity < buffer_memory / FP_RING_SHARE)
        capacity *= 2;
    if (e == NULL || (e->ring = malloc(capacity)) == NULL) {
        free(e);
        rdk.rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "cannot allocate a %llu-byte ring for buffer.memory",
                 (unsigned long long)capacity);
        return NULL;
    }
    e->capacity = capacity;
    pthread_mutex_init(&e->lock, NULL);
    fp_cond_init(&e->space_cv);
    fp_cond_init(&e->done_cv);
    fp_cond_init(&e->resolved_cv);
    pthread_mutex_init(&e->metadata_lock, NULL);
    fp_cond_init(&e->metadata_cv);
    fp_cond_init(&e->table_cv);
    e->metadata_refresh_ms = metadata_refresh_ms;
    e->nap_ms = nap_ms;
    e->buffer_memory = buffer_memory;
    rdk.rd_kafka_conf_set_dr_msg_cb(conf, fp_on_delivery);
    rdk.rd_kafka_conf_set_error_cb(conf, fp_on_error);
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
    rc = pthread_create(&e->metadata_thread, NULL, fp_metadata_main, e);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "cannot start the metadata thread: %s", strerror(rc));
        fp_engine_stop(e, fp_now_ms());
        fp_engine_join(e);
        fp_engine_free(e);
        return NULL;
    }
    e->metadata_started = 1;
    return e;
}

void fp_engine_free(fp_engine *e) {
    while (e->topics != NULL) { /* before rd_kafka_destroy: the topics hold handles of rk */
        fp_topic *next = e->topics->next;
        fp_topic_free(e->topics);
        e->topics = next;
    }
    if (e->main_queue)
        rdk.rd_kafka_queue_destroy(e->main_queue);
    if (e->rk)
        rdk.rd_kafka_destroy(e->rk);
    free(e->ring);
    free(e->done.items);
    free(e->local.items);
    pthread_cond_destroy(&e->space_cv);
    pthread_cond_destroy(&e->done_cv);
    pthread_cond_destroy(&e->resolved_cv);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->metadata_cv);
    pthread_cond_destroy(&e->table_cv);
    pthread_mutex_destroy(&e->metadata_lock);
    free(e);
}

/* A compare-and-swap: send() callers reserve with the GIL, but a caller waiting for space
 * reserves without it (fp_engine_wait_reserve), so two can race; the drain thread releases. */
int fp_engine_try_reserve(fp_engine *e, size_t charge) {
    size_t held = __atomic_load_n(&e->held_bytes, __ATOMIC_SEQ_CST);
    do {
        if (held + charge > e->buffer_memory)
            return 0;
    } while (!__atomic_compare_exchange_n(&e->held_bytes, &held, held + charge, 1,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return 1;
}

static void fp_wait_space(fp_engine *e, int wait_ms, int (*ready)(fp_engine *, size_t), size_t n) {
    __atomic_add_fetch(&e->space_waiters, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&e->lock);
    if (!ready(e, n))
        fp_cond_wait_ms(&e->space_cv, &e->lock, wait_ms);
    pthread_mutex_unlock(&e->lock);
    __atomic_sub_fetch(&e->space_waiters, 1, __ATOMIC_SEQ_CST);
}

static int fp_buffer_has_room(fp_engine *e, size_t charge) {
    return __atomic_load_n(&e->held_bytes, __ATOMIC_SEQ_CST) + charge <= e->buffer_memory;
}

int fp_engine_wait_reserve(fp_engine *e, size_t charge, int wait_ms) {
    fp_wait_space(e, wait_ms, fp_buffer_has_room, charge);
    return fp_engine_try_reserve(e, charge);
}

void fp_engine_unreserve(fp_engine *e, size_t charge) {
    __atomic_sub_fetch(&e->held_bytes, charge, __ATOMIC_SEQ_CST);
    fp_wake_space_waiters(e);
}

/* Records bigger than this keep their bytes outside the ring, so one never waits for a ring
 * emptier than it can ever be. */
static uint64_t fp_external_threshold(const fp_engine *e) { return e->capacity / 4; }

int fp_engine_write(fp_engine *e, rd_kafka_topic_t *rkt, int32_t partition,
                    int64_t timestamp_ms, const char *key, ssize_t key_len,
                    const char *value, ssize_t value_len, rd_kafka_headers_t *headers,
                    void *opaque) {
    uint32_t klen = key_len < 0 ? 0 : (uint32_t)key_len;
    uint32_t vlen = value_len < 0 ? 0 : (uint32_t)value_len;
    uint64_t need = fp_align(sizeof(fp_slot) + (uint64_t)klen + vlen);
    char *external = NULL;
    if (need > fp_external_threshold(e)) {
        external = malloc((size_t)klen + vlen + 1);
        if (external == NULL)
            return -1;
        need = fp_align(sizeof(fp_slot));
    }
    uint64_t mask = e->capacity - 1;
    uint64_t head = e->head;
    uint64_t contiguous = e->capacity - (head & mask);
    uint64_t skip = contiguous < need ? contiguous : 0; /* pad to the end, start again at 0 */
    uint64_t tail = __atomic_load_n(&e->tail, __ATOMIC_ACQUIRE);
    if (head + skip + need - tail > e->capacity) {
        free(external);
        return 0;
    }
    if (skip >= sizeof(fp_slot)) {
        fp_slot *pad = (fp_slot *)(e->ring + (head & mask));
        pad->size = (uint32_t)skip;
        pad->flags = FP_SLOT_PAD;
    }
    head += skip;
    fp_slot *slot = (fp_slot *)(e->ring + (head & mask));
    slot->size = (uint32_t)need;
    slot->flags = (key_len >= 0 ? FP_SLOT_HAS_KEY : 0) | (value_len >= 0 ? FP_SLOT_HAS_VALUE : 0) |
                  (external ? FP_SLOT_EXTERNAL : 0);
    slot->partition = partition;
    slot->key_len = klen;
    slot->value_len = vlen;
    slot->timestamp_ms = timestamp_ms;
    slot->opaque = opaque;
    slot->rkt = rkt;
    slot->headers = headers;
    slot->external = external;
    char *bytes = external ? external : (char *)(slot + 1);
    if (klen)
        memcpy(bytes, key, klen);
    if (vlen)
        memcpy(bytes + klen, value, vlen);
    __atomic_add_fetch(&e->outstanding, 1, __ATOMIC_RELAXED);
    /* Publish, then look whether the drain thread sleeps (the other half is in fp_drain_main). */
    __atomic_store_n(&e->head, head + need, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&e->drain_sleeping, __ATOMIC_SEQ_CST) &&
        __atomic_exchange_n(&e->drain_sleeping, 0, __ATOMIC_SEQ_CST))
        rdk.rd_kafka_queue_yield(e->main_queue);
    return 1;
}

/* Also read by a writer waiting without the GIL while another writer moves head. */
static int fp_ring_drained(fp_engine *e, size_t unused) {
    (void)unused;
    return __atomic_load_n(&e->tail, __ATOMIC_SEQ_CST) ==
           __atomic_load_n(&e->head, __ATOMIC_ACQUIRE);
}

void fp_engine_wait_ring(fp_engine *e, int wait_ms) {
    /* The writer cannot know how much room its next record needs after padding; any progress of
     * the drain thread wakes it to try again. */
    fp_wait_space(e, wait_ms, fp_ring_drained, 0);
}

size_t fp_engine_take(fp_engine *e, fp_completions *out, int wait_ms, int *finished) {
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

void fp_engine_resolved(fp_engine *e, size_t n) {
    pthread_mutex_lock(&e->lock);
    __atomic_sub_fetch(&e->outstanding, n, __ATOMIC_RELAXED);
    e->resolved_generation++;
    pthread_cond_broadcast(&e->resolved_cv);
    pthread_mutex_unlock(&e->lock);
}

uint64_t fp_engine_wait_idle(fp_engine *e, int wait_ms) {
    uint64_t left;
    pthread_mutex_lock(&e->lock);
    if (__atomic_load_n(&e->outstanding, __ATOMIC_RELAXED) > 0)
        fp_cond_wait_ms(&e->resolved_cv, &e->lock, wait_ms);
    left = __atomic_load_n(&e->outstanding, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&e->lock);
    return left;
}

uint64_t fp_engine_generation(fp_engine *e) {
    uint64_t g;
    pthread_mutex_lock(&e->lock);
    g = e->resolved_generation;
    pthread_mutex_unlock(&e->lock);
    return g;
}

void fp_engine_wait_generation(fp_engine *e, uint64_t seen, int wait_ms) {
    pthread_mutex_lock(&e->lock);
    if (e->resolved_generation == seen)
        fp_cond_wait_ms(&e->resolved_cv, &e->lock, wait_ms);
    pthread_mutex_unlock(&e->lock);
}

void fp_engine_stop(fp_engine *e, int64_t deadline_ms) {
    pthread_mutex_lock(&e->lock);
    if (!e->stopping) {
        e->stop_deadline_ms = deadline_ms;
        __atomic_store_n(&e->stopping, 1, __ATOMIC_RELEASE); /* the deadline is read after it */
    }
    pthread_mutex_unlock(&e->lock);
    rdk.rd_kafka_queue_yield(e->main_queue);
    pthread_mutex_lock(&e->metadata_lock);
    e->metadata_stopping = 1;
    pthread_cond_broadcast(&e->metadata_cv);
    pthread_cond_broadcast(&e->table_cv);
    pthread_mutex_unlock(&e->metadata_lock);
}

void fp_engine_join(fp_engine *e) {
    if (e->drain_started) {
        pthread_join(e->drain_thread, NULL);
        e->drain_started = 0;
    }
    if (e->metadata_started) {
        pthread_join(e->metadata_thread, NULL);
        e->metadata_started = 0;
    }
}
