/* Implementation of record_size.h. */
#include <string.h>

#include "record_size.h"

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
