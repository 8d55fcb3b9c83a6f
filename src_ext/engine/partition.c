/* Implementation of partition.h. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partition.h"

fp_xxh3_fn fp_xxh3_64;

const fp_partitioner_name fp_partitioner_names[] = {
    {"murmur2", FP_PARTITIONER_MURMUR2},
    {"default", FP_PARTITIONER_MURMUR2},        /* Java's name for it */
    {"murmur2_random", FP_PARTITIONER_MURMUR2}, /* librdkafka's name for Java's placement */
    {"xxhash", FP_PARTITIONER_XXHASH},
    {"round_robin", FP_PARTITIONER_ROUND_ROBIN},
    {NULL, FP_PARTITIONER_MURMUR2},
};

int32_t fp_murmur2(const void *data, size_t len) {
    const uint32_t m = 0x5bd1e995u, seed = 0x9747b28cu;
    const unsigned char *p = data;
    uint32_t h = seed ^ (uint32_t)len;
    size_t words = len / 4;
    for (size_t i = 0; i < words; i++, p += 4) {
        uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len & 3) {
    case 3:
        h ^= (uint32_t)p[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)p[1] << 8;
        /* fall through */
    case 1:
        h ^= p[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

int32_t fp_murmur2_partition(const void *key, size_t len, int32_t count) {
    return (int32_t)(((uint32_t)fp_murmur2(key, len) & 0x7fffffffu) % (uint32_t)count);
}

int fp_xxh3_load(const char *path, char *errbuf, size_t errbuf_size) {
    void *handle = rdk_open_library(path, "xxhash", errbuf, errbuf_size);
    if (handle == NULL)
        return -1;
    fp_xxh3_fn fn;
    *(void **)&fn = dlsym(handle, "XXH3_64bits");
    if (fn == NULL) {
        snprintf(errbuf, errbuf_size, "%s does not export XXH3_64bits", path);
        return -1;
    }
    fp_xxh3_64 = fn;
    return 0;
}

/* The next partition in turn among the available ones (all of them while none is available). */
static int32_t fp_next_partition(fp_topic *t, const fp_partitions *table) {
    uint32_t turn = t->cursor++;
    if (table->available_count > 0)
        return table->available[turn % (uint32_t)table->available_count];
    return (int32_t)(turn % (uint32_t)table->count);
}

static int fp_is_available(const fp_partitions *table, int32_t partition) {
    if (partition < 0 || partition >= table->count)
        return 0;
    for (int32_t i = 0; i < table->available_count; i++)
        if (table->available[i] == partition)
            return 1;
    return table->available_count == 0; /* nothing has a leader: any partition is as good */
}

/* Java's built-in partitioner for keyless records: stay on one partition until a batch worth of
 * bytes went there, then move to the next, so batches fill and partitions get equal shares. */
static int32_t fp_sticky_partition(fp_topic *t, const fp_partitions *table, size_t payload_bytes,
                                   int64_t batch_size) {
    if (t->sticky_bytes >= batch_size || t->sticky < 0 || !fp_is_available(table, t->sticky)) {
        t->sticky = fp_next_partition(t, table);
        t->sticky_bytes = 0;
    }
    t->sticky_bytes += (int64_t)payload_bytes;
    return t->sticky;
}

int32_t fp_choose_partition(fp_topic *t, const fp_partitions *table, fp_partitioner how,
                            const char *key, ssize_t key_len, size_t payload_bytes,
                            int64_t batch_size) {
    switch (how) {
    case FP_PARTITIONER_ROUND_ROBIN:
        return fp_next_partition(t, table);
    case FP_PARTITIONER_LIBRDKAFKA:
    case FP_PARTITIONER_CALLER:
        return RDK_PARTITION_UA;
    case FP_PARTITIONER_XXHASH:
        if (key_len >= 0)
            return (int32_t)(fp_xxh3_64(key, (size_t)key_len) % (uint64_t)table->count);
        break;
    case FP_PARTITIONER_MURMUR2:
        if (key_len >= 0)
            return fp_murmur2_partition(key, (size_t)key_len, table->count);
        break;
    }
    return fp_sticky_partition(t, table, payload_bytes, batch_size);
}



int64_t fp_topic_timestamp_refused(fp_topic *t, int64_t timestamp_ms, int64_t now_ms) {
    int64_t before = __atomic_load_n(&t->timestamp_before_max_ms, __ATOMIC_ACQUIRE);
    int64_t after = __atomic_load_n(&t->timestamp_after_max_ms, __ATOMIC_ACQUIRE);
    if (before >= 0 && now_ms - timestamp_ms > before)
        return before == 0 ? INT64_MIN : -before;
    if (after >= 0 && timestamp_ms - now_ms > after)
        return after == 0 ? INT64_MAX : after;
    return 0;
}

static int fp_table_equal(const fp_partitions *a, const fp_partitions *b) {
    return a->count == b->count && a->available_count == b->available_count &&
           memcmp(a->available, b->available, sizeof(int32_t) * (size_t)a->available_count) == 0;
}

static int fp_compare_ids(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int fp_topic_publish(fp_topic *t, int32_t count, const int32_t *ids, const int32_t *leaders) {
    fp_partitions *table = malloc(sizeof(fp_partitions) + sizeof(int32_t) * (size_t)count);
    if (table == NULL)
        return 0; /* keep the old table; the next refresh tries again */
    table->count = count;
    table->available_count = 0;
    for (int32_t i = 0; i < count; i++)
        if (leaders[i] >= 0 && ids[i] >= 0 && ids[i] < count)
            table->available[table->available_count++] = ids[i];
    qsort(table->available, (size_t)table->available_count, sizeof(int32_t), fp_compare_ids);
    fp_partitions *current = t->table; /* only this thread writes it */
    if (current != NULL && fp_table_equal(current, table)) {
        free(table);
        return 0;
    }
    table->previous = current;
    __atomic_store_n(&t->table, table, __ATOMIC_RELEASE);
    return 1;
}

void fp_topic_free(fp_topic *t) {
    fp_partitions *table = t->table;
    while (table != NULL) {
        fp_partitions *previous = table->previous;
        free(table);
        table = previous;
    }
    if (t->rkt)
        rdk.rd_kafka_topic_destroy(t->rkt);
    free(t);
}
