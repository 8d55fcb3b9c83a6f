/* Partitioning in send(): Java's murmur2 for keys, keyless records sticky per batch, round robin,
 * xxh3, and the per-topic partition tables that the engine's metadata thread keeps current.
 *
 * Every function here runs in a send() caller (GIL held, so one at a time) except where noted;
 * only the partition table pointer is shared with the metadata thread.
 */
#ifndef FASTPROD_PARTITION_H
#define FASTPROD_PARTITION_H

#include <stdint.h>
#include <sys/types.h>

#include "rdk.h"

typedef enum fp_partitioner {
    FP_PARTITIONER_MURMUR2 = 0,   /* Java's default: murmur2 of the key; keyless sticky per batch */
    FP_PARTITIONER_XXHASH = 1,    /* xxh3-64 of the key modulo the count; keyless as murmur2 */
    FP_PARTITIONER_ROUND_ROBIN = 2, /* every record to the next available partition, keys ignored */
    FP_PARTITIONER_LIBRDKAFKA = 3,  /* RDK_PARTITION_UA: librdkafka's configured partitioner */
    FP_PARTITIONER_CALLER = 4       /* the caller decides (a Python callable); not handled here */
} fp_partitioner;

/* The partitioners fp_choose_partition runs, by the names users configure (aliases included),
 * ended by a NULL name; fastprod's configuration takes its choices from this table, so a new
 * partitioner is its enum value, its row there and its case in fp_choose_partition. */
typedef struct fp_partitioner_name {
    const char *name;
    fp_partitioner how;
} fp_partitioner_name;
extern const fp_partitioner_name fp_partitioner_names[];

/* One metadata answer for a topic. Never changed once published: the metadata thread publishes
 * a new table when the answer differs and keeps the old ones (via previous) until the topic is
 * freed, so a send() that loaded a table never reads freed memory. */
typedef struct fp_partitions {
    struct fp_partitions *previous;
    int32_t count;           /* partitions of the topic */
    int32_t available_count; /* of them, those with a leader */
    int32_t available[];     /* their ids, ascending */
} fp_partitions;

typedef struct fp_topic {
    struct fp_topic *next;  /* the engine's topic list (append-only while the engine lives) */
    rd_kafka_topic_t *rkt;
    fp_partitions *table;   /* atomic: NULL until the first metadata answer with partitions */
    int32_t last_error;     /* atomic: the broker's or librdkafka's last metadata error */
    /* atomic: the topic's max.message.bytes, the largest record batch its brokers accept; 0 while
     * unknown (not yet asked, or DescribeConfigs refused). Set before the first table is. */
    int32_t max_message_bytes;
    /* atomic: how far a record's timestamp may lie before / after the broker's clock
     * (message.timestamp.before.max.ms / after.max.ms); -1 while unknown, or when the topic
     * stamps records itself (LogAppendTime) and checks nothing. */
    int64_t timestamp_before_max_ms;
    int64_t timestamp_after_max_ms;
    /* atomic: 1 if cleanup.policy compacts the topic (the broker refuses a batch holding a record
     * without a key), 0 if not, -1 while unknown. Set before max_message_bytes is. */
    int32_t compacted;

    /* Owned by the metadata thread. */
    int64_t refreshed_ms;
    int64_t limit_asked_ms; /* when max_message_bytes was last asked for (0: never) */
    int64_t limit_retry_ms; /* after a failed ask: when to ask again (backoff); 0 otherwise */
    int refresh_wanted;     /* atomic: a send() asks for an answer sooner than scheduled */

    /* Owned by send() callers. */
    int32_t limit_seen;     /* max_message_bytes when send() last compared it with batch size */
    uint32_t cursor;        /* next index into the available partitions */
    int32_t sticky;         /* keyless records go here until sticky_bytes reaches batch size */
    int64_t sticky_bytes;
} fp_topic;

/* Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), bit-exact. */
int32_t fp_murmur2(const void *data, size_t len);
/* Java's mapping of a key to a partition: (murmur2(key) & 0x7fffffff) % count. */
int32_t fp_murmur2_partition(const void *key, size_t len, int32_t count);

/* xxh3-64 comes from the xxhash package's extension (dlopen/dlsym, like librdkafka): returns 0,
 * or -1 with errbuf set. fp_xxh3_64 is NULL until then. */
typedef uint64_t (*fp_xxh3_fn)(const void *data, size_t len);
extern fp_xxh3_fn fp_xxh3_64;
int fp_xxh3_load(const char *path, char *errbuf, size_t errbuf_size);

/* The partition for a record to topic t whose table is loaded. key_len -1 is a null key;
 * payload_bytes (key + value bytes) feed keyless stickiness, which moves on after batch_size
 * bytes. */
int32_t fp_choose_partition(fp_topic *t, const fp_partitions *table, fp_partitioner how,
                            const char *key, ssize_t key_len, size_t payload_bytes,
                            int64_t batch_size);

/* The topic's current table (acquire), or NULL before its first metadata answer. Inline, as the
 * next accessor: send() reads both for every record. */
static inline const fp_partitions *fp_topic_table(fp_topic *t) {
    return __atomic_load_n(&t->table, __ATOMIC_ACQUIRE);
}
/* The topic's max.message.bytes (acquire), 0 while unknown. */
static inline int32_t fp_topic_limit(fp_topic *t) {
    return __atomic_load_n(&t->max_message_bytes, __ATOMIC_ACQUIRE);
}
/* The topic's compaction (acquire): 1, 0, or -1 while unknown. */
static inline int32_t fp_topic_compacted(fp_topic *t) {
    return __atomic_load_n(&t->compacted, __ATOMIC_ACQUIRE);
}
/* Whether the topic's brokers would refuse a record timestamped timestamp_ms when the time is
 * now_ms: 0 if not (or not known), otherwise the bound it breaks, in ms, negative for
 * message.timestamp.before.max.ms (too old) and positive for after.max.ms (too far ahead). */
int64_t fp_topic_timestamp_refused(fp_topic *t, int64_t timestamp_ms, int64_t now_ms);
/* Metadata thread: publishes a new table built from partition ids and leaders if it differs from
 * the current one. Returns 1 if it published. */
int fp_topic_publish(fp_topic *t, int32_t count, const int32_t *ids, const int32_t *leaders);
void fp_topic_free(fp_topic *t);

#endif
