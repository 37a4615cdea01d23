/*
 * agent.h - the running agent: plugin instances built from a configuration,
 * the store of latest batches, the scheduler thread and the endpoint.
 */
#ifndef SONDE_AGENT_H
#define SONDE_AGENT_H

#include <pthread.h>
#include <stdatomic.h>

#include "config.h"
#include "core.h"
#include "sender.h"

/* ---- store.c: the latest batch of each input instance ---- */
struct store {
    pthread_mutex_t lock;
    struct sonde_batch **slots; /* owned */
    size_t nslots;
    _Atomic uint64_t generation;     /* bumped on every publish */
    struct expo_cache *render_cache; /* owned; used under the lock */
};

void store_init(struct store *store, size_t nslots);
/* Replaces the slot's batch (ownership moves to the store). */
void store_publish(struct store *store, size_t slot, struct sonde_batch *batch);
/* Renders every stored series; returns the generation rendered. */
uint64_t store_render(struct store *store, struct sonde_buf *out, enum expo_format format);
void store_destroy(struct store *store);

/* ---- agent.c ---- */
struct agent_input {
    const struct config_instance *cfg;
    void *state;
    int64_t interval_ns;
    int64_t next_ns;             /* monotonic time of the next read */
    struct sonde_label *lp_tags; /* host, global and instance tags, sorted; owned */
    size_t nlp_tags;
    struct sonde_context ctx;
    bool ready; /* init succeeded */
    /* Statistics, written by the scheduler thread only. */
    uint64_t reads, errors, cycles_skipped, samples_skipped;
    double last_duration_s;
    int last_rc;
};

struct outq;
struct sender;

struct agent_output {
    const struct config_instance *cfg;
    void *state;
    uint64_t writes, errors;
    /* Push outputs: the encoded chunks' queue and its sender thread. */
    struct outq *queue;
    struct sender *sender;
    struct sonde_buf encoded; /* reused for each batch */
    uint64_t encode_errors;
};

struct agent_paths {
    const char *procfs, *sysfs, *rootfs;
};

struct agent {
    struct sonde_config *config; /* borrowed */
    char hostname[256];
    struct agent_paths paths;

    struct agent_input *inputs;
    size_t ninputs;
    struct agent_output *outputs;
    size_t noutputs;

    struct store store; /* slots: one per input, then one for self-metrics */
    int64_t start_time_ns;
    struct sonde_file self_statm; /* /proc/self/statm, kept open for the self-metrics */

    struct sonde_lp_stats lp_stats; /* summed over outputs' encodings */
    _Atomic uint64_t scrapes;       /* endpoint requests served */
    _Atomic uint64_t scrape_errors;
    _Atomic uint64_t renders; /* bodies rendered (not served from cache) */

    bool want_series; /* the endpoint is on: inputs emit Prometheus series */
    bool want_points; /* some output takes line protocol: inputs emit points */

    uint64_t rounds;     /* collection rounds done */
    uint64_t max_rounds; /* 0: run until stopped; else stop after this many */

    pthread_t thread;
    bool running;
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    bool stop;
};

/* Push outputs' queues carried across a reload, so that nothing queued is
 * lost: an output of the same name, plugin and spool takes its queue back. */
struct agent_handover {
    char *name; /* owned */
    const struct sonde_plugin *plugin;
    char *spool_dir; /* owned; NULL: a memory queue */
    struct outq *queue;
    struct sender_totals totals; /* the old sender's counters, carried on */
};

struct agent_handovers {
    struct agent_handover *items; /* owned */
    size_t n;
};

/* Builds instances (init of every plugin); push outputs adopt matching
 * queues from `adopt` (may be NULL). Returns 0, or -EINVAL when some
 * instance failed to initialise (the others still run). */
int agent_init(struct agent *agent, struct sonde_config *config, const struct agent_paths *paths,
               struct agent_handovers *adopt);
/* Stops the push outputs' senders and moves their queues to `out` (before
 * agent_destroy, on reload); outputs first queue what the inputs missing
 * from `fresh` call for (stale markers). */
void agent_hand_over(struct agent *agent, struct agent_handovers *out,
                     const struct sonde_config *fresh);
/* Frees the queues nobody adopted, logging what they still held. */
void agent_handovers_free(struct agent_handovers *handovers);
void agent_destroy(struct agent *agent);
/* Reads one input now; the batch goes to the outputs and the store.
 * Returns the read's result. */
int agent_collect(struct agent *agent, struct agent_input *input);
/* Publishes sonde's own metrics to the store. */
void agent_publish_self(struct agent *agent);

/* ---- scheduler.c ---- */
int scheduler_start(struct agent *agent);
void scheduler_stop(struct agent *agent);

/* ---- selfmetrics.c ---- */
struct sonde_batch *selfmetrics_batch(struct agent *agent);

/* ---- endpoint.c ---- */
struct endpoint;
/* Starts serving agent->store on the configured address; NULL on failure
 * (logged). */
struct endpoint *endpoint_start(struct agent *agent, const char *listen_address,
                                const char *telemetry_path);
void endpoint_stop(struct endpoint *endpoint);

#endif
