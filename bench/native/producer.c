/* The native ceiling for `fastprod bench`: the same librdkafka, driven from C with no Python.
 *
 *   producer LIBRDKAFKA BOOTSTRAP TOPIC RECORDS VALUE_BYTES KEYED(0|1) [COMPRESSION PAYLOADS]
 *
 * Resolves librdkafka exactly as fastprod does (src_ext/rdk.c), sets the producer configuration
 * fastprod uses by default (plus compression.type when given), produces RECORDS values (keys
 * "key-<i>" when KEYED) with rd_kafka_producev(F_COPY), and counts delivery reports. Values cycle
 * through the lines of the PAYLOADS file when given (the compression scenarios: the Python
 * clients send the same values), else they are one VALUE_BYTES pattern. Prints one JSON line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "rdk.h"
#include "../../src_ext/rdk.c"

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

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
    char err[512];
    if (rdk.rd_kafka_conf_set(conf, k, v, err, sizeof err) != RDK_CONF_OK) {
        fprintf(stderr, "%s: %s\n", k, err);
        exit(2);
    }
}

int main(int argc, char **argv) {
    char err[512];
    if (argc != 7 && argc != 9) {
        fprintf(stderr, "usage: %s LIBRDKAFKA BOOTSTRAP TOPIC RECORDS VALUE_BYTES KEYED "
                "[COMPRESSION PAYLOADS]\n", argv[0]);
        return 2;
    }
    if (rdk_load(argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    const char *topic = argv[3];
    long records = atol(argv[4]);
    size_t size = (size_t)atol(argv[5]);
    int keyed = atoi(argv[6]);

    rd_kafka_conf_t *conf = rdk.rd_kafka_conf_new();
    set(conf, "bootstrap.servers", argv[2]);
    set(conf, "enable.idempotence", "true");
    set(conf, "acks", "all");
    set(conf, "linger.ms", "5");
    set(conf, "partitioner", "murmur2_random");
    set(conf, "queue.buffering.max.messages", "2147483647");
    set(conf, "queue.buffering.max.kbytes", "32768"); /* the same 32 MiB bound as buffer.memory */
    if (argc == 9)
        set(conf, "compression.type", argv[7]);
    rdk.rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rdk.rd_kafka_new(RDK_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    rd_kafka_topic_t *rkt = rdk.rd_kafka_topic_new(rk, topic, NULL);
    char *value = malloc(size);
    for (size_t i = 0; i < size; i++)
        value[i] = (char)('a' + i % 26);
    long payload_count = 0;
    char **payloads = argc == 9 ? read_payloads(argv[8], size, &payload_count) : NULL;

    /* warm-up: metadata and the idempotent producer id, outside the timing */
    rdk.rd_kafka_producev(rk, RDK_VTYPE_RKT, rkt, RDK_VTYPE_MSGFLAGS, RDK_MSG_F_COPY,
                          RDK_VTYPE_VALUE, "warm-up", (size_t)7, RDK_VTYPE_END);
    rdk.rd_kafka_flush(rk, 60000);
    delivered = failed = 0;

    double c0 = cpu_s(), t0 = now_s();
    char key[32];
    for (long i = 0; i < records; i++) {
        int klen = keyed ? snprintf(key, sizeof key, "key-%ld", i) : 0;
        for (;;) {
            int e = rdk.rd_kafka_producev(rk, RDK_VTYPE_RKT, rkt, RDK_VTYPE_MSGFLAGS, RDK_MSG_F_COPY,
                                          RDK_VTYPE_KEY, keyed ? key : NULL, (size_t)klen,
                                          RDK_VTYPE_VALUE,
                                          payloads ? payloads[i % payload_count] : value, size,
                                          RDK_VTYPE_END);
            if (e == RDK_ERR_NO_ERROR)
                break;
            if (e != RDK_ERR__QUEUE_FULL) {
                fprintf(stderr, "produce: %s\n", rdk.rd_kafka_err2str(e));
                return 1;
            }
            rdk.rd_kafka_poll(rk, 1);
        }
        rdk.rd_kafka_poll(rk, 0);
    }
    double enqueued = now_s();
    while (delivered + failed < records)
        rdk.rd_kafka_poll(rk, 10);
    double t1 = now_s(), c1 = cpu_s();
    printf("{\"delivered\": %ld, \"failed\": %ld, \"seconds\": %.6f, \"enqueue_seconds\": %.6f, "
           "\"cpu_seconds\": %.6f, \"max_rss_kb\": %ld}\n",
           delivered, failed, t1 - t0, enqueued - t0, c1 - c0, peak_rss_kb());
    rdk.rd_kafka_topic_destroy(rkt);
    rdk.rd_kafka_destroy(rk);
    free(value);
    return failed ? 1 : 0;
}
