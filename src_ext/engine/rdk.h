/* Our own declarations of the part of librdkafka's C API that fastprod calls.
 *
 * librdkafka is not linked: at import, rdk_load() dlopens the confluent_kafka extension (or an
 * explicit library path) and resolves every function below with dlsym into rdk, a table of
 * function pointers. dlsym on that handle searches its dependency tree, so the bundled
 * librdkafka-<hash>.so.1 is found whatever its hashed name. Everything here is librdkafka's public,
 * ABI-stable surface (opaque handles, rd_kafka_message_t, enum values); enums are passed as int.
 */
#ifndef FASTPROD_RDK_H
#define FASTPROD_RDK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_topic_s rd_kafka_topic_t;
typedef struct rd_kafka_topic_conf_s rd_kafka_topic_conf_t;
typedef struct rd_kafka_queue_s rd_kafka_queue_t;
typedef struct rd_kafka_headers_s rd_kafka_headers_t;
typedef struct rd_kafka_op_s rd_kafka_event_t;
typedef struct rd_kafka_AdminOptions_s rd_kafka_AdminOptions_t;
typedef struct rd_kafka_ConfigResource_s rd_kafka_ConfigResource_t;
typedef struct rd_kafka_ConfigEntry_s rd_kafka_ConfigEntry_t;
typedef rd_kafka_event_t rd_kafka_DescribeConfigs_result_t;

/* Public layout, unchanged since librdkafka 0.9. */
typedef struct rd_kafka_message_s {
    int err;
    rd_kafka_topic_t *rkt;
    int32_t partition;
    void *payload;
    size_t len;
    void *key;
    size_t key_len;
    int64_t offset;
    void *_private; /* the per-message opaque in delivery reports */
} rd_kafka_message_t;

/* Public metadata layouts, unchanged since librdkafka 0.8. */
typedef struct rd_kafka_metadata_partition {
    int32_t id;
    int err;
    int32_t leader; /* -1: no leader now */
    int replica_cnt;
    int32_t *replicas;
    int isr_cnt;
    int32_t *isrs;
} rd_kafka_metadata_partition_t;

typedef struct rd_kafka_metadata_topic {
    char *topic;
    int partition_cnt;
    struct rd_kafka_metadata_partition *partitions;
    int err;
} rd_kafka_metadata_topic_t;

typedef struct rd_kafka_metadata {
    int broker_cnt;
    void *brokers;
    int topic_cnt;
    struct rd_kafka_metadata_topic *topics;
    int32_t orig_broker_id;
    char *orig_broker_name;
} rd_kafka_metadata_t;

struct rd_kafka_err_desc {
    int code;
    const char *name;
    const char *desc;
};

typedef void (*rdk_dr_msg_cb)(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque);
typedef void (*rdk_error_cb)(rd_kafka_t *rk, int err, const char *reason, void *opaque);
typedef void (*rdk_log_cb)(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
typedef void (*rdk_throttle_cb)(rd_kafka_t *rk, const char *broker_name, int32_t broker_id,
                                int throttle_time_ms, void *opaque);
typedef int (*rdk_stats_cb)(rd_kafka_t *rk, char *json, size_t json_len, void *opaque);

#define RDK_PRODUCER 0
#define RDK_CONF_UNKNOWN (-2)
#define RDK_CONF_INVALID (-1)
#define RDK_CONF_OK 0
#define RDK_PARTITION_UA ((int32_t)-1)
#define RDK_MSG_F_COPY 0x2
#define RDK_PURGE_F_QUEUE 0x1
#define RDK_PURGE_F_INFLIGHT 0x2
#define RDK_PURGE_F_NON_BLOCKING 0x4
#define RDK_TIMESTAMP_NOT_AVAILABLE 0
#define RDK_TIMESTAMP_CREATE_TIME 1
#define RDK_TIMESTAMP_LOG_APPEND_TIME 2
/* rd_kafka_msg_status_t: whether a record may be in the log (delivery reports). */
#define RDK_MSG_STATUS_NOT_PERSISTED 0
#define RDK_MSG_STATUS_POSSIBLY_PERSISTED 1
#define RDK_MSG_STATUS_PERSISTED 2
#define RDK_RESOURCE_TOPIC 2            /* rd_kafka_ResourceType_t */
#define RDK_ADMIN_OP_DESCRIBECONFIGS 5  /* rd_kafka_admin_op_t */

/* rd_kafka_vtype_t, the tags of rd_kafka_producev's variadic arguments. */
#define RDK_VTYPE_END 0
#define RDK_VTYPE_RKT 2
#define RDK_VTYPE_PARTITION 3
#define RDK_VTYPE_VALUE 4
#define RDK_VTYPE_KEY 5
#define RDK_VTYPE_OPAQUE 6
#define RDK_VTYPE_MSGFLAGS 7
#define RDK_VTYPE_TIMESTAMP 8
#define RDK_VTYPE_HEADERS 10

/* rd_kafka_resp_err_t values fastprod acts on. */
#define RDK_ERR_NO_ERROR 0
#define RDK_ERR__MSG_TIMED_OUT (-192)
#define RDK_ERR__QUEUE_FULL (-184)
#define RDK_ERR__PURGE_QUEUE (-152)
#define RDK_ERR__UNKNOWN_TOPIC (-188)
#define RDK_ERR__SSL (-181)
#define RDK_ERR__AUTHENTICATION (-169)
#define RDK_ERR__PURGE_INFLIGHT (-151)
#define RDK_ERR_MSG_SIZE_TOO_LARGE 10

/* Minimum librdkafka: 2.3.0 (rd_kafka_version() encodes 0xMMmmrrxx). */
#define RDK_MIN_VERSION 0x020300ff
#define RDK_MIN_VERSION_STR "2.3.0"

/* X(return type, name, parameter list) for every function we resolve. */
#define RDK_FUNCTIONS(X)                                                                         \
    X(int, rd_kafka_version, (void))                                                             \
    X(const char *, rd_kafka_version_str, (void))                                                \
    X(const char *, rd_kafka_err2str, (int err))                                                 \
    X(const char *, rd_kafka_err2name, (int err))                                                \
    X(void, rd_kafka_get_err_descs, (const struct rd_kafka_err_desc **descs, size_t *cnt))       \
    X(rd_kafka_conf_t *, rd_kafka_conf_new, (void))                                              \
    X(void, rd_kafka_conf_destroy, (rd_kafka_conf_t *conf))                                      \
    X(int, rd_kafka_conf_set,                                                                    \
      (rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr, size_t size))   \
    X(void, rd_kafka_conf_set_dr_msg_cb, (rd_kafka_conf_t *conf, rdk_dr_msg_cb cb))              \
    X(void, rd_kafka_conf_set_error_cb, (rd_kafka_conf_t *conf, rdk_error_cb cb))                \
    X(void, rd_kafka_conf_set_opaque, (rd_kafka_conf_t *conf, void *opaque))                     \
    X(void, rd_kafka_conf_set_log_cb, (rd_kafka_conf_t *conf, rdk_log_cb cb))                    \
    X(void, rd_kafka_conf_set_throttle_cb, (rd_kafka_conf_t *conf, rdk_throttle_cb cb))          \
    X(void, rd_kafka_conf_set_stats_cb, (rd_kafka_conf_t *conf, rdk_stats_cb cb))                \
    X(int, rd_kafka_set_log_queue, (rd_kafka_t *rk, rd_kafka_queue_t *rkqu))                     \
    X(void *, rd_kafka_opaque, (const rd_kafka_t *rk))                                           \
    X(rd_kafka_t *, rd_kafka_new, (int type, rd_kafka_conf_t *conf, char *errstr, size_t size))  \
    X(void, rd_kafka_destroy, (rd_kafka_t *rk))                                                  \
    X(int, rd_kafka_producev, (rd_kafka_t *rk, ...))                                             \
    X(int, rd_kafka_produce_batch, (rd_kafka_topic_t *rkt, int32_t partition, int msgflags,      \
                                    rd_kafka_message_t *rkmessages, int message_cnt))            \
    X(int, rd_kafka_poll, (rd_kafka_t *rk, int timeout_ms))                                      \
    X(int, rd_kafka_flush, (rd_kafka_t *rk, int timeout_ms))                                     \
    X(int, rd_kafka_purge, (rd_kafka_t *rk, int flags))                                          \
    X(int, rd_kafka_outq_len, (rd_kafka_t *rk))                                                  \
    X(int, rd_kafka_fatal_error, (rd_kafka_t *rk, char *errstr, size_t size))                    \
    X(rd_kafka_topic_t *, rd_kafka_topic_new,                                                    \
      (rd_kafka_t *rk, const char *topic, rd_kafka_topic_conf_t *conf))                          \
    X(void, rd_kafka_topic_destroy, (rd_kafka_topic_t *rkt))                                     \
    X(const char *, rd_kafka_topic_name, (const rd_kafka_topic_t *rkt))                          \
    X(int, rd_kafka_metadata,                                                                    \
      (rd_kafka_t *rk, int all_topics, rd_kafka_topic_t *only_rkt,                               \
       const rd_kafka_metadata_t **metadatap, int timeout_ms))                                   \
    X(void, rd_kafka_metadata_destroy, (const rd_kafka_metadata_t *metadata))                    \
    X(int64_t, rd_kafka_message_timestamp, (const rd_kafka_message_t *msg, int *tstype))         \
    X(int, rd_kafka_message_headers, (const rd_kafka_message_t *msg, rd_kafka_headers_t **hdrs)) \
    X(int, rd_kafka_message_status, (const rd_kafka_message_t *msg))                             \
    X(rd_kafka_headers_t *, rd_kafka_headers_new, (size_t initial_count))                        \
    X(void, rd_kafka_headers_destroy, (rd_kafka_headers_t *hdrs))                                \
    X(int, rd_kafka_header_add,                                                                  \
      (rd_kafka_headers_t *hdrs, const char *name, ssize_t name_size, const void *value,         \
       ssize_t value_size))                                                                      \
    X(int, rd_kafka_header_get_all,                                                              \
      (const rd_kafka_headers_t *hdrs, size_t idx, const char **name, const void **value,       \
       size_t *size))                                                                            \
    X(rd_kafka_queue_t *, rd_kafka_queue_get_main, (rd_kafka_t *rk))                             \
    X(void, rd_kafka_queue_yield, (rd_kafka_queue_t *rkqu))                                      \
    X(void, rd_kafka_queue_destroy, (rd_kafka_queue_t *rkqu))                                \
    X(rd_kafka_queue_t *, rd_kafka_queue_new, (rd_kafka_t *rk))                                  \
    X(rd_kafka_event_t *, rd_kafka_queue_poll, (rd_kafka_queue_t *rkqu, int timeout_ms))         \
    X(int, rd_kafka_event_error, (rd_kafka_event_t *rkev))                                       \
    X(void, rd_kafka_event_destroy, (rd_kafka_event_t *rkev))                                    \
    X(rd_kafka_AdminOptions_t *, rd_kafka_AdminOptions_new, (rd_kafka_t *rk, int for_api))       \
    X(int, rd_kafka_AdminOptions_set_request_timeout,                                            \
      (rd_kafka_AdminOptions_t *options, int timeout_ms, char *errstr, size_t errstr_size))      \
    X(void, rd_kafka_AdminOptions_destroy, (rd_kafka_AdminOptions_t *options))                   \
    X(rd_kafka_ConfigResource_t *, rd_kafka_ConfigResource_new, (int restype, const char *name)) \
    X(void, rd_kafka_ConfigResource_destroy, (rd_kafka_ConfigResource_t *config))                \
    X(void, rd_kafka_DescribeConfigs,                                                            \
      (rd_kafka_t *rk, rd_kafka_ConfigResource_t **configs, size_t config_cnt,                   \
       const rd_kafka_AdminOptions_t *options, rd_kafka_queue_t *rkqu))                          \
    X(const rd_kafka_DescribeConfigs_result_t *, rd_kafka_event_DescribeConfigs_result,          \
      (rd_kafka_event_t *rkev))                                                                  \
    X(const rd_kafka_ConfigResource_t **, rd_kafka_DescribeConfigs_result_resources,             \
      (const rd_kafka_DescribeConfigs_result_t *result, size_t *cntp))                           \
    X(int, rd_kafka_ConfigResource_error, (const rd_kafka_ConfigResource_t *config))             \
    X(const rd_kafka_ConfigEntry_t **, rd_kafka_ConfigResource_configs,                          \
      (const rd_kafka_ConfigResource_t *config, size_t *cntp))                                   \
    X(const char *, rd_kafka_ConfigEntry_name, (const rd_kafka_ConfigEntry_t *entry))            \
    X(const char *, rd_kafka_ConfigEntry_value, (const rd_kafka_ConfigEntry_t *entry))

#define RDK_DECLARE_POINTER(ret, name, params) ret(*name) params;
typedef struct rdk_api {
    RDK_FUNCTIONS(RDK_DECLARE_POINTER)
} rdk_api;
#undef RDK_DECLARE_POINTER

/* The resolved table; all NULL until rdk_load() succeeds. */
extern rdk_api rdk;

/* Resolve every function from the shared object at path. Returns 0, or -1 with errbuf set. */
int rdk_load(const char *path, char *errbuf, size_t errbuf_size);
/* dlopen(path) with RTLD_LOCAL, or NULL with errbuf set ("cannot load <what> from <path>: ..."). */
void *rdk_open_library(const char *path, const char *what, char *errbuf,
                       size_t errbuf_size);

#endif
