/* Implementation of metadata.h: the metadata thread and the topic registry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metadata.h"

/* Metadata: a topic without a table (or whose table a send() doubts) is asked about again after
 * FP_METADATA_SOON_MS; one with a leaderless partition or an error after FP_METADATA_DEGRADED_MS;
 * one whose max.message.bytes could not be learned after a backoff from FP_METADATA_DEGRADED_MS
 * doubling up to the refresh interval. Each request waits at most FP_METADATA_TIMEOUT_MS (a
 * refresh makes at most two: metadata, then the topic's configuration), which bounds how long
 * close() can wait for the metadata thread. */
#define FP_METADATA_SOON_MS 100
#define FP_METADATA_DEGRADED_MS 1000
#define FP_METADATA_TIMEOUT_MS 500
#define FP_METADATA_IDLE_MS 60000

/* Start-up kicks. librdkafka's idempotent producer asks for its producer id when a Metadata
 * response arrives, and otherwise only on a 500 ms timer. Its first response comes over the
 * bootstrap connection, which it then closes: with no other connection up yet, the id request
 * finds no broker and waits for the timer, and so does one that failed (a fresh broker's
 * "coordinator load in progress"). So once a topic is registered (a first send) and a broker
 * answered, until the first record is acknowledged, the metadata thread sends Metadata requests
 * of its own: 10 ms after the start, then at gaps doubling up to 40 ms, within FP_KICK_WINDOW_MS
 * of the start. (Not before a broker answered: each request to an unreachable bootstrap server
 * is one more connection attempt, and one more "Connection refused" line from librdkafka.)
 * On a local broker this took the first acknowledgement from ~505 ms in a fraction of the runs
 * to under 100 ms in all (issue 14). */
#define FP_KICK_FIRST_MS 10
#define FP_KICK_MAX_GAP_MS 40
#define FP_KICK_WINDOW_MS 3000

/* When t is next due for a metadata request (metadata_lock held). */
static int64_t fp_topic_due_ms(const fp_engine *e, const fp_topic *t) {
    const fp_partitions *table = t->table;
    if (table == NULL || __atomic_load_n(&t->refresh_wanted, __ATOMIC_RELAXED))
        return t->refreshed_ms + FP_METADATA_SOON_MS;
    if (table->available_count < table->count ||
        __atomic_load_n(&t->last_error, __ATOMIC_RELAXED) != 0)
        return t->refreshed_ms + FP_METADATA_DEGRADED_MS;
    if (t->limit_retry_ms > 0)
        return t->refreshed_ms + t->limit_retry_ms;
    return t->refreshed_ms + e->metadata_refresh_ms;
}

/* A topic config's value as a non-negative integer, or -1. Long.MAX_VALUE ("no bound") stays. */
static int64_t fp_config_int(const char *value) {
    char *end;
    long long n = strtoll(value, &end, 10);
    return end != value && *end == '\0' && n >= 0 ? (int64_t)n : -1;
}

/* Asks the brokers for t's record limits (DescribeConfigs, no lock held): max.message.bytes and
 * the timestamp bounds; keeps the old values when there is no answer (e.g. the principal may not
 * describe topic configs). Returns 1 if it learned them. */
static int fp_ask_topic_limit(fp_engine *e, fp_topic *t) {
    int learned = 0;
    char errstr[256];
    rd_kafka_ConfigResource_t *resource =
        rdk.rd_kafka_ConfigResource_new(RDK_RESOURCE_TOPIC, rdk.rd_kafka_topic_name(t->rkt));
    rd_kafka_AdminOptions_t *options =
        rdk.rd_kafka_AdminOptions_new(e->rk, RDK_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_queue_t *queue = rdk.rd_kafka_queue_new(e->rk);
    if (resource != NULL && options != NULL && queue != NULL &&
        rdk.rd_kafka_AdminOptions_set_request_timeout(options, FP_METADATA_TIMEOUT_MS, errstr,
                                                       sizeof(errstr)) == 0) {
        rdk.rd_kafka_DescribeConfigs(e->rk, &resource, 1, options, queue);
        rd_kafka_event_t *ev = rdk.rd_kafka_queue_poll(queue, FP_METADATA_TIMEOUT_MS + 100);
        const rd_kafka_DescribeConfigs_result_t *result =
            ev != NULL && rdk.rd_kafka_event_error(ev) == 0
                ? rdk.rd_kafka_event_DescribeConfigs_result(ev) : NULL;
        size_t resource_count = 0, entry_count = 0;
        const rd_kafka_ConfigResource_t **resources =
            result != NULL ? rdk.rd_kafka_DescribeConfigs_result_resources(result, &resource_count)
                           : NULL;
        const rd_kafka_ConfigEntry_t **entries =
            resource_count == 1 && rdk.rd_kafka_ConfigResource_error(resources[0]) == 0
                ? rdk.rd_kafka_ConfigResource_configs(resources[0], &entry_count) : NULL;
        /* Brokers before 3.6 have one bound for both directions (difference.max.ms). */
        int64_t limit = -1, before = -1, after = -1, difference = -1;
        int log_append_time = 0, compacted = 0;
        for (size_t i = 0; i < entry_count; i++) {
            const char *name = rdk.rd_kafka_ConfigEntry_name(entries[i]);
            const char *value = rdk.rd_kafka_ConfigEntry_value(entries[i]);
            if (value == NULL)
                continue;
            if (strcmp(name, "max.message.bytes") == 0)
                limit = fp_config_int(value);
            else if (strcmp(name, "message.timestamp.before.max.ms") == 0)
                before = fp_config_int(value);
            else if (strcmp(name, "message.timestamp.after.max.ms") == 0)
                after = fp_config_int(value);
            else if (strcmp(name, "message.timestamp.difference.max.ms") == 0)
                difference = fp_config_int(value);
            else if (strcmp(name, "message.timestamp.type") == 0)
                log_append_time = strcmp(value, "LogAppendTime") == 0;
            else if (strcmp(name, "cleanup.policy") == 0)
                compacted = strstr(value, "compact") != NULL; /* "compact" or "compact,delete" */
        }
        if (limit > 0 && limit <= INT32_MAX) {
            /* Brokers 3.6-3.9 report before/after as Long.MAX_VALUE when unset and then apply
             * difference.max.ms; 4.x no longer has it. */
            if (before == INT64_MAX && difference >= 0)
                before = -1;
            if (after == INT64_MAX && difference >= 0)
                after = -1;
            if (log_append_time)
                before = after = difference = -1;
            __atomic_store_n(&t->timestamp_before_max_ms, before >= 0 ? before : difference,
                             __ATOMIC_RELEASE);
            __atomic_store_n(&t->timestamp_after_max_ms, after >= 0 ? after : difference,
                             __ATOMIC_RELEASE);
            __atomic_store_n(&t->compacted, compacted, __ATOMIC_RELEASE);
            __atomic_store_n(&t->max_message_bytes, (int32_t)limit, __ATOMIC_RELEASE);
            learned = 1;
        }
        if (ev != NULL)
            rdk.rd_kafka_event_destroy(ev);
    }
    if (queue != NULL)
        rdk.rd_kafka_queue_destroy(queue);
    if (options != NULL)
        rdk.rd_kafka_AdminOptions_destroy(options);
    if (resource != NULL)
        rdk.rd_kafka_ConfigResource_destroy(resource);
    return learned;
}

/* One metadata request for t (no lock held: it waits for the network). */
static void fp_refresh_topic(fp_engine *e, fp_topic *t) {
    const rd_kafka_metadata_t *md = NULL;
    int err = rdk.rd_kafka_metadata(e->rk, 0, t->rkt, &md, FP_METADATA_TIMEOUT_MS);
    if (err == 0 && md->topic_cnt < 1)
        err = RDK_ERR__UNKNOWN_TOPIC;
    if (err == 0) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[0];
        int32_t count = mt->partition_cnt;
        err = mt->err;
        if (count > 0 && (t->limit_asked_ms == 0 || t->limit_retry_ms > 0 ||
                          fp_now_ms() - t->limit_asked_ms >= e->metadata_refresh_ms)) {
            /* Before the first table: send() checks records against the limit once it has one. */
            t->limit_asked_ms = fp_now_ms();
            if (fp_ask_topic_limit(e, t)) {
                t->limit_retry_ms = 0;
            } else {
                int64_t next = t->limit_retry_ms * 2;
                t->limit_retry_ms = next < FP_METADATA_DEGRADED_MS ? FP_METADATA_DEGRADED_MS
                                    : next > e->metadata_refresh_ms ? e->metadata_refresh_ms : next;
            }
        }
        if (count > 0) {
            int32_t *ids = malloc(sizeof(int32_t) * 2 * (size_t)count);
            if (ids != NULL) {
                for (int32_t i = 0; i < count; i++) {
                    ids[i] = mt->partitions[i].id;
                    ids[count + i] = mt->partitions[i].leader;
                }
                fp_topic_publish(t, count, ids, ids + count);
                free(ids);
            }
        }
    }
    if (md != NULL) {
        rdk.rd_kafka_metadata_destroy(md);
        e->broker_answered = 1;
    }
    __atomic_store_n(&t->last_error, err, __ATOMIC_RELAXED);
}

/* One Metadata request for the topics librdkafka knows (no lock held): see FP_KICK_FIRST_MS. */
static void fp_kick(fp_engine *e) {
    const rd_kafka_metadata_t *md = NULL;
    if (rdk.rd_kafka_metadata(e->rk, 0, NULL, &md, FP_METADATA_TIMEOUT_MS) == 0 && md != NULL)
        rdk.rd_kafka_metadata_destroy(md);
}

/* When the next start-up kick is due, or INT64_MAX when there is none (metadata_lock held). */
static int64_t fp_kick_due_ms(const fp_engine *e, int64_t now) {
    if (e->topics == NULL || !e->broker_answered ||
        __atomic_load_n(&e->acknowledged, __ATOMIC_RELAXED) ||
        now - e->started_ms >= FP_KICK_WINDOW_MS)
        return INT64_MAX;
    return e->kick_gap_ms == 0 ? e->started_ms + FP_KICK_FIRST_MS : e->kick_at_ms;
}

void *fp_metadata_main(void *arg) {
    fp_engine *e = arg;
    fp_name_thread("fastprod-meta");
    pthread_mutex_lock(&e->metadata_lock);
    while (!e->metadata_stopping) {
        int64_t now = fp_now_ms(), next = now + FP_METADATA_IDLE_MS;
        fp_topic *due = NULL;
        for (fp_topic *t = e->topics; t != NULL && due == NULL; t = t->next) {
            int64_t at = fp_topic_due_ms(e, t);
            if (at <= now)
                due = t;
            else if (at < next)
                next = at;
        }
        int64_t kick_at = fp_kick_due_ms(e, now);
        if (due == NULL && kick_at <= now) {
            e->kick_gap_ms = e->kick_gap_ms == 0 ? FP_KICK_FIRST_MS
                             : e->kick_gap_ms * 2 > FP_KICK_MAX_GAP_MS ? FP_KICK_MAX_GAP_MS
                             : e->kick_gap_ms * 2;
            e->kick_at_ms = now + e->kick_gap_ms;
            pthread_mutex_unlock(&e->metadata_lock);
            fp_kick(e);
            pthread_mutex_lock(&e->metadata_lock);
            continue;
        }
        if (due == NULL) {
            if (kick_at < next)
                next = kick_at;
            fp_cond_wait_ms(&e->metadata_cv, &e->metadata_lock, (int)(next - now));
            continue;
        }
        __atomic_store_n(&due->refresh_wanted, 0, __ATOMIC_RELAXED);
        due->refreshed_ms = now; /* scheduled from the start, so a failing topic cannot spin */
        pthread_mutex_unlock(&e->metadata_lock);
        fp_refresh_topic(e, due);
        pthread_mutex_lock(&e->metadata_lock);
        pthread_cond_broadcast(&e->table_cv);
    }
    pthread_mutex_unlock(&e->metadata_lock);
    return NULL;
}

fp_topic *fp_engine_topic(fp_engine *e, const char *name) {
    fp_topic *t = calloc(1, sizeof(fp_topic));
    if (t == NULL)
        return NULL;
    t->rkt = rdk.rd_kafka_topic_new(e->rk, name, NULL);
    if (t->rkt == NULL) {
        free(t);
        return NULL;
    }
    t->sticky = -1;
    t->timestamp_before_max_ms = t->timestamp_after_max_ms = -1;
    t->compacted = -1;
    t->cursor = (uint32_t)rand(); /* producers that start together do not all pick partition 0 */
    pthread_mutex_lock(&e->metadata_lock);
    t->next = e->topics;
    e->topics = t;
    pthread_cond_signal(&e->metadata_cv);
    pthread_mutex_unlock(&e->metadata_lock);
    return t;
}

const fp_partitions *fp_engine_wait_table(fp_engine *e, fp_topic *t, int ask_refresh, int wait_ms) {
    const fp_partitions *table = fp_topic_table(t);
    if (table != NULL && !ask_refresh)
        return table;
    pthread_mutex_lock(&e->metadata_lock);
    __atomic_store_n(&t->refresh_wanted, 1, __ATOMIC_RELAXED);
    pthread_cond_signal(&e->metadata_cv);
    fp_cond_wait_ms(&e->table_cv, &e->metadata_lock, wait_ms);
    pthread_mutex_unlock(&e->metadata_lock);
    return fp_topic_table(t);
}
