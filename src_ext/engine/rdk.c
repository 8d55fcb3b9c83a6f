/* Resolves librdkafka at import: see rdk.h for why it is not linked. */
#include <dlfcn.h>
#include <stdio.h>

#include "rdk.h"

rdk_api rdk;

void *rdk_open_library(const char *path, const char *what, char *errbuf,
                       size_t errbuf_size) {
    /* RTLD_LOCAL: the library's symbols stay out of the global namespace, so a system
     * librdkafka loaded by another extension cannot be confused with this one. The handle is
     * never closed: callers keep pointers into the library for the life of the process. */
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL)
        snprintf(errbuf, errbuf_size, "cannot load %s from %s: %s", what, path, dlerror());
    return handle;
}

int rdk_load(const char *path, char *errbuf, size_t errbuf_size) {
    void *handle = rdk_open_library(path, "librdkafka", errbuf, errbuf_size);
    if (handle == NULL)
        return -1;
    rdk_api table;
#define RDK_RESOLVE(ret, name, params)                                                         \
    *(void **)&table.name = dlsym(handle, #name);                                              \
    if (table.name == NULL) {                                                                  \
        snprintf(errbuf, errbuf_size, "librdkafka in %s lacks the symbol %s (fastprod needs "  \
                 "librdkafka >= " RDK_MIN_VERSION_STR ")", path, #name);                       \
        return -1;                                                                             \
    }
    RDK_FUNCTIONS(RDK_RESOLVE)
#undef RDK_RESOLVE
    if (table.rd_kafka_version() < RDK_MIN_VERSION) {
        snprintf(errbuf, errbuf_size, "librdkafka %s in %s is too old: fastprod needs >= "
                 RDK_MIN_VERSION_STR " (upgrade confluent-kafka)", table.rd_kafka_version_str(), path);
        return -1;
    }
    rdk = table;
    return 0;
}
