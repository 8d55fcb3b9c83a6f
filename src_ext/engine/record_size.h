/* The size rules of a record: what it is charged against buffer.memory, and the size of the
 * record batch it makes alone (what a broker compares with the topic's max.message.bytes). */
#ifndef FASTPROD_RECORD_SIZE_H
#define FASTPROD_RECORD_SIZE_H

#include <stddef.h>
#include <stdint.h>

#include "rdk.h"

/* Charged per record on top of key, value and header bytes: what librdkafka keeps resident per
 * queued message besides them (measured with librdkafka 2.16: RSS grew by 230 bytes + key + value
 * per message over 200,000 queued messages), so that buffer.memory bounds real memory and
 * millions of empty records cannot escape it. */
#define FP_RECORD_OVERHEAD 232

/* What a record holds against buffer.memory. Inline: send() charges every record. */
static inline size_t fp_record_charge(size_t key_len, size_t value_len, size_t header_bytes) {
    return FP_RECORD_OVERHEAD + key_len + value_len + header_bytes;
}

/* Bytes of header names and values, as charged against buffer_memory. */
size_t fp_headers_bytes(rd_kafka_headers_t *hdrs);
/* The size of a record batch (v2, uncompressed) holding this record alone: what a broker
 * compares with the topic's max.message.bytes. Lengths -1 are null. */
#define FP_RECORD_BATCH_OVERHEAD 61
/* fp_record_batch_bytes exceeds key + value bytes by at most this much for a record without
 * headers: batch header, then varints of at most 5 bytes for the record's length, key length and
 * value length, three 1-byte fields and a 1-byte header count. */
#define FP_RECORD_MAX_UNHEADED_OVERHEAD (FP_RECORD_BATCH_OVERHEAD + 3 * 5 + 3 + 1)
int64_t fp_record_batch_bytes(ssize_t key_len, ssize_t value_len, rd_kafka_headers_t *hdrs);

#endif
