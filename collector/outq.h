/*
 * outq.h - the queue of one push output: encoded chunks (one per input
 * batch, each a run of records) waiting to be sent, bounded in bytes, in
 * memory or in a disk spool. Chunks are consumed in order; a position
 * names "everything up to here", so dropping the oldest chunks while a send
 * is in flight never confuses what a successful send may remove.
 */
#ifndef SONDE_OUTQ_H
#define SONDE_OUTQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outq_stats {
    uint64_t queued_records;  /* records accepted */
    uint64_t dropped_records; /* records dropped: memory full, or spool cap reached */
    uint64_t dropped_chunks;
    uint64_t corrupt_records; /* spool records found corrupt and skipped */
    uint64_t bytes;           /* bytes held now (memory, or spool files) */
};

/* What the sender takes: a copy of consecutive chunks. */
struct outq_batch {
    char *data; /* malloc'd; freed by outq_batch_free */
    size_t len;
    size_t nrecords;
    size_t nchunks;
    uint64_t end; /* position just after the last chunk taken */
};

struct outq;

/* A memory queue holding at most `limit` bytes; when full, the oldest
 * chunks are dropped (and counted) to make room. */
struct outq *outq_memory(uint64_t limit);
/* A disk spool in `dir` (created if missing) holding at most `limit` bytes
 * of segments; what an earlier run left there is replayed first. A corrupt
 * or truncated tail is cut with a warning. NULL on error (logged). */
struct outq *outq_spool(const char *dir, uint64_t limit);

/* Appends one chunk (copied). With a spool the chunk is on disk (fsync)
 * when this returns 0. -errno on a write error (the chunk is counted as
 * dropped). */
int outq_push(struct outq *q, const char *data, size_t len, size_t nrecords);
/* Copies the oldest chunks, at least one and then more while the records
 * stay within max_records, into *b. Returns false when the queue is empty.
 * Nothing is removed. */
bool outq_peek(struct outq *q, size_t max_records, struct outq_batch *b);
/* Removes everything before `end` (a batch's end) once it was delivered
 * (or rejected). */
void outq_commit(struct outq *q, uint64_t end);
void outq_batch_free(struct outq_batch *b);

/* Waits until at least `min_records` are pending, CLOCK_MONOTONIC
 * `deadline_ns` passes, or outq_wake is called. */
void outq_wait(struct outq *q, size_t min_records, int64_t deadline_ns);
void outq_wake(struct outq *q);

/* Records waiting, and a snapshot of the counters. */
size_t outq_pending(struct outq *q);
void outq_get_stats(struct outq *q, struct outq_stats *out);
void outq_free(struct outq *q);

#endif
