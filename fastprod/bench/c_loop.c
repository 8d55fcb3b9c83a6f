/* The native ceiling for `fastprod bench`: the same librdkafka, driven from C with no Python.
 *
 *   c_loop LIBRDKAFKA TOPIC RECORDS VALUE_BYTES KEYED(0|1) PAYLOADS|- NAME=VALUE...
 *
 * Loads the librdkafka file fastprod uses (dlopen, by path), configures the producer with exactly
 * the NAME=VALUE properties given (fastprod.bench.environment decides them: fastprod's defaults,
 * bootstrap.servers, compression.type; nothing is defaulted here), produces RECORDS values (keys
 * "key-<i>" when KEYED) with rd_kafka_producev(F_COPY), and counts delivery reports. Values cycle
 * through the lines of the PAYLOADS file when one is given (the compression scenarios: the Python
 * clients send the same values), else they are one VALUE_BYTES pattern. Prints one JSON line.
 *
 * Shipped in the wheel and compiled by `fastprod bench` on the machine it runs on, so it declares
 * the few parts of librdkafka's public, ABI-stable C API it calls itself instead of needing
 * librdkafka's headers.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_topic_s rd_kafka_topic_t;

/* Only the first member of rd_kafka_message_t (public layout, unchanged since librdkafka 0.9):
 * delivery reports are read through a pointer, and their error code is all this loop needs. */
typedef struct {
    int err;
} rd_kafka_message_t;

#define RD_KAFKA_PRODUCER 0
#define RD_KAFKA_CONF_OK 0
#define RD_KAFKA_MSG_F_COPY 0x2
#define RD_KAFKA_RESP_ERR_NO_ERROR 0
#define RD_KAFKA_RESP_ERR__QUEUE_FULL (-184)
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

int main(int argc, char **argv) {
    char err[512];
    if (argc < 8) {
        fprintf(stderr, "usage: %s LIBRDKAFKA TOPIC RECORDS VALUE_BYTES KEYED PAYLOADS|- "
                "NAME=VALUE...\n", argv[0]);
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
    for (long i = 0; i < records; i++) {
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
