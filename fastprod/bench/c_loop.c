/* The native ceiling for `fastprod bench`: the same librdkafka, driven from C with no Python.
 *
 *   c_loop [--batch=SIZE] LIBRDKAFKA TOPIC RECORDS VALUE_BYTES KEYED(0|1) PAYLOADS|- NAME=VALUE...
 *
 * Loads the librdkafka file fastprod uses (dlopen, by path), configures the producer with exactly
 * the NAME=VALUE properties given (fastprod.bench.environment decides them: fastprod's defaults,
 * bootstrap.servers, compression.type; nothing is defaulted here), produces RECORDS values (keys
 * "key-<i>" when KEYED) with rd_kafka_producev(F_COPY), and counts delivery reports. Values cycle
 * through the lines of the PAYLOADS file when one is given (the compression scenarios: the Python
 * clients send the same values), else they are one VALUE_BYTES pattern. Prints one JSON line.
 *
 * With --batch=SIZE (bench.instructions, not `fastprod bench`) the records go to
 * rd_kafka_produce_batch in runs of SIZE with RD_KAFKA_PARTITION_UA: librdkafka partitions each
 * record as confluent-kafka's produce_batch has it do, and this is the cheapest of its APIs.
 *
 * Shipped in the wheel and compiled by `fastprod bench` on the machine it runs on, so it declares
 * the few parts of librdkafka's public, ABI-stable C API it calls itself instead of needing
 * librdkafka's headers.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_topic_s rd_kafka_topic_t;

/* rd_kafka_message_t's public layout (unchanged since librdkafka 0.9; the engine declares it the
 * same way in src_ext/engine/rdk.h, which the wheel does not ship): delivery reports only read
 * err; the batch mode fills arrays of them for rd_kafka_produce_batch. */
typedef struct {
    int err;
    rd_kafka_topic_t *rkt;
    int32_t partition;
    void *payload;
    size_t len;
    void *key;
    size_t key_len;
    int64_t offset;
    void *private_;
} rd_kafka_message_t;

#define RD_KAFKA_PRODUCER 0
#define RD_KAFKA_CONF_OK 0
#define RD_KAFKA_MSG_F_COPY 0x2
#define RD_KAFKA_RESP_ERR_NO_ERROR 0
#define RD_KAFKA_RESP_ERR__QUEUE_FULL (-184)
#define RD_KAFKA_PARTITION_UA (-1)
/* rd_kafka_vtype_t: the tags of rd_kafka_producev's variadic arguments */
#define RD_KAFKA_VTYPE_END 0
#define RD_KAFKA_VTYPE_RKT 2
#define RD_KAFKA_VTYPE_VALUE 4
#define RD_KAFKA_VTYPE_KEY 5
#define RD_KAFKA_VTYPE_MSGFLAGS 7

typedef void (*dr_msg_cb)(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/* X(return type, name, parameters): every function called, resolved into a pointer of its name. */
#define LIBRDKAFKA_FUNCTIONS(X)                                                                  \
    X(rd_kafka_conf_t *, rd_kafka_conf_new, (void))                                              \
    X(int, rd_kafka_conf_set,                                                                    \
      (rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr, size_t size))   \
    X(void, rd_kafka_conf_set_dr_msg_cb, (rd_kafka_conf_t *conf, dr_msg_cb cb))                  \
    X(rd_kafka_t *, rd_kafka_new, (int type, rd_kafka_conf_t *conf, char *errstr, size_t size))  \
    X(rd_kafka_topic_t *, rd_kafka_topic_new, (rd_kafka_t *rk, const char *topic, void *conf))   \
    X(int, rd_kafka_producev, (rd_kafka_t *rk, ...))                                             \
    X(int, rd_kafka_produce_batch,                                                               \
      (rd_kafka_topic_t *rkt, int32_t partition, int msgflags, rd_kafka_message_t *msgs, int n)) \
    X(int, rd_kafka_poll, (rd_kafka_t *rk, int timeout_ms))                                      \
    X(int, rd_kafka_flush, (rd_kafka_t *rk, int timeout_ms))                                     \
    X(const char *, rd_kafka_err2str, (int err))                                                 \
    X(void, rd_kafka_topic_destroy, (rd_kafka_topic_t *rkt))                                     \
    X(void, rd_kafka_destroy, (rd_kafka_t *rk))

#define DECLARE(ret, name, params) static ret(*name) params;
LIBRDKAFKA_FUNCTIONS(DECLARE)

static void load_librdkafka(const char *path) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "cannot load librdkafka from %s: %s\n", path, dlerror());
        exit(2);
    }
#define RESOLVE(ret, name, params)                                                               \
    if ((*(void **)&name = dlsym(lib, #name)) == NULL) {                                         \
        fprintf(stderr, "%s lacks %s\n", path, #name);                                           \
        exit(2);                                                                                 \
    }
    LIBRDKAFKA_FUNCTIONS(RESOLVE)
}

static long delivered, failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk; (void)opaque;
    if (m->err)
        failed++;
    else
        delivered++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Peak RSS of this program in kB: VmHWM, which exec resets (getrusage's ru_maxrss keeps the
 * high-water mark of the Python process that forked us). */
static long peak_rss_kb(void) {
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* The newline-separated values of path, each size bytes; exits on a malformed file. */
static char **read_payloads(const char *path, size_t size, long *count) {
    FILE *f = fopen(path, "rb");
    char **out = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    *count = 0;
    while (f && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            len--;
        if ((size_t)len != size) {
            fprintf(stderr, "%s: a payload of %zd bytes, not %zu\n", path, len, size);
            exit(2);
        }
        out = realloc(out, sizeof(char *) * (size_t)(*count + 1));
        out[(*count)++] = memcpy(malloc(size), line, size);
    }
    if (f)
        fclose(f);
    free(line);
    if (*count == 0) {
        fprintf(stderr, "%s: no payloads\n", path);
        exit(2);
    }
    return out;
}

/* One NAME=VALUE property into conf; exits on a malformed or rejected one. */
static void set(rd_kafka_conf_t *conf, const char *property) {
    char name[256], err[512];
    const char *eq = strchr(property, '=');
    if (eq == NULL || eq == property || (size_t)(eq - property) >= sizeof name) {
        fprintf(stderr, "not NAME=VALUE: %s\n", property);
        exit(2);
    }
    memcpy(name, property, (size_t)(eq - property));
    name[eq - property] = '\0';
    if (rd_kafka_conf_set(conf, name, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s: %s\n", name, err);
        exit(2);
    }
}

/* value(i) and, when keyed, "key-<i>" for records first..first+count-1 into msgs. */
static void fill_run(rd_kafka_message_t *msgs, char (*keys)[32], long first, int count, int keyed,
                     char **payloads, long payload_count, char *value, size_t size) {
    for (int j = 0; j < count; j++) {
        long i = first + j;
        memset(&msgs[j], 0, sizeof msgs[j]);
        msgs[j].payload = payloads ? payloads[i % payload_count] : value;
        msgs[j].len = size;
        if (keyed) {
            msgs[j].key = keys[j];
            msgs[j].key_len = (size_t)snprintf(keys[j], sizeof keys[j], "key-%ld", i);
        }
    }
}

/* The records in runs of `batch` through rd_kafka_produce_batch; the ones it refuses (a full
 * queue) are moved to the front and offered again after a poll. 0, or 1 on another error. */
static int produce_in_runs(rd_kafka_t *rk, rd_kafka_topic_t *rkt, long records, int batch,
                           int keyed, char **payloads, long payload_count, char *value,
                           size_t size) {
    rd_kafka_message_t *msgs = malloc(sizeof *msgs * (size_t)batch);
    char (*keys)[32] = malloc(sizeof *keys * (size_t)batch);
    for (long first = 0; first < records; first += batch) {
        int left = records - first < batch ? (int)(records - first) : batch;
        fill_run(msgs, keys, first, left, keyed, payloads, payload_count, value, size);
        while (left > 0) {
            rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, msgs, left);
            int refused = 0;
            for (int j = 0; j < left; j++) {
                if (msgs[j].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                    continue;
                if (msgs[j].err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    fprintf(stderr, "produce_batch: %s\n", rd_kafka_err2str(msgs[j].err));
                    return 1;
                }
                msgs[refused] = msgs[j];  /* keys[] stay put: the key pointer moves with it */
                msgs[refused++].err = RD_KAFKA_RESP_ERR_NO_ERROR;
            }
            left = refused;
            rd_kafka_poll(rk, left ? 1 : 0);
        }
    }
    free(msgs);
    free(keys);
    return 0;
}

int main(int argc, char **argv) {
    char err[512];
    int batch = 0;
    if (argc > 1 && strncmp(argv[1], "--batch=", 8) == 0) {
        batch = atoi(argv[1] + 8);
        argv++;
        argc--;
        if (batch < 1) {
            fprintf(stderr, "--batch= needs a size of at least 1\n");
            return 2;
        }
    }
    if (argc < 8) {
        fprintf(stderr, "usage: %s [--batch=SIZE] LIBRDKAFKA TOPIC RECORDS VALUE_BYTES KEYED "
                "PAYLOADS|- NAME=VALUE...\n", argv[0]);
        return 2;
    }
    load_librdkafka(argv[1]);
    const char *topic = argv[2];
    long records = atol(argv[3]);
    size_t size = (size_t)atol(argv[4]);
    int keyed = atoi(argv[5]);
    const char *payload_file = strcmp(argv[6], "-") == 0 ? NULL : argv[6];

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (int i = 7; i < argc; i++)
        set(conf, argv[i]);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    char *value = malloc(size);
    for (size_t i = 0; i < size; i++)
        value[i] = (char)('a' + i % 26);
    long payload_count = 0;
    char **payloads = payload_file ? read_payloads(payload_file, size, &payload_count) : NULL;

    /* warm-up: metadata and the idempotent producer id, outside the timing */
    rd_kafka_producev(rk, RD_KAFKA_VTYPE_RKT, rkt, RD_KAFKA_VTYPE_MSGFLAGS, RD_KAFKA_MSG_F_COPY,
                      RD_KAFKA_VTYPE_VALUE, "warm-up", (size_t)7, RD_KAFKA_VTYPE_END);
    rd_kafka_flush(rk, 60000);
    delivered = failed = 0;

    double c0 = cpu_s(), t0 = now_s();
    char key[32];
    if (batch && produce_in_runs(rk, rkt, records, batch, keyed, payloads, payload_count, value,
                                 size))
        return 1;
    for (long i = 0; i < records && !batch; i++) {
        int klen = keyed ? snprintf(key, sizeof key, "key-%ld", i) : 0;
        for (;;) {
            int e = rd_kafka_producev(rk, RD_KAFKA_VTYPE_RKT, rkt,
                                      RD_KAFKA_VTYPE_MSGFLAGS, RD_KAFKA_MSG_F_COPY,
                                      RD_KAFKA_VTYPE_KEY, keyed ? key : NULL, (size_t)klen,
                                      RD_KAFKA_VTYPE_VALUE,
                                      payloads ? payloads[i % payload_count] : value, size,
                                      RD_KAFKA_VTYPE_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
                return 1;
            }
            rd_kafka_poll(rk, 1);
        }
        rd_kafka_poll(rk, 0);
    }
    double enqueued = now_s();
    while (delivered + failed < records)
        rd_kafka_poll(rk, 10);
    double t1 = now_s(), c1 = cpu_s();
    printf("{\"delivered\": %ld, \"failed\": %ld, \"seconds\": %.6f, \"enqueue_seconds\": %.6f, "
           "\"cpu_seconds\": %.6f, \"max_rss_kb\": %ld}\n",
           delivered, failed, t1 - t0, enqueued - t0, c1 - c0, peak_rss_kb());
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(value);
    return failed ? 1 : 0;
}
