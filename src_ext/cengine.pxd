# Cython view of the C engine (src_ext/engine/): declarations only, one block per header; the
# headers say what each function does and on which thread.
from libc.stdint cimport int16_t, int32_t, int64_t, uint32_t, uint64_t


cdef extern from "rdk.h" nogil:
    ctypedef struct rd_kafka_t:
        pass
    ctypedef struct rd_kafka_conf_t:
        pass
    ctypedef struct rd_kafka_topic_t:
        pass
    ctypedef struct rd_kafka_topic_conf_t:
        pass
    ctypedef struct rd_kafka_headers_t:
        pass

    cdef struct rd_kafka_err_desc:
        int code
        const char *name
        const char *desc

    ctypedef struct rdk_api:
        int (*rd_kafka_version)()
        const char *(*rd_kafka_version_str)()
        const char *(*rd_kafka_err2str)(int err)
        const char *(*rd_kafka_err2name)(int err)
        void (*rd_kafka_get_err_descs)(const rd_kafka_err_desc **descs, size_t *cnt)
        rd_kafka_conf_t *(*rd_kafka_conf_new)()
        void (*rd_kafka_conf_destroy)(rd_kafka_conf_t *conf)
        int (*rd_kafka_conf_set)(rd_kafka_conf_t *conf, const char *name, const char *value,
                                 char *errstr, size_t size)
        int (*rd_kafka_fatal_error)(rd_kafka_t *rk, char *errstr, size_t size)
        rd_kafka_topic_t *(*rd_kafka_topic_new)(rd_kafka_t *rk, const char *topic,
                                                rd_kafka_topic_conf_t *conf)
        void (*rd_kafka_topic_destroy)(rd_kafka_topic_t *rkt)
        const char *(*rd_kafka_topic_name)(const rd_kafka_topic_t *rkt)
        rd_kafka_headers_t *(*rd_kafka_headers_new)(size_t initial_count)
        void (*rd_kafka_headers_destroy)(rd_kafka_headers_t *hdrs)
        int (*rd_kafka_header_add)(rd_kafka_headers_t *hdrs, const char *name, Py_ssize_t name_size,
                                   const void *value, Py_ssize_t value_size)

    rdk_api rdk
    int rdk_load(const char *path, char *errbuf, size_t errbuf_size)

    enum:
        RDK_CONF_UNKNOWN
        RDK_CONF_OK
        RDK_PARTITION_UA
        RDK_TIMESTAMP_NOT_AVAILABLE
        RDK_TIMESTAMP_CREATE_TIME
        RDK_TIMESTAMP_LOG_APPEND_TIME
        RDK_MSG_STATUS_NOT_PERSISTED
        RDK_MSG_STATUS_POSSIBLY_PERSISTED
        RDK_MSG_STATUS_PERSISTED
        RDK_PURGE_F_QUEUE
        RDK_PURGE_F_INFLIGHT
        RDK_PURGE_F_NON_BLOCKING


cdef extern from "partition.h" nogil:
    ctypedef enum fp_partitioner:
        FP_PARTITIONER_MURMUR2
        FP_PARTITIONER_XXHASH
        FP_PARTITIONER_LIBRDKAFKA
        FP_PARTITIONER_CALLER

    ctypedef struct fp_partitioner_name:
        const char *name
        fp_partitioner how
    const fp_partitioner_name fp_partitioner_names[]

    ctypedef struct fp_partitions:
        int32_t count
        int32_t available_count
        int32_t *available

    ctypedef struct fp_topic:
        rd_kafka_topic_t *rkt
        int32_t last_error
        int32_t limit_seen

    ctypedef uint64_t (*fp_xxh3_fn)(const void *data, size_t len)
    fp_xxh3_fn fp_xxh3_64
    int fp_xxh3_load(const char *path, char *errbuf, size_t errbuf_size)
    int32_t fp_murmur2(const void *data, size_t len)
    int32_t fp_choose_partition(fp_topic *t, const fp_partitions *table, fp_partitioner how,
                                const char *key, Py_ssize_t key_len, size_t payload_bytes,
                                int64_t batch_size)
    const fp_partitions *fp_topic_table(fp_topic *t)
    int32_t fp_topic_limit(fp_topic *t)
    int32_t fp_topic_compacted(fp_topic *t)
    int64_t fp_topic_timestamp_refused(fp_topic *t, int64_t timestamp_ms, int64_t now_ms)


cdef extern from "record_size.h" nogil:
    enum:
        FP_RECORD_OVERHEAD
        FP_RECORD_MAX_UNHEADED_OVERHEAD
    size_t fp_record_charge(size_t key_len, size_t value_len, size_t header_bytes)
    size_t fp_headers_bytes(rd_kafka_headers_t *hdrs)
    int64_t fp_record_batch_bytes(Py_ssize_t key_len, Py_ssize_t value_len,
                                  rd_kafka_headers_t *hdrs)


cdef extern from "engine.h" nogil:
    ctypedef struct fp_completion:
        void *opaque
        int64_t offset
        int64_t timestamp_ms
        int32_t partition
        int32_t err
        int16_t timestamp_type
        int16_t status

    ctypedef struct fp_lost_record:
        rd_kafka_topic_t *rkt
        uint32_t key_len
        uint32_t value_len
        uint32_t flags
        char bytes[1]
    const size_t FP_OPAQUE_LOST
    enum:
        FP_SLOT_HAS_KEY
        FP_SLOT_HAS_VALUE

    ctypedef struct fp_completions:
        fp_completion *items
        size_t len
        size_t cap

    ctypedef struct fp_event:
        int kind
        int code
        int32_t broker_id
        char facility[20]
        char text[484]

    ctypedef struct fp_events:
        fp_event *items
        size_t len
        size_t cap
        uint64_t dropped

    enum:
        FP_EVENT_LOG
        FP_EVENT_ERROR
        FP_EVENT_THROTTLE

    ctypedef struct fp_engine:
        rd_kafka_t *rk
    ctypedef struct fp_counters:
        uint64_t queue_full_retries
        uint64_t batched_records
        uint64_t untracked_delivered
    const int64_t FP_TIMESTAMP_AT_SEND


    fp_engine *fp_engine_new(rd_kafka_conf_t *conf, size_t buffer_memory,
                             int64_t metadata_refresh_ms, int nap_ms, char *errstr,
                             size_t errstr_size)
    void fp_engine_free(fp_engine *e)
    bint fp_engine_try_reserve(fp_engine *e, size_t charge)
    bint fp_engine_wait_reserve(fp_engine *e, size_t charge, int wait_ms)
    void fp_engine_unreserve(fp_engine *e, size_t charge)
    int fp_engine_write(fp_engine *e, rd_kafka_topic_t *rkt, int32_t partition,
                        int64_t timestamp_ms, const char *key, Py_ssize_t key_len,
                        const char *value, Py_ssize_t value_len, rd_kafka_headers_t *headers,
                        void *opaque)
    void fp_engine_wait_ring(fp_engine *e, int wait_ms)
    size_t fp_engine_take(fp_engine *e, fp_completions *out, int wait_ms, int *finished)
    void fp_engine_resolved(fp_engine *e, size_t n)
    size_t fp_engine_take_events(fp_engine *e, fp_events *out, char **stats_json)
    uint64_t fp_engine_wait_idle(fp_engine *e, int wait_ms)
    uint64_t fp_engine_generation(fp_engine *e)
    void fp_engine_wait_generation(fp_engine *e, uint64_t seen, int wait_ms)
    size_t fp_engine_held_bytes(fp_engine *e)
    uint64_t fp_engine_purge(fp_engine *e, int flags)
    bint fp_engine_wait_purged(fp_engine *e, uint64_t ticket, int wait_ms)
    uint64_t fp_engine_outstanding(fp_engine *e)
    void fp_engine_counters(fp_engine *e, fp_counters *out)
    int fp_engine_credentials_error(fp_engine *e, const char **reason)
    void fp_engine_stop(fp_engine *e, int64_t deadline_ms)
    void fp_engine_join(fp_engine *e)


cdef extern from "metadata.h" nogil:
    fp_topic *fp_engine_topic(fp_engine *e, const char *name)
    const fp_partitions *fp_engine_wait_table(fp_engine *e, fp_topic *t, bint ask_refresh,
                                              int wait_ms)


cdef extern from "sync.h" nogil:
    int64_t fp_now_ms()
    int64_t fp_wallclock_ms()
