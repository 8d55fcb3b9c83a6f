/* The C engine's threads under ThreadSanitizer (`make test-tsan`, docs/sanitizers.md).
 *
 *   engine_tsan LIBRDKAFKA
 *
 * CPython is not built with TSan, so TSan cannot see the GIL and would judge the extension's
 * threads wrongly: this program plays the Cython layer's part instead, with one mutex standing for
 * the GIL. As in send.pxi, writers reserve, partition and write only while holding it
 * and wait for buffer space, ring room or a partition table without it; a dispatcher takes
 * completions without it and resolves them with it (dispatch.pxi); another caller flushes, waits
 * for resolved batches, asks for fresh tables and reads stats() meanwhile. Every call counts
 * itself in `users`, and a closed engine is freed by close() or by the last call to leave, once
 * the dispatcher has finished. Rounds on librdkafka's mock cluster: everything flushed before
 * close(), or close(0) while writers block on a full buffer. Each record written must get exactly
 * one completion, and no byte may stay charged nor record unresolved when the engine is freed;
 * exits 1 otherwise (and TSan with 66 after any report).
 */
#define _GNU_SOURCE /* as Python.h defines it for the extension: pthread_setname_np */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "metadata.h"

#define WRITERS 4
#define RECORDS 3000 /* per writer */
#define TOPICS 2
/* A 64 KiB ring (the minimum) within 256 KiB: both fill, so writers wait for either. */
#define BUFFER_MEMORY (256 * 1024)
#define BIG_VALUE (20 * 1024) /* over capacity / 4: kept outside the ring */
#define SLICE_MS 100          /* WAIT_SLICE_MS: waits are cut into slices to look at close() */
#define CLOSE_AFTER 2000      /* close(0) once this many records were written */
#define ROUNDS 3

static pthread_mutex_t gil = PTHREAD_MUTEX_INITIALIZER;

typedef struct run {
    const char *name;
    int stop_ms; /* close(timeout): how long the engine may flush */
    fp_topic *topics[TOPICS];
    /* Under the gil, as ProducerCore's fields are. */
    fp_engine *e; /* NULL once freed */
    int closed, users, dispatch_finished;
    long written;
    size_t held_peak;
    uint64_t batched; /* records the drain thread gave to produce_batch, as last read */
    int bad; /* what the checks at free time found */
    /* Per record id: written, and completions seen (dispatcher, under the gil). */
    unsigned char sent[WRITERS * RECORDS], completed[WRITERS * RECORDS];
    long failed, strays;
} run;

typedef struct writer {
    run *r;
    int index;
    pthread_t thread;
} writer;

static _Noreturn void fail(const char *what) {
    fprintf(stderr, "engine_tsan: %s\n", what);
    exit(1);
}

/* The gil is released around a wait, as a `with nogil:` block does; returns with it held. */
#define WITHOUT_GIL(body)                                                                        \
    do {                                                                                         \
        pthread_mutex_unlock(&gil);                                                              \
        body;                                                                                    \
        pthread_mutex_lock(&gil);                                                                \
    } while (0)

/* What must hold once nothing uses the engine any more (gil held). */
static void check(run *r, fp_engine *e) {
    long missing = 0, doubled = 0;
    for (long id = 0; id < WRITERS * RECORDS; id++) {
        if (r->sent[id] && r->completed[id] == 0)
            missing++;
        if (r->completed[id] > 1)
            doubled++;
    }
    size_t held = __atomic_load_n(&e->held_bytes, __ATOMIC_ACQUIRE);
    uint64_t outstanding = __atomic_load_n(&e->outstanding, __ATOMIC_ACQUIRE);
    printf("%s: %ld written (%llu seen batched), %ld failed, peak %zu of %d bytes held\n",
           r->name, r->written, (unsigned long long)r->batched, r->failed, r->held_peak,
           BUFFER_MEMORY);
    if (missing || doubled || r->strays) {
        printf("%s: %ld records without a completion, %ld with several, %ld completions of "
               "records never written\n", r->name, missing, doubled, r->strays);
        r->bad = 1;
    }
    if (held != 0 || outstanding != 0) {
        printf("%s: %zu bytes still held, %llu records unresolved when the engine is freed\n",
               r->name, held, (unsigned long long)outstanding);
        r->bad = 1;
    }
    if (r->failed && r->stop_ms > 0) {
        printf("%s: records failed on the mock cluster\n", r->name);
        r->bad = 1;
    }
    if (r->held_peak > BUFFER_MEMORY) {
        printf("%s: more than buffer.memory was held\n", r->name);
        r->bad = 1;
    }
    if (r->written == 0) {
        printf("%s: nothing was written\n", r->name);
        r->bad = 1;
    }
}

/* ProducerCore._free_engine (gil held): only when no call is under way and the dispatcher ended. */
static void free_engine(run *r) {
    fp_engine *e = r->e;
    if (e == NULL || r->users || !r->dispatch_finished)
        return;
    r->e = NULL;
    check(r, e);
    WITHOUT_GIL(fp_engine_join(e); fp_engine_free(e));
}

/* ProducerCore._leave (gil held). */
static void leave(run *r) {
    if (--r->users == 0 && r->closed)
        free_engine(r);
}

/* ProducerCore._partition for the built-in partitioners (gil held); -2 once closed. */
static int32_t partition_for(run *r, fp_engine *e, fp_topic *t, fp_partitioner how,
                             const char *key, ssize_t key_len, size_t record_bytes) {
    const fp_partitions *table = fp_topic_table(t);
    if (table == NULL && how == FP_PARTITIONER_MURMUR2 && key_len >= 0)
        return RDK_PARTITION_UA; /* librdkafka's murmur2_random places it as we would */
    while (table == NULL) { /* _await_table */
        WITHOUT_GIL(table = fp_engine_wait_table(e, t, 0, SLICE_MS));
        if (r->closed)
            return -2;
    }
    return fp_choose_partition(t, table, how, key, key_len, record_bytes, 1000000);
}

/* _write_record and _write_record_waiting (send.pxi) (gil held): 1 if written, 0 if closed meanwhile
 * (nothing stays reserved then). */
static int enqueue(run *r, fp_engine *e, size_t charge, fp_topic *t, int32_t partition,
                   const char *key, ssize_t key_len, const char *value, ssize_t value_len,
                   rd_kafka_headers_t *hdrs, long id) {
    void *opaque = (void *)(uintptr_t)(id + 1);
    if (r->closed)
        return 0;
    int reserved = fp_engine_try_reserve(e, charge);
    for (;;) {
        if (reserved) {
            /* most records take their send() time (produce_batch runs), some a caller's */
            int64_t ts = id % 5 == 0 ? fp_wallclock_ms() : FP_TIMESTAMP_AT_SEND;
            int written = fp_engine_write(e, t->rkt, partition, ts, key, key_len, value,
                                          value_len, hdrs, opaque);
            if (written == 1)
                return 1;
            if (written < 0)
                fail("out of memory for a large record");
        }
        WITHOUT_GIL(if (reserved) fp_engine_wait_ring(e, SLICE_MS);
                    else reserved = fp_engine_wait_reserve(e, charge, SLICE_MS));
        if (r->closed) {
            if (reserved)
                fp_engine_unreserve(e, charge);
            return 0;
        }
    }
}

/* A send() loop. Writers differ in what the partitioner needs: keyed murmur2 (no table needed),
 * keyless sticky, round robin (both wait for the metadata thread's table). */
static void *writer_main(void *arg) {
    writer *w = arg;
    run *r = w->r;
    static const fp_partitioner how[WRITERS] = {FP_PARTITIONER_MURMUR2, FP_PARTITIONER_MURMUR2,
                                                FP_PARTITIONER_MURMUR2, FP_PARTITIONER_ROUND_ROBIN};
    int keyless = w->index == 2;
    unsigned seed = (unsigned)w->index + 1;
    char key[32], *value = malloc(BIG_VALUE);
    if (value == NULL)
        fail("out of memory");
    memset(value, 'a' + w->index, BIG_VALUE);
    for (int i = 0; i < RECORDS; i++) {
        long id = (long)w->index * RECORDS + i;
        ssize_t key_len = snprintf(key, sizeof(key), "w%d-%d", w->index, i);
        ssize_t value_len = i % 97 == 5 ? BIG_VALUE : rand_r(&seed) % 400;
        if (keyless)
            key_len = -1;
        pthread_mutex_lock(&gil);
        if (r->closed) { /* _check_usable */
            pthread_mutex_unlock(&gil);
            break;
        }
        r->users++;
        fp_engine *e = r->e;
        fp_topic *t = r->topics[i % TOPICS];
        rd_kafka_headers_t *hdrs = NULL;
        if (i % 10 == 0) {
            hdrs = rdk.rd_kafka_headers_new(1);
            rdk.rd_kafka_header_add(hdrs, "id", 2, key, 4);
        }
        size_t record_bytes = (size_t)(key_len > 0 ? key_len : 0) + (size_t)value_len;
        int32_t partition = partition_for(r, e, t, how[w->index], key, key_len, record_bytes);
        size_t charge = fp_record_charge((size_t)(key_len > 0 ? key_len : 0), (size_t)value_len,
                                         fp_headers_bytes(hdrs));
        if (partition != -2 && enqueue(r, e, charge, t, partition, key, key_len, value,
                                       value_len, hdrs, id)) {
            r->sent[id] = 1;
            r->written++;
            hdrs = NULL; /* the ring owns them */
        }
        if (hdrs != NULL)
            rdk.rd_kafka_headers_destroy(hdrs);
        leave(r);
        pthread_mutex_unlock(&gil);
    }
    free(value);
    return NULL;
}

/* _Dispatcher.run. */
static void *dispatcher_main(void *arg) {
    run *r = arg;
    fp_engine *e = r->e;
    fp_completions batch = {0};
    int finished = 0;
    for (;;) {
        size_t n = fp_engine_take(e, &batch, SLICE_MS * 5, &finished);
        if (finished)
            break;
        pthread_mutex_lock(&gil);
        for (size_t i = 0; i < n; i++) {
            const fp_completion *c = &batch.items[i];
            uintptr_t id = (uintptr_t)c->opaque - 1;
            if (id >= (uintptr_t)WRITERS * RECORDS || !r->sent[id]) {
                r->strays++;
                continue;
            }
            r->completed[id]++;
            if (c->err)
                r->failed++;
        }
        pthread_mutex_unlock(&gil);
        if (n)
            fp_engine_resolved(e, n);
    }
    free(batch.items);
    pthread_mutex_lock(&gil);
    r->dispatch_finished = 1;
    pthread_mutex_unlock(&gil);
    return NULL;
}

/* Another caller meanwhile: flush() and DeliveryFuture.get() waits, partitions_for() with a
 * doubted table (a partition beyond it), and stats(). */
static void *caller_main(void *arg) {
    run *r = arg;
    pthread_mutex_lock(&gil);
    for (int round = 0; !r->closed; round++) {
        r->users++;
        fp_engine *e = r->e;
        fp_topic *t = r->topics[round % TOPICS];
        uint64_t generation = fp_engine_generation(e);
        WITHOUT_GIL(fp_engine_wait_generation(e, generation, 10));
        WITHOUT_GIL(fp_engine_wait_idle(e, 10));
        if (round % 8 == 0) {
            const fp_partitions *table;
            WITHOUT_GIL(table = fp_engine_wait_table(e, t, 1, 10));
            if (table != NULL && table->count <= 0)
                fail("a published table without partitions");
        }
        (void)fp_topic_limit(t);
        leave(r);
        if (r->e != NULL) { /* stats(): _held_bytes() and the counters, read as there */
            size_t held = fp_engine_held_bytes(r->e);
            fp_counters counters;
            fp_engine_counters(r->e, &counters);
            r->batched = counters.batched_records;
            if (held > r->held_peak)
                r->held_peak = held;
        }
        WITHOUT_GIL(usleep(1000));
    }
    pthread_mutex_unlock(&gil);
    return NULL;
}

/* ProducerCore._close: no send() gets past the closed flag, the dispatcher ends after the last
 * completion, then the engine is freed here or by the last call still under way. */
static void close_run(run *r, pthread_t dispatcher) {
    pthread_mutex_lock(&gil);
    r->closed = 1;
    fp_engine *e = r->e;
    WITHOUT_GIL(fp_engine_stop(e, fp_now_ms() + r->stop_ms); pthread_join(dispatcher, NULL));
    free_engine(r);
    pthread_mutex_unlock(&gil);
}

static void start(run *r) {
    char errstr[512];
    rd_kafka_conf_t *conf = rdk.rd_kafka_conf_new();
    /* fastprod's defaults that shape the engine's work; a small librdkafka queue so that the
     * drain thread also takes its QUEUE_FULL retry path. */
    static const char *settings[][2] = {
        {"test.mock.num.brokers", "1"}, {"log_level", "3"}, {"enable.idempotence", "true"},
        {"acks", "all"}, {"linger.ms", "5"}, {"queue.buffering.max.messages", "500"}};
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (rdk.rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr,
                                  sizeof(errstr)) != RDK_CONF_OK)
            fail(errstr);
    r->e = fp_engine_new(conf, BUFFER_MEMORY, 300000, 1, errstr, sizeof(errstr));
    if (r->e == NULL)
        fail(errstr);
    for (int i = 0; i < TOPICS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "tsan-%d", i);
        if ((r->topics[i] = fp_engine_topic(r->e, name)) == NULL)
            fail("librdkafka refused a topic");
    }
}

/* One producer's life; close_early: close(0) once CLOSE_AFTER records are in, writers still
 * sending. Returns 1 if a check failed. */
static int round_trip(const char *name, int close_early) {
    run *r = calloc(1, sizeof(run));
    if (r == NULL)
        fail("out of memory");
    r->name = name;
    r->stop_ms = close_early ? 0 : 10000;
    start(r);
    writer writers[WRITERS];
    pthread_t dispatcher, caller;
    pthread_create(&dispatcher, NULL, dispatcher_main, r);
    pthread_create(&caller, NULL, caller_main, r);
    for (int i = 0; i < WRITERS; i++) {
        writers[i] = (writer){.r = r, .index = i};
        pthread_create(&writers[i].thread, NULL, writer_main, &writers[i]);
    }
    if (close_early) {
        for (long written = 0; written < CLOSE_AFTER; usleep(1000)) {
            pthread_mutex_lock(&gil);
            written = r->written;
            pthread_mutex_unlock(&gil);
        }
    } else {
        for (int i = 0; i < WRITERS; i++)
            pthread_join(writers[i].thread, NULL);
        pthread_mutex_lock(&gil); /* flush() */
        r->users++;
        fp_engine *e = r->e;
        int64_t deadline = fp_now_ms() + 60000;
        uint64_t left;
        do
            WITHOUT_GIL(left = fp_engine_wait_idle(e, SLICE_MS));
        while (left > 0 && fp_now_ms() < deadline);
        leave(r);
        pthread_mutex_unlock(&gil);
        if (left > 0)
            fail("flush() did not finish within 60 s");
    }
    close_run(r, dispatcher);
    if (close_early)
        for (int i = 0; i < WRITERS; i++)
            pthread_join(writers[i].thread, NULL);
    pthread_join(caller, NULL);
    if (r->e != NULL) {
        printf("%s: the engine was never freed\n", name);
        r->bad = 1;
    }
    int bad = r->bad;
    free(r);
    return bad;
}

int main(int argc, char **argv) {
    char errbuf[512];
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBRDKAFKA\n", argv[0]);
        return 2;
    }
    if (rdk_load(argv[1], errbuf, sizeof(errbuf)) != 0)
        fail(errbuf);
    alarm(600); /* a hang fails too */
    int bad = 0;
    for (int i = 0; i < ROUNDS; i++) { /* a race shows only in the interleavings a run meets */
        bad |= round_trip("flush, then close", 0);
        bad |= round_trip("close(0) while writers wait", 1);
    }
    printf("engine_tsan: %s\n", bad ? "FAILED" : "ok");
    return bad;
}
