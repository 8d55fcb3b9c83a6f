/* Implementation of engine.h. Never touches Python objects: opaques are carried, not used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drain.h"
#include "engine.h"
#include "metadata.h"
#include "sync.h"

static uint64_t fp_align(uint64_t n) { return (n + FP_RING_ALIGN - 1) & ~(uint64_t)(FP_RING_ALIGN - 1); }

size_t fp_engine_held_bytes(fp_engine *e) {
    return __atomic_load_n(&e->held_bytes, __ATOMIC_RELAXED);
}

void fp_engine_counters(fp_engine *e, fp_counters *out) {
    out->queue_full_retries = __atomic_load_n(&e->counters.queue_full_retries, __ATOMIC_RELAXED);
    out->batched_records = __atomic_load_n(&e->counters.batched_records, __ATOMIC_RELAXED);
    out->untracked_delivered =
        __atomic_load_n(&e->counters.untracked_delivered, __ATOMIC_RELAXED);
}

int fp_engine_credentials_error(fp_engine *e, const char **reason) {
    int err = __atomic_load_n(&e->credentials_error, __ATOMIC_ACQUIRE);
    *reason = e->credentials_reason;
    return err;
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
    fp_cond_init(&e->purged_cv);
    pthread_mutex_init(&e->metadata_lock, NULL);
    fp_cond_init(&e->metadata_cv);
    fp_cond_init(&e->table_cv);
    e->metadata_refresh_ms = metadata_refresh_ms;
    e->started_ms = fp_now_ms();
    e->nap_ms = nap_ms;
    e->buffer_memory = buffer_memory;
    rdk.rd_kafka_conf_set_dr_msg_cb(conf, fp_on_delivery);
    rdk.rd_kafka_conf_set_error_cb(conf, fp_on_error);
    /* Log lines go to Python's logging instead of stderr: until rd_kafka_new returns librdkafka
     * calls fp_on_log on this thread, after it from the drain thread's rd_kafka_poll. */
    rdk.rd_kafka_conf_set_log_cb(conf, fp_on_log);
    rdk.rd_kafka_conf_set_throttle_cb(conf, fp_on_throttle);
    rdk.rd_kafka_conf_set_stats_cb(conf, fp_on_stats);
    rdk.rd_kafka_conf_set(conf, "log.queue", "true", errstr, errstr_size);
    rdk.rd_kafka_conf_set_opaque(conf, e);
    e->rk = rdk.rd_kafka_new(RDK_PRODUCER, conf, errstr, errstr_size);
    if (e->rk == NULL) {
        rdk.rd_kafka_conf_destroy(conf); /* rd_kafka_new takes conf only on success */
        fp_engine_free(e);
        return NULL;
    }
    rdk.rd_kafka_set_log_queue(e->rk, NULL); /* NULL: the main queue */
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
    free(e->events.items);
    free(e->stats_json);
    free(e->local.items);
    pthread_cond_destroy(&e->space_cv);
    pthread_cond_destroy(&e->done_cv);
    pthread_cond_destroy(&e->resolved_cv);
    pthread_cond_destroy(&e->purged_cv);
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

void fp_wait_space(fp_engine *e, int wait_ms, int (*ready)(fp_engine *, size_t), size_t n) {
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
    if (timestamp_ms == FP_TIMESTAMP_AT_SEND) {
        timestamp_ms = fp_wallclock_ms();
        slot->flags |= FP_SLOT_SEND_TIME;
    }
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
    if (e->done.len == 0 && e->events.len == 0 && !e->events.dropped && e->stats_json == NULL &&
        !e->drain_finished)
        fp_cond_wait_ms(&e->done_cv, &e->lock, wait_ms);
    fp_completions swap = e->done;
    e->done = *out;
    *out = swap;
    *finished = e->drain_finished && out->len == 0;
    pthread_mutex_unlock(&e->lock);
    return out->len;
}

size_t fp_engine_take_events(fp_engine *e, fp_events *out, char **stats_json) {
    out->len = 0;
    out->dropped = 0;
    pthread_mutex_lock(&e->lock);
    fp_events swap = e->events;
    e->events = *out;
    *out = swap;
    *stats_json = e->stats_json;
    e->stats_json = NULL;
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

uint64_t fp_engine_purge(fp_engine *e, int flags) {
    pthread_mutex_lock(&e->lock);
    uint64_t ticket = ++e->purge_requested;
    __atomic_or_fetch(&e->purge_flags, flags, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&e->lock);
    rdk.rd_kafka_queue_yield(e->main_queue); /* out of an idle rd_kafka_poll */
    return ticket;
}

int fp_engine_wait_purged(fp_engine *e, uint64_t ticket, int wait_ms) {
    pthread_mutex_lock(&e->lock);
    if (e->purge_done < ticket && !e->drain_finished)
        fp_cond_wait_ms(&e->purged_cv, &e->lock, wait_ms);
    int done = e->purge_done >= ticket || e->drain_finished;
    pthread_mutex_unlock(&e->lock);
    return done;
}

uint64_t fp_engine_outstanding(fp_engine *e) {
    return __atomic_load_n(&e->outstanding, __ATOMIC_RELAXED);
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
