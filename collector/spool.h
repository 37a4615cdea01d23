/*
 * spool.h - what outq.c and spool.c share and nobody else needs: the
 * counters every queue kind keeps, the table of operations a queue kind
 * provides, and the disk spool's constructor.
 */
#ifndef SONDE_SPOOL_H
#define SONDE_SPOOL_H

#include <stdatomic.h>

#include "outq.h"

/* Counters of one queue. Written by the queue kind with the queue's lock
 * held, read without it (outq_get_stats, outq_pending), so that a scrape
 * of the self-metrics never waits behind a spool's fsync. */
struct outq_counters {
    _Atomic uint64_t queued_records;
    _Atomic uint64_t dropped_records;
    _Atomic uint64_t dropped_chunks;
    _Atomic uint64_t corrupt_records;
    _Atomic uint64_t bytes;
    _Atomic uint64_t pending; /* records held and not committed */
};

/* One queue kind. outq.c calls these with the queue's lock held, so they
 * never run concurrently on one queue; `impl` is what the constructor
 * returned. The meanings are those of the outq_* functions of outq.h;
 * queued_records is counted by outq.c, the drops by the kind. */
struct outq_ops {
    const char *kind; /* "memory", "spool": for messages */
    int (*push)(void *impl, const char *data, size_t len, size_t nrecords);
    bool (*peek)(void *impl, size_t max_records, struct outq_batch *b);
    void (*commit)(void *impl, uint64_t end);
    void (*destroy)(void *impl); /* frees impl */
};

/* ---- spool.c ---- */
extern const struct outq_ops spool_ops;
/* Opens (creating it if missing) and recovers the spool in `dir`; the
 * counters (borrowed, they live in the struct outq) get what was found.
 * NULL on error, logged. Freed with spool_ops.destroy. */
void *spool_open(const char *dir, uint64_t limit, struct outq_counters *counters);

#endif
