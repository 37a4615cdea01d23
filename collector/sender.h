/*
 * sender.h - the sender of one push output: a thread that takes batches
 * from the output's queue, compresses them, POSTs them with libcurl and
 * decides from the answer whether to retry, split or drop.
 */
#ifndef SONDE_SENDER_H
#define SONDE_SENDER_H

#include <stdatomic.h>

#include "config.h"
#include "outq.h"

/* Counters read by the self-metrics; written by the sender thread only. */
struct sender_stats {
    _Atomic uint64_t sent_records;     /* delivered (2xx) */
    _Atomic uint64_t rejected_records; /* refused by the backend (4xx): dropped */
    _Atomic uint64_t retries;          /* attempts that will be repeated */
    _Atomic uint64_t requests;         /* HTTP requests made */
    _Atomic int64_t last_success_ns;   /* wall clock of the last 2xx, 0: none */
    _Atomic int64_t last_duration_ns;  /* duration of the last request */
};

struct sender;

/* Starts the thread for `plugin`'s instance `state`, sending what `queue`
 * holds. Borrows everything; returns NULL on failure (logged). */
struct sender *sender_start(const char *name, const struct sonde_plugin *plugin, void *state,
                            const struct push_options *options, struct outq *queue);
/* The counters of a sender, copied: what a reload carries to the next one. */
struct sender_totals {
    uint64_t sent_records, rejected_records, retries, requests;
    int64_t last_success_ns;
};

/* Stops the thread: goes on sending what is queued for at most `flush_ns`,
 * then returns; what is left stays in the queue (and the spool). When
 * `final` is not NULL it receives the sender's counters as they ended. */
void sender_stop(struct sender *sender, int64_t flush_ns, struct sender_totals *final);
/* Adds the counters of the sender this one replaces after a reload, so
 * the output's totals go on instead of restarting at zero. */
void sender_carry_over(struct sender *sender, const struct sender_totals *before);
const struct sender_stats *sender_stats(const struct sender *sender);

/* Backoff before retry number `attempt` (1, 2, ...): exponential from
 * `base_ns` to `ceiling_ns`, with up to 20% jitter drawn from `random`
 * (0..1). Exposed for tests. */
int64_t sender_backoff(int attempt, int64_t base_ns, int64_t ceiling_ns, double random);

/* What an HTTP status means for the batch: exposed for tests. */
enum sender_verdict { SEND_DELIVERED, SEND_REJECTED, SEND_RETRY, SEND_AUTH, SEND_SPLIT };
enum sender_verdict sender_classify(long status);

/* Seconds from a Retry-After value (delta-seconds or an HTTP date),
 * relative to `now_s`; -1 when unparsable. */
long sender_retry_after(const char *value, long now_s);

#endif
