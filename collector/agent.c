/*
 * agent.c - turns a configuration into running plugin instances and runs
 * one collection: read an input into a fresh batch, stamp it, hand it to
 * every output, then publish it to the store (which takes ownership).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "outq.h"
#include "sender.h"

static int agent_label_compare(const void *a, const void *b)
{
    return strcmp(((const struct sonde_label *)a)->key, ((const struct sonde_label *)b)->key);
}

/* Adds or replaces a tag in a small list; strings are kept in `storage`. */
static void agent_tag_set(struct agent_input *in, size_t *cap, const char *key, const char *value)
{
    for (size_t i = 0; i < in->nlp_tags; i++) {
        if (strcmp(in->lp_tags[i].key, key) == 0) {
            in->lp_tags[i].value = value;
            return;
        }
    }
    if (in->nlp_tags == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        in->lp_tags = sonde_xrealloc(in->lp_tags, *cap * sizeof(*in->lp_tags));
    }
    in->lp_tags[in->nlp_tags].key = key;
    in->lp_tags[in->nlp_tags].value = value;
    in->nlp_tags++;
}

/* host, then the agent's global tags, then the instance's own tags: later
 * ones win, as in Telegraf. The strings belong to the configuration. */
static void agent_input_tags(struct agent *agent, struct agent_input *in)
{
    size_t cap = 0;
    const struct sonde_config *cfg = agent->config;
    if (!cfg->omit_hostname && agent->hostname[0])
        agent_tag_set(in, &cap, "host", agent->hostname);
    for (size_t i = 0; i < cfg->global_tags.n; i++)
        agent_tag_set(in, &cap, cfg->global_tags.keys[i], cfg->global_tags.values[i]);
    for (size_t i = 0; i < in->cfg->tags.n; i++)
        agent_tag_set(in, &cap, in->cfg->tags.keys[i], in->cfg->tags.values[i]);
    if (in->nlp_tags)
        qsort(in->lp_tags, in->nlp_tags, sizeof(*in->lp_tags), agent_label_compare);
}

static bool agent_same_spool(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The queue a reload handed over for this output, or NULL; `totals` gets
 * the counters of the sender that had it. */
static struct outq *agent_adopt_queue(struct agent_handovers *adopt, const struct agent_output *out,
                                      const struct sender_totals **totals)
{
    for (size_t i = 0; adopt && i < adopt->n; i++) {
        struct agent_handover *h = &adopt->items[i];
        /* A spool is its directory (an output renamed keeps it); a memory
         * queue goes to the output of the same name. */
        bool same = h->spool_dir
                        ? agent_same_spool(h->spool_dir, out->cfg->push.spool_dir)
                        : !out->cfg->push.spool_dir && strcmp(h->name, out->cfg->name) == 0;
        if (h->queue && h->plugin == out->cfg->plugin && same) {
            struct outq *q = h->queue;
            h->queue = NULL;
            *totals = &h->totals;
            return q;
        }
    }
    return NULL;
}

/* A push output's queue (memory, or the disk spool; or the one it had
 * before a reload) and sender thread. */
static int agent_output_push_start(struct agent_output *out, struct agent_handovers *adopt)
{
    const struct push_options *push = &out->cfg->push;
    const struct sender_totals *totals = NULL;
    out->queue = agent_adopt_queue(adopt, out, &totals);
    if (!out->queue)
        out->queue = push->spool_dir ? outq_spool(push->spool_dir, push->spool_limit)
                                     : outq_memory(push->queue_limit);
    if (!out->queue)
        return -EIO;
    out->sender = sender_start(out->cfg->name, out->cfg->plugin, out->state, push, out->queue);
    if (!out->sender) {
        outq_free(out->queue);
        out->queue = NULL;
        return -EAGAIN;
    }
    if (totals)
        sender_carry_over(out->sender, totals);
    return 0;
}

/* Encodes the batch for a push output and queues it. */
static void agent_output_push(struct agent_output *out, const struct sonde_batch *batch)
{
    size_t nrecords = 0;
    out->encoded.len = 0;
    if (out->cfg->plugin->push->encode(out->state, batch, &out->encoded, &nrecords) < 0) {
        out->encode_errors++;
        return;
    }
    if (nrecords == 0)
        return;
    if (outq_push(out->queue, out->encoded.data, out->encoded.len, nrecords) < 0)
        out->errors++;
}

int agent_init(struct agent *agent, struct sonde_config *config, const struct agent_paths *paths,
               struct agent_handovers *adopt)
{
    memset(agent, 0, sizeof(*agent));
    agent->config = config;
    agent->paths = *paths;
    agent->start_time_ns = clock_realtime_ns();
    sonde_file_init(&agent->self_statm, "/proc/self/statm");
    agent->want_series = config->listen_address && config->listen_address[0];
    agent->want_points = config->noutputs > 0;
    if (config->hostname && config->hostname[0])
        snprintf(agent->hostname, sizeof(agent->hostname), "%s", config->hostname);
    else if (gethostname(agent->hostname, sizeof(agent->hostname) - 1) < 0)
        agent->hostname[0] = '\0';
    pthread_mutex_init(&agent->wake_lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&agent->wake, &attr);
    pthread_condattr_destroy(&attr);

    int rc = 0;
    agent->ninputs = config->ninputs;
    agent->inputs = sonde_xcalloc(config->ninputs ? config->ninputs : 1, sizeof(*agent->inputs));
    for (size_t i = 0; i < config->ninputs; i++) {
        struct agent_input *in = &agent->inputs[i];
        in->cfg = &config->inputs[i];
        in->interval_ns = in->cfg->interval_ns ? in->cfg->interval_ns : config->interval_ns;
        in->ctx = (struct sonde_context){.procfs = paths->procfs,
                                         .sysfs = paths->sysfs,
                                         .rootfs = paths->rootfs,
                                         .hostname = agent->hostname,
                                         .instance = in->cfg->name};
        agent_input_tags(agent, in);
        int r = in->cfg->plugin->init ? in->cfg->plugin->init(&in->state, in->cfg->config, &in->ctx)
                                      : 0;
        if (r < 0) {
            sonde_log(SONDE_LOG_ERROR, "input %s: initialisation failed: %s", in->cfg->name,
                      strerror(-r));
            rc = -EINVAL;
            continue;
        }
        in->ready = true;
    }
    agent->noutputs = config->noutputs;
    agent->outputs =
        sonde_xcalloc(config->noutputs ? config->noutputs : 1, sizeof(*agent->outputs));
    for (size_t i = 0; i < config->noutputs; i++) {
        struct agent_output *out = &agent->outputs[i];
        out->cfg = &config->outputs[i];
        struct sonde_context ctx = {.procfs = paths->procfs,
                                    .sysfs = paths->sysfs,
                                    .rootfs = paths->rootfs,
                                    .hostname = agent->hostname,
                                    .instance = out->cfg->name};
        int r = out->cfg->plugin->init ? out->cfg->plugin->init(&out->state, out->cfg->config, &ctx)
                                       : 0;
        if (r == 0 && out->cfg->plugin->push)
            r = agent_output_push_start(out, adopt);
        if (r < 0) {
            sonde_log(SONDE_LOG_ERROR, "output %s: initialisation failed: %s", out->cfg->name,
                      strerror(-r));
            out->cfg = NULL;
            rc = -EINVAL;
        }
    }
    /* What the outputs consume: line protocol, or Prometheus series. */
    agent->want_points = false;
    for (size_t i = 0; i < agent->noutputs; i++) {
        const struct sonde_plugin *p = config->outputs[i].plugin;
        if (p->push && p->push->series)
            agent->want_series = true;
        else
            agent->want_points = true;
    }
    store_init(&agent->store, agent->ninputs + 1);
    return rc;
}

/* NaN and infinite floats cannot be written as line protocol; they are
 * counted here once per batch, whatever the outputs. */
static uint64_t agent_count_nonfinite(const struct sonde_batch *batch)
{
    uint64_t n = 0;
    for (size_t i = 0; i < batch->npoints; i++) {
        const struct sonde_point *p = batch->points[i];
        for (size_t j = 0; j < p->nfields; j++)
            n += p->fields[j].type == SONDE_FIELD_FLOAT && !isfinite(p->fields[j].v.f);
    }
    return n;
}

int agent_collect(struct agent *agent, struct agent_input *in)
{
    if (!in->ready)
        return -EINVAL;
    struct sonde_batch *batch = batch_new(in->cfg->name);
    batch->timestamp_ns = clock_realtime_ns();
    batch->lp_tags = in->lp_tags;
    batch->nlp_tags = in->nlp_tags;
    batch->want_series = agent->want_series;
    batch->want_points = agent->want_points;
    int64_t start = clock_monotonic_ns();
    int rc = in->cfg->plugin->read(in->state, batch);
    in->last_duration_s = (double)(clock_monotonic_ns() - start) / 1e9;
    batch_finish(batch);
    in->reads++;
    in->last_rc = rc;
    in->samples_skipped += batch->skipped;
    if (rc == -ENODATA) {
        /* The source is absent on this host (a kernel module not loaded):
         * not a failure of sonde's, and node_exporter does not warn either;
         * node_scrape_collector_success still says 0. */
        sonde_log(SONDE_LOG_DEBUG, "input %s: no data on this host", in->cfg->name);
    } else if (rc < 0) {
        in->errors++;
        sonde_log(SONDE_LOG_WARN, "input %s: read failed: %s", in->cfg->name, strerror(-rc));
    }
    agent->lp_stats.nonfinite_fields += agent_count_nonfinite(batch);
    for (size_t i = 0; i < agent->noutputs; i++) {
        struct agent_output *out = &agent->outputs[i];
        if (!out->cfg)
            continue;
        if (out->cfg->plugin->push) {
            out->writes++;
            agent_output_push(out, batch);
            continue;
        }
        if (!out->cfg->plugin->write)
            continue;
        out->writes++;
        if (out->cfg->plugin->write(out->state, batch) < 0)
            out->errors++;
    }
    store_publish(&agent->store, (size_t)(in - agent->inputs), batch);
    return rc;
}

void agent_publish_self(struct agent *agent)
{
    store_publish(&agent->store, agent->ninputs, selfmetrics_batch(agent));
}

/* Lets a push output queue what the inputs gone in `fresh` call for. */
static void agent_output_inputs_gone(struct agent_output *o, const struct sonde_config *fresh)
{
    const struct sonde_push *push = o->cfg->plugin->push;
    if (!push->inputs_gone)
        return;
    const char **remaining = sonde_xcalloc(fresh->ninputs + 1, sizeof(char *));
    for (size_t i = 0; i < fresh->ninputs; i++)
        remaining[i] = fresh->inputs[i].name;
    size_t nrecords = 0;
    o->encoded.len = 0;
    if (push->inputs_gone(o->state, remaining, fresh->ninputs, clock_realtime_ns(), &o->encoded,
                          &nrecords) == 0 &&
        nrecords)
        outq_push(o->queue, o->encoded.data, o->encoded.len, nrecords);
    free(remaining);
}

void agent_hand_over(struct agent *agent, struct agent_handovers *out,
                     const struct sonde_config *fresh)
{
    for (size_t i = 0; i < agent->noutputs; i++) {
        struct agent_output *o = &agent->outputs[i];
        if (!o->sender)
            continue;
        agent_output_inputs_gone(o, fresh);
        out->items = sonde_xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
        struct agent_handover *h = &out->items[out->n++];
        sender_stop(o->sender, 0, &h->totals); /* a request in flight still completes */
        o->sender = NULL;
        h->name = sonde_xstrdup(o->cfg->name);
        h->plugin = o->cfg->plugin;
        h->spool_dir = o->cfg->push.spool_dir ? sonde_xstrdup(o->cfg->push.spool_dir) : NULL;
        h->queue = o->queue;
        o->queue = NULL;
    }
}

void agent_handovers_free(struct agent_handovers *handovers)
{
    for (size_t i = 0; i < handovers->n; i++) {
        struct agent_handover *h = &handovers->items[i];
        if (h->queue) {
            size_t pending = outq_pending(h->queue);
            if (pending)
                sonde_log(SONDE_LOG_WARN,
                          "output %s is gone after the reload: %zu queued records dropped%s",
                          h->name, pending, h->spool_dir ? " (they stay in its spool)" : "");
            outq_free(h->queue);
        }
        free(h->name);
        free(h->spool_dir);
    }
    free(handovers->items);
    handovers->items = NULL;
    handovers->n = 0;
}

void agent_destroy(struct agent *agent)
{
    for (size_t i = 0; i < agent->ninputs; i++) {
        struct agent_input *in = &agent->inputs[i];
        if (in->ready && in->cfg->plugin->destroy)
            in->cfg->plugin->destroy(in->state);
        free(in->lp_tags);
    }
    for (size_t i = 0; i < agent->noutputs; i++) {
        struct agent_output *out = &agent->outputs[i];
        if (out->sender)
            sender_stop(out->sender, out->cfg->push.flush_timeout_ns, NULL);
        outq_free(out->queue);
        sonde_buf_free(&out->encoded);
        if (out->cfg && out->cfg->plugin->destroy)
            out->cfg->plugin->destroy(out->state);
    }
    free(agent->inputs);
    free(agent->outputs);
    store_destroy(&agent->store);
    sonde_file_close(&agent->self_statm);
    pthread_cond_destroy(&agent->wake);
    pthread_mutex_destroy(&agent->wake_lock);
}
