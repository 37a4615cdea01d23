/*
 * pushbench.c - the CPU a push output costs per million samples: reads sonde's default
 * inputs once, then encodes copies of those batches (new timestamps each round) with a
 * push output's own encoder and sends them through the real queue (outq) and sender
 * thread to a real server, until SAMPLES were delivered. Prints one JSON object.
 * Usage: pushbench OUTPUT.yaml SAMPLES
 *   OUTPUT.yaml: a sonde configuration whose first output is a push output (influxdb,
 *   influxdb_v2 or remote_write) with its options. Built by bench/run.sh against
 *   build/libsonde_core.a and build/libsonde_plugins.a.
 * A sample is one value: a field of a line-protocol point, or one remote_write sample.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "core.h"
#include "outq.h"
#include "sender.h"

/* The default inputs, as packaging/sonde.yaml has them. */
static const char pushbench_inputs[] = "agent:\n"
                                       "  hostname: bench-host\n"
                                       "web:\n"
                                       "  listen_address: \"\"\n"
                                       "inputs:\n"
                                       "  cpu: {}\n"
                                       "  mem: {}\n"
                                       "  swap: {}\n"
                                       "  system: {}\n"
                                       "  kernel: {}\n"
                                       "  net: {}\n"
                                       "  diskio: {}\n"
                                       "  disk: {}\n";

static double pushbench_seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double pushbench_process_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return pushbench_seconds(&ru.ru_utime) + pushbench_seconds(&ru.ru_stime);
}

static double pushbench_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads every input into a batch wanting `series` or points; a second read so that
 * inputs computing rates (cpu usage) emit everything. The batches are the caller's. */
static size_t pushbench_read(struct agent *agent, bool series, struct sonde_batch **out)
{
    size_t n = 0;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < agent->ninputs; i++) {
            struct agent_input *in = &agent->inputs[i];
            if (!in->ready)
                continue;
            struct sonde_batch *b = batch_new(in->cfg->name);
            b->timestamp_ns = clock_realtime_ns();
            b->lp_tags = in->lp_tags;
            b->nlp_tags = in->nlp_tags;
            b->want_series = series;
            b->want_points = !series;
            in->cfg->plugin->read(in->state, b);
            batch_finish(b);
            if (round == 0) {
                batch_free(b);
                continue;
            }
            out[n++] = b;
        }
        if (round == 0)
            usleep(100000); /* cpu usage needs time between the two reads */
    }
    return n;
}

static size_t pushbench_values(const struct sonde_batch *b, bool series)
{
    if (series)
        return b->nseries;
    size_t n = 0;
    for (size_t i = 0; i < b->npoints; i++)
        n += b->points[i]->nfields;
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pushbench OUTPUT.yaml SAMPLES\n");
        return 2;
    }
    char *end;
    unsigned long long want = strtoull(argv[2], &end, 10);
    if (end == argv[2] || *end || want == 0) {
        fprintf(stderr, "pushbench: SAMPLES: expected a positive number\n");
        return 2;
    }
    log_set_level(SONDE_LOG_WARN);

    struct sonde_config outcfg;
    if (config_load(&outcfg, argv[1]) < 0)
        return 2;
    if (outcfg.noutputs < 1 || !outcfg.outputs[0].plugin->push) {
        fprintf(stderr, "pushbench: %s: the first output must be a push output\n", argv[1]);
        return 2;
    }
    struct config_instance *oi = &outcfg.outputs[0];
    const struct sonde_push *push = oi->plugin->push;

    struct sonde_config incfg;
    if (config_load_string(&incfg, pushbench_inputs, "<pushbench inputs>") < 0)
        return 2;
    struct agent agent;
    struct agent_paths paths = {.procfs = "/proc", .sysfs = "/sys", .rootfs = "/"};
    agent_init(&agent, &incfg, &paths, NULL);
    struct sonde_batch *batches[64];
    size_t nb = pushbench_read(&agent, push->series, batches);
    size_t per_round = 0;
    for (size_t i = 0; i < nb; i++)
        per_round += pushbench_values(batches[i], push->series);
    if (per_round == 0) {
        fprintf(stderr, "pushbench: the inputs gave no samples\n");
        return 1;
    }

    struct sonde_context ctx = {.procfs = "/proc",
                                .sysfs = "/sys",
                                .rootfs = "/",
                                .hostname = "bench-host",
                                .instance = oi->name};
    void *state = NULL;
    if (oi->plugin->init && oi->plugin->init(&state, oi->config, &ctx) < 0)
        return 1;
    struct outq *q = outq_memory(oi->push.queue_limit);
    struct sender *s = sender_start(oi->name, oi->plugin, state, &oi->push, q);
    if (!s)
        return 1;

    /* The measure starts here: encoding, queueing, compressing, sending. */
    double cpu0 = pushbench_process_cpu(), main0 = pushbench_thread_cpu();
    int64_t wall0 = clock_monotonic_ns();
    struct sonde_buf buf = {0};
    unsigned long long samples = 0, records = 0, bytes = 0, rounds = 0;
    /* Rounds spread over the last 50 minutes, at least 1 ms apart: backends take them, and
     * remote_write's millisecond timestamps stay distinct. */
    int64_t nrounds = (int64_t)(want / per_round) + 1;
    int64_t step = 3000 * (int64_t)1000000000 / nrounds;
    if (step < 1000000)
        step = 1000000;
    int64_t t0 = clock_realtime_ns() - 3000 * (int64_t)1000000000;
    size_t throttle = (size_t)oi->push.batch_size * 4;
    while (samples < want) {
        for (size_t i = 0; i < nb; i++) {
            batches[i]->timestamp_ns = t0 + (int64_t)rounds * step + (int64_t)i * 1000;
            size_t n = 0;
            buf.len = 0;
            if (push->encode(state, batches[i], &buf, &n) < 0 || n == 0)
                continue;
            outq_push(q, buf.data, buf.len, n);
            records += n;
            bytes += buf.len;
        }
        samples += per_round;
        rounds++;
        /* Keep the queue short: the sender's pace sets the producer's, as in the agent
         * (where the interval does); waiting costs no CPU. */
        while (outq_pending(q) > throttle)
            usleep(500);
    }
    double main_cpu = pushbench_thread_cpu() - main0;
    const struct sender_stats *st = sender_stats(s);
    int64_t deadline = clock_monotonic_ns() + 300 * (int64_t)1000000000;
    while (atomic_load(&st->sent_records) + atomic_load(&st->rejected_records) < records &&
           clock_monotonic_ns() < deadline)
        usleep(1000);
    double wall = (double)(clock_monotonic_ns() - wall0) / 1e9;
    double cpu = pushbench_process_cpu() - cpu0;
    unsigned long long sent = atomic_load(&st->sent_records);
    unsigned long long rejected = atomic_load(&st->rejected_records);
    unsigned long long retries = atomic_load(&st->retries);
    unsigned long long requests = atomic_load(&st->requests);
    struct outq_stats qs;
    outq_get_stats(q, &qs);
    sender_stop(s, 0, NULL);

    printf("{\"output\": \"%s\", \"unit\": \"%s\", \"gzip\": %s, \"samples\": %llu, "
           "\"records\": %llu, \"samples_per_round\": %zu, \"rounds\": %llu, "
           "\"encoded_bytes\": %llu, \"sent\": %llu, \"rejected\": %llu, \"dropped\": %llu, "
           "\"retries\": %llu, \"requests\": %llu, \"cpu_s\": %.4f, \"encode_cpu_s\": %.4f, "
           "\"wall_s\": %.3f}\n",
           oi->plugin->name, push->unit, oi->push.gzip ? "true" : "false", samples, records,
           per_round, rounds, bytes, sent, rejected, (unsigned long long)qs.dropped_records,
           retries, requests, cpu, main_cpu, wall);

    sonde_buf_free(&buf);
    outq_free(q);
    if (oi->plugin->destroy)
        oi->plugin->destroy(state);
    for (size_t i = 0; i < nb; i++)
        batch_free(batches[i]);
    agent_destroy(&agent);
    config_free(&incfg);
    config_free(&outcfg);
    return sent + rejected == records && rejected == 0 ? 0 : 1;
}
