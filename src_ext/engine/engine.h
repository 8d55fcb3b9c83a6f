/* The native record path: a byte ring that send() fills under the GIL, a drain thread that
 * hands records to librdkafka and serves its delivery reports without the GIL, and a completion
 * queue that the Python side empties in batches.
 *
 * Memory bound: every byte accepted by send() is charged against buffer_memory until its delivery
 * report arrives, whether it waits in our queue or in librdkafka's (as Java's buffer.memory).
 *
 * Thread roles: callers (GIL held) write records into the ring; one drain thread (no GIL) calls
 * librdkafka; one dispatcher (a Python thread, GIL taken once per batch) takes completions; one
 * metadata thread (no GIL) keeps every topic's partition table current for send()'s partitioning.
 */
#ifndef FASTPROD_ENGINE_H
#define FASTPROD_ENGINE_H

#include <pthread.h>
#include <stdint.h>

#include "partition.h"
#include "rdk.h"
#include "record_size.h"
#include "sync.h"

/* How records went to librdkafka (stats()). */
typedef struct fp_counters {
    uint64_t queue_full_retries; /* librdkafka refused a record as QUEUE_FULL and it was retried */
    uint64_t batched_records;    /* records handed over by produce_batch; the rest by producev */
    uint64_t untracked_delivered; /* records without a result object (opaque NULL) delivered */
} fp_counters;

/* The ring holds this fraction of buffer.memory: records only pass through it on their way to
 * librdkafka, where the rest of the budget sits, and every ring byte becomes resident. */
#define FP_RING_SHARE 4
#define FP_RING_MIN 65536

/* A record in the ring: this header, then key bytes, then value bytes, padded to FP_RING_ALIGN.
 * Records too big for the ring keep their bytes in a separate allocation (FP_SLOT_EXTERNAL). */
typedef struct fp_slot {
    uint32_t size;               /* ring bytes this slot takes, header included */
    uint32_t flags;              /* FP_SLOT_* */
    int32_t partition;           /* RDK_PARTITION_UA: librdkafka's partitioner chooses */
    uint32_t key_len, value_len; /* 0 with a null key/value (has-flags tell null from empty) */
    int64_t timestamp_ms;
    void *opaque;                /* handed back untouched in the record's completion */
    rd_kafka_topic_t *rkt;       /* borrowed; lives as long as the engine */
    rd_kafka_headers_t *headers; /* owned until librdkafka accepts the record, may be NULL */
    char *external;              /* key and value bytes of an FP_SLOT_EXTERNAL record */
} fp_slot;

#define FP_SLOT_PAD 1u       /* filler up to the ring's end; the next slot starts at offset 0 */
#define FP_SLOT_HAS_KEY 2u
#define FP_SLOT_HAS_VALUE 4u
#define FP_SLOT_EXTERNAL 8u
#define FP_SLOT_SEND_TIME 16u /* timestamp_ms is the time of the write, not one the caller gave */

/* fp_engine_write's timestamp_ms for a record that takes the time of its send() (CREATE_TIME). */
#define FP_TIMESTAMP_AT_SEND ((int64_t)-1)
#define FP_RING_ALIGN 8u

/* A record written with a NULL opaque has no result object (send_and_forget()): its delivery
 * only counts (untracked_delivered), never reaches the dispatcher. If it fails, its completion
 * carries this copy of it instead, so that the error handler can see what was lost: the opaque
 * is the pointer with FP_OPAQUE_LOST set (result objects are 8-byte aligned; bit 0 tags
 * send_batch entries), and the dispatcher frees it. */
typedef struct fp_lost_record {
    rd_kafka_topic_t *rkt;
    uint32_t key_len, value_len;
    uint32_t flags; /* FP_SLOT_HAS_KEY, FP_SLOT_HAS_VALUE */
    char bytes[];   /* key, then value */
} fp_lost_record;
#define FP_OPAQUE_LOST ((uintptr_t)2)

typedef struct fp_completion {
    void *opaque;
    int64_t offset;
    int64_t timestamp_ms;
    int32_t partition;
    int32_t err;            /* rd_kafka_resp_err_t; 0 means delivered */
    int16_t timestamp_type; /* RDK_TIMESTAMP_* */
    int16_t status;         /* RDK_MSG_STATUS_*: may a failed record be in the log anyway? */
} fp_completion;

typedef struct fp_completions {
    fp_completion *items;
    size_t len, cap;
} fp_completions;

/* What librdkafka tells the application besides delivery reports, on its way to Python: its
 * callbacks (fp_on_log, fp_on_error, fp_on_throttle) keep it, the dispatcher takes a batch. At
 * most FP_EVENTS_MAX wait; more are counted as dropped. */
typedef struct fp_event {
    int kind;          /* FP_EVENT_* */
    int code;          /* LOG: syslog level (3 error ... 7 debug); ERROR: the error code;
                        * THROTTLE: the delay in ms */
    int32_t broker_id; /* THROTTLE */
    char facility[20]; /* LOG */
    char text[484];    /* LOG: the line; ERROR: the reason; THROTTLE: the broker's name */
} fp_event;
#define FP_EVENT_LOG 0
#define FP_EVENT_ERROR 1
#define FP_EVENT_THROTTLE 2

typedef struct fp_events {
    fp_event *items;
    size_t len, cap;
    uint64_t dropped;
} fp_events;
#define FP_EVENTS_MAX 4096

typedef struct fp_engine {
    rd_kafka_t *rk;
    rd_kafka_queue_t *main_queue; /* yielded to wake the drain thread out of rd_kafka_poll */
    pthread_t drain_thread;
    int drain_started;

    /* The ring: one writer (a send() caller; the GIL makes it one at a time), one reader (the
     * drain thread). head and tail grow forever; a position's offset is pos & (capacity - 1). */
    char *ring;
    uint64_t capacity;
    uint64_t head __attribute__((aligned(64))); /* written by the writer, release */
    uint64_t tail __attribute__((aligned(64))); /* written by the reader, release */
    int drain_sleeping __attribute__((aligned(64))); /* the reader is (about to be) in poll */
    int nap_ms;

    /* Bytes charged against buffer_memory (ring + librdkafka), atomic: added by the writer,
     * released by the drain thread when delivery reports arrive. */
    size_t buffer_memory;
    size_t held_bytes;
    uint64_t outstanding; /* accepted records not yet resolved, atomic */
    int space_waiters;    /* writers blocked for space, atomic */

    pthread_mutex_t lock; /* guards the fields below and the condition variables */
    pthread_cond_t space_cv;    /* ring or buffer space was released */
    pthread_cond_t done_cv;     /* completions are waiting, or the drain thread ended */
    pthread_cond_t resolved_cv; /* the dispatcher resolved a batch */
    uint64_t resolved_generation;
    fp_completions done;     /* published completions, swapped out by the dispatcher */
    fp_events events;        /* librdkafka's other news, swapped out by the dispatcher too */
    char *stats_json;        /* its latest statistics (malloc'd, NUL-terminated), not yet taken */
    int stopping;            /* atomic; close(): drain what is queued, flush until stop_deadline */
    int64_t stop_deadline_ms;
    int drain_finished;

    fp_counters counters; /* kept by the drain thread for stats(), each field atomic */

    /* An authentication or TLS failure (librdkafka's error callback, drain thread): no record
     * can be delivered, so pending ones fail with it at once and send() refuses new ones.
     * credentials_error is atomic; the reason is written once, before it is set. */
    int credentials_error;
    char credentials_reason[512];

    /* purge(): flags (RDK_PURGE_F_*, atomic) for the drain thread, which clears them and sets
     * purge_done to the ticket it served, broadcasting purged_cv. */
    int purge_flags;
    uint64_t purge_requested, purge_done;
    pthread_cond_t purged_cv;

    /* Owned by the drain thread alone: delivery reports collected during one rd_kafka_poll. */
    fp_completions local;
    size_t local_released;
    uint64_t local_untracked; /* untracked records delivered during it (no completion) */

    /* Topic metadata. send() callers register topics and wait for their first table; the
     * metadata thread refreshes each every metadata_refresh_ms, sooner while one is incomplete. */
    pthread_t metadata_thread;
    int metadata_started;
    pthread_mutex_t metadata_lock; /* guards topics' scheduling fields and metadata_stopping */
    pthread_cond_t metadata_cv;    /* a topic wants an answer, or stop */
    pthread_cond_t table_cv;       /* a metadata request finished */
    fp_topic *topics;
    int64_t metadata_refresh_ms;
    int metadata_stopping;
    /* Until the first record is acknowledged (atomic, set by the drain thread), the metadata
     * thread sends extra Metadata requests: see FP_KICK_* in metadata.c. */
    int acknowledged;
    int broker_answered; /* a metadata request of the metadata thread got an answer */
    int64_t started_ms, kick_at_ms;
    int kick_gap_ms;
} fp_engine;

/* Takes ownership of conf in every case. Returns NULL with errstr set on failure. The ring
 * holds buffer_memory / FP_RING_SHARE bytes, rounded up to a power of two. nap_ms: how long a
 * record may wait in the ring before the drain thread looks (0: writers wake it every time). */
fp_engine *fp_engine_new(rd_kafka_conf_t *conf, size_t buffer_memory,
                         int64_t metadata_refresh_ms, int nap_ms, char *errstr,
                         size_t errstr_size);
/* Frees everything; the drain thread must have been joined and no completions be pending. */
void fp_engine_free(fp_engine *e);

/* 1 if charge bytes were reserved at once, 0 if the buffer is full. */
int fp_engine_try_reserve(fp_engine *e, size_t charge);
/* Waits up to wait_ms for buffer space; 1 if charge bytes were reserved. */
int fp_engine_wait_reserve(fp_engine *e, size_t charge, int wait_ms);
/* Gives back a reservation that was not used (the record could not be queued). */
void fp_engine_unreserve(fp_engine *e, size_t charge);

/* Writes one record into the ring (the caller reserved its charge and is the only writer).
 * key_len/value_len -1 mean null; timestamp_ms may be FP_TIMESTAMP_AT_SEND. Returns 1, or 0 if
 * the ring has no room now (nothing written; wait with fp_engine_wait_ring and try again), or -1
 * if memory for a large record ran out. */
int fp_engine_write(fp_engine *e, rd_kafka_topic_t *rkt, int32_t partition,
                    int64_t timestamp_ms, const char *key, ssize_t key_len,
                    const char *value, ssize_t value_len, rd_kafka_headers_t *headers,
                    void *opaque);
/* Waits up to wait_ms for the drain thread to free ring space. */
void fp_engine_wait_ring(fp_engine *e, int wait_ms);

/* Swaps the published completions into *out (whose old contents must have been handled), waiting
 * up to wait_ms for some (or for log lines). Returns the number taken; *finished is set once the
 * drain thread ended and nothing is left to take. */
size_t fp_engine_take(fp_engine *e, fp_completions *out, int wait_ms, int *finished);
/* Swaps the waiting events into *out (emptied first) and hands over the latest statistics JSON
 * (*stats_json: NULL if none arrived since; the caller frees it); returns how many events. */
size_t fp_engine_take_events(fp_engine *e, fp_events *out, char **stats_json);
/* The dispatcher resolved n completions. */
void fp_engine_resolved(fp_engine *e, size_t n);
/* Waits up to wait_ms until no accepted record is unresolved; returns the count still unresolved. */
uint64_t fp_engine_wait_idle(fp_engine *e, int wait_ms);
uint64_t fp_engine_generation(fp_engine *e);
/* Waits up to wait_ms for a resolved batch after generation seen. */
void fp_engine_wait_generation(fp_engine *e, uint64_t seen, int wait_ms);

/* Asks the drain thread to purge (RDK_PURGE_F_* flags; F_QUEUE also fails the records still in
 * fastprod's ring); returns a ticket for fp_engine_wait_purged. */
uint64_t fp_engine_purge(fp_engine *e, int flags);
/* Waits up to wait_ms for that purge; 1 once it was done (or the drain thread ended). */
int fp_engine_wait_purged(fp_engine *e, uint64_t ticket, int wait_ms);
/* Accepted records not yet resolved (acknowledged or failed and handed back). */
uint64_t fp_engine_outstanding(fp_engine *e);

/* For stats, read while other threads change them. */
size_t fp_engine_held_bytes(fp_engine *e);
void fp_engine_counters(fp_engine *e, fp_counters *out);
/* The authentication/TLS error that stopped this producer (0: none) and librdkafka's reason. */
int fp_engine_credentials_error(fp_engine *e, const char **reason);

/* Starts shutdown: queued records still go to librdkafka, which is flushed until deadline (a
 * CLOCK_MONOTONIC ms value); what is left then is purged and fails. */
void fp_engine_stop(fp_engine *e, int64_t deadline_ms);
void fp_engine_join(fp_engine *e);

#endif
