/* The engine's topic registry and metadata thread: every topic's partition table, max.message.bytes
 * and timestamp bounds, kept current for send()'s partitioning and checks (metadata.c). */
#ifndef FASTPROD_METADATA_H
#define FASTPROD_METADATA_H

#include "engine.h"

/* The metadata thread's body (metadata.c); fp_engine_new starts it. */
void *fp_metadata_main(void *arg);

/* Registers a topic (the engine owns it) and asks for its metadata; NULL if librdkafka refuses. */
fp_topic *fp_engine_topic(fp_engine *e, const char *name);
/* Returns t's table if it has one (and ask_refresh is 0); otherwise asks the metadata thread for
 * an answer (ask_refresh: the caller saw a partition beyond the table) and waits up to wait_ms
 * for one. Returns the table then, or NULL while there is none. */
const fp_partitions *fp_engine_wait_table(fp_engine *e, fp_topic *t, int ask_refresh, int wait_ms);

#endif
