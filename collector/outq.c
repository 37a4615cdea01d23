/*
 * outq.c - the queue of one push output: the front every queue kind shares
 * (one lock, the wakeups of the sender, the counters) and the memory queue.
 * The disk spool behind the same front is spool.c.
 *
 * Design note.
 * - Threads: outq_push runs on the collection thread, outq_peek,
 *   outq_commit and outq_wait on the output's sender thread,
 *   outq_get_stats and outq_pending anywhere. One mutex serialises every
 *   call into the queue kind; the counters are atomics, so reading them
 *   never waits for the lock (a spool holds it across an fsync).
 * - Wakeups: a condition variable on CLOCK_MONOTONIC, signalled by every
 *   push and by outq_wake. outq_wake leaves a flag that the next (or the
 *   current) outq_wait consumes, so a wake sent just before the sender
 *   starts waiting is not lost.
 * - Counting: queued_records counts every record handed to outq_push, even
 *   one dropped at once, so that queued = committed + dropped + pending.
 *   A chunk dropped for space while the sender holds a copy of it is
 *   counted as dropped even if that send then succeeds: the count errs on
 *   the side of "maybe lost", never on "surely delivered".
 *
 * Memory queue: a FIFO of chunks, each one allocation holding its bytes.
 * Chunk number n (counted from 0 since the queue was made) ends at position
 * n + 1. The bytes held (stats.bytes, bounded by `limit`) are each chunk's
 * payload plus MEMQ_CHUNK_OVERHEAD, a fixed estimate of its header and
 * allocator overhead, so that a flood of tiny chunks is bounded too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "spool.h"

#define MEMQ_CHUNK_OVERHEAD 64

struct outq {
    const struct outq_ops *ops;
    void *impl;
    pthread_mutex_t lock; /* held across every ops call */
    pthread_cond_t cond;  /* CLOCK_MONOTONIC; push and outq_wake signal it */
    bool woken;           /* outq_wake called, not yet seen by outq_wait */
    struct outq_counters counters;
};

/* ---- memory queue ---- */

struct memq_chunk {
    struct memq_chunk *next;
    uint64_t seq;
    size_t len;
    size_t nrecords;
    char data[];
};

struct memq {
    struct outq_counters *counters; /* borrowed from the struct outq */
    uint64_t limit;
    uint64_t held; /* payload + MEMQ_CHUNK_OVERHEAD per chunk */
    uint64_t next_seq;
    struct memq_chunk *head; /* oldest */
    struct memq_chunk *tail;
    struct sonde_ratelimit drop_log;
};

/* Unlinks and frees the oldest chunk; the caller counts it. */
static void memq_remove_head(struct memq *m)
{
    struct memq_chunk *c = m->head;
    m->head = c->next;
    if (!m->head)
        m->tail = NULL;
    m->held -= c->len + MEMQ_CHUNK_OVERHEAD;
    m->counters->pending -= c->nrecords;
    m->counters->bytes = m->held;
    free(c);
}

static int memq_push(void *impl, const char *data, size_t len, size_t nrecords)
{
    struct memq *m = impl;
    uint64_t cost = (uint64_t)len + MEMQ_CHUNK_OVERHEAD;
    if (cost > m->limit) {
        m->counters->dropped_records += nrecords;
        m->counters->dropped_chunks++;
        sonde_log_limited(&m->drop_log, 60, SONDE_LOG_WARN,
                          "output queue: dropped a chunk of %zu bytes, larger than the queue "
                          "limit of %llu bytes",
                          len, (unsigned long long)m->limit);
        return -EMSGSIZE;
    }
    uint64_t dropped = 0;
    while (m->held + cost > m->limit) {
        dropped += m->head->nrecords;
        m->counters->dropped_records += m->head->nrecords;
        m->counters->dropped_chunks++;
        memq_remove_head(m);
    }
    if (dropped)
        sonde_log_limited(&m->drop_log, 60, SONDE_LOG_WARN,
                          "output queue full (%llu bytes): dropped the oldest %llu records",
                          (unsigned long long)m->limit, (unsigned long long)dropped);
    /* Who frees: memq_remove_head, when committed, dropped or at memq_destroy. */
    struct memq_chunk *c = sonde_xmalloc(sizeof(*c) + len);
    c->next = NULL;
    c->seq = m->next_seq++;
    c->len = len;
    c->nrecords = nrecords;
    if (len)
        memcpy(c->data, data, len);
    if (m->tail)
        m->tail->next = c;
    else
        m->head = c;
    m->tail = c;
    m->held += cost;
    m->counters->pending += nrecords;
    m->counters->bytes = m->held;
    return 0;
}

static bool memq_peek(void *impl, size_t max_records, struct outq_batch *b)
{
    struct memq *m = impl;
    memset(b, 0, sizeof(*b));
    if (!m->head)
        return false;
    const struct memq_chunk *last = m->head;
    size_t len = last->len, nrecords = last->nrecords, nchunks = 1;
    for (const struct memq_chunk *c = last->next; c; c = c->next) {
        if (nrecords + c->nrecords > max_records)
            break;
        len += c->len;
        nrecords += c->nrecords;
        nchunks++;
        last = c;
    }
    b->data = sonde_xmalloc(len);
    for (const struct memq_chunk *c = m->head;; c = c->next) {
        if (c->len)
            memcpy(b->data + b->len, c->data, c->len);
        b->len += c->len;
        if (c == last)
            break;
    }
    b->nrecords = nrecords;
    b->nchunks = nchunks;
    b->end = last->seq + 1;
    return true;
}

static void memq_commit(void *impl, uint64_t end)
{
    struct memq *m = impl;
    /* Chunks dropped for space since the peek are already gone (and were
     * counted then): only what is still here before `end` is removed. */
    while (m->head && m->head->seq < end)
        memq_remove_head(m);
}

static void memq_destroy(void *impl)
{
    struct memq *m = impl;
    while (m->head)
        memq_remove_head(m);
    free(m);
}

static const struct outq_ops memq_ops = {
    .kind = "memory",
    .push = memq_push,
    .peek = memq_peek,
    .commit = memq_commit,
    .destroy = memq_destroy,
};

/* ---- the shared front ---- */

static struct outq *outq_new(void)
{
    struct outq *q = sonde_xcalloc(1, sizeof(*q));
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &attr);
    pthread_condattr_destroy(&attr);
    return q;
}

static void outq_delete(struct outq *q)
{
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

struct outq *outq_memory(uint64_t limit)
{
    struct outq *q = outq_new();
    struct memq *m = sonde_xcalloc(1, sizeof(*m));
    m->counters = &q->counters;
    m->limit = limit;
    q->ops = &memq_ops;
    q->impl = m;
    return q;
}

struct outq *outq_spool(const char *dir, uint64_t limit)
{
    struct outq *q = outq_new();
    q->impl = spool_open(dir, limit, &q->counters);
    if (!q->impl) {
        outq_delete(q);
        return NULL;
    }
    q->ops = &spool_ops;
    return q;
}

int outq_push(struct outq *q, const char *data, size_t len, size_t nrecords)
{
    pthread_mutex_lock(&q->lock);
    q->counters.queued_records += nrecords;
    int rc = q->ops->push(q->impl, data, len, nrecords);
    if (rc == 0)
        pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

bool outq_peek(struct outq *q, size_t max_records, struct outq_batch *b)
{
    pthread_mutex_lock(&q->lock);
    bool found = q->ops->peek(q->impl, max_records, b);
    pthread_mutex_unlock(&q->lock);
    return found;
}

void outq_commit(struct outq *q, uint64_t end)
{
    pthread_mutex_lock(&q->lock);
    q->ops->commit(q->impl, end);
    pthread_mutex_unlock(&q->lock);
}

void outq_batch_free(struct outq_batch *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void outq_wait(struct outq *q, size_t min_records, int64_t deadline_ns)
{
    struct timespec until = {.tv_sec = (time_t)(deadline_ns / 1000000000),
                             .tv_nsec = (long)(deadline_ns % 1000000000)};
    if (deadline_ns < 0)
        until = (struct timespec){0, 0};
    pthread_mutex_lock(&q->lock);
    while (!q->woken && atomic_load(&q->counters.pending) < min_records) {
        int rc = pthread_cond_timedwait(&q->cond, &q->lock, &until);
        if (rc == ETIMEDOUT || rc == EINVAL)
            break;
    }
    q->woken = false;
    pthread_mutex_unlock(&q->lock);
}

void outq_wake(struct outq *q)
{
    pthread_mutex_lock(&q->lock);
    q->woken = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

size_t outq_pending(struct outq *q)
{
    return (size_t)atomic_load(&q->counters.pending);
}

void outq_get_stats(struct outq *q, struct outq_stats *out)
{
    out->queued_records = atomic_load(&q->counters.queued_records);
    out->dropped_records = atomic_load(&q->counters.dropped_records);
    out->dropped_chunks = atomic_load(&q->counters.dropped_chunks);
    out->corrupt_records = atomic_load(&q->counters.corrupt_records);
    out->bytes = atomic_load(&q->counters.bytes);
}

void outq_free(struct outq *q)
{
    if (!q)
        return;
    q->ops->destroy(q->impl);
    outq_delete(q);
}
