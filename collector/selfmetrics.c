/*
 * selfmetrics.c - sonde's own metrics (sonde_*), published to the store as
 * one more batch after each collection round: build info, per-input read
 * duration, reads, errors and skips, scrapes served, line-protocol fields
 * skipped, and the process_* metrics Prometheus clients conventionally
 * export. Scrape counts are as of the last round: counting each scrape in
 * the body would force a re-render on every scrape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent.h"
#include "outq.h"
#include "sender.h"

static const struct sonde_family fam_build_info = {
    "sonde_build_info", SONDE_GAUGE, "A metric with a constant '1' value labeled by version."};
static const struct sonde_family fam_read_duration = {
    "sonde_input_read_duration_seconds", SONDE_GAUGE, "Duration of the input's last read."};
static const struct sonde_family fam_read_success = {"sonde_input_read_success", SONDE_GAUGE,
                                                     "Whether the input's last read succeeded."};
static const struct sonde_family fam_reads = {"sonde_input_reads_total", SONDE_COUNTER,
                                              "Reads of the input."};
static const struct sonde_family fam_read_errors = {"sonde_input_read_errors_total", SONDE_COUNTER,
                                                    "Failed reads of the input."};
static const struct sonde_family fam_cycles_skipped = {
    "sonde_input_cycles_skipped_total", SONDE_COUNTER,
    "Collection ticks skipped because the previous read overran its interval."};
static const struct sonde_family fam_samples_skipped = {
    "sonde_input_samples_skipped_total", SONDE_COUNTER,
    "Malformed values the input skipped (bad lines, unparsable numbers)."};
static const struct sonde_family fam_scrapes = {"sonde_http_scrapes_total", SONDE_COUNTER,
                                                "Scrapes of the metrics endpoint served."};
static const struct sonde_family fam_scrape_errors = {
    "sonde_http_scrape_errors_total", SONDE_COUNTER,
    "Endpoint requests answered with an error status."};
static const struct sonde_family fam_renders = {
    "sonde_http_renders_total", SONDE_COUNTER,
    "Metric bodies rendered; scrapes between two collections share one rendering."};
static const struct sonde_family fam_lp_skipped = {
    "sonde_lineprotocol_fields_skipped_total", SONDE_COUNTER,
    "NaN or infinite fields left out of line protocol."};
static const struct sonde_family fam_output_writes = {"sonde_output_writes_total", SONDE_COUNTER,
                                                      "Batches handed to the output."};
static const struct sonde_family fam_output_errors = {
    "sonde_output_write_errors_total", SONDE_COUNTER, "Batches the output failed to take."};
#define OUTPUT_COUNTER(var, name, help)                                                            \
    static const struct sonde_family var = {name, SONDE_COUNTER, help}
OUTPUT_COUNTER(fam_out_queued, "sonde_output_samples_queued_total",
               "Records (lines or samples) accepted into the output's queue.");
OUTPUT_COUNTER(fam_out_sent, "sonde_output_samples_sent_total", "Records the backend accepted.");
OUTPUT_COUNTER(fam_out_rejected, "sonde_output_samples_rejected_total",
               "Records the backend refused (400, 404, 422 ...): dropped.");
OUTPUT_COUNTER(fam_out_dropped, "sonde_output_samples_dropped_total",
               "Records dropped unsent: queue full, spool cap reached, write error.");
OUTPUT_COUNTER(fam_out_corrupt, "sonde_output_spool_corrupt_records_total",
               "Spool records found corrupt on replay and skipped.");
OUTPUT_COUNTER(fam_out_retries, "sonde_output_retries_total",
               "Requests that failed and will be repeated.");
OUTPUT_COUNTER(fam_out_requests, "sonde_output_requests_total", "HTTP requests made.");
static const struct sonde_family fam_out_queue_bytes = {
    "sonde_output_queue_bytes", SONDE_GAUGE, "Bytes waiting in the output's memory queue."};
static const struct sonde_family fam_out_spool_bytes = {"sonde_output_spool_bytes", SONDE_GAUGE,
                                                        "Bytes of the output's disk spool."};
static const struct sonde_family fam_out_last_success = {
    "sonde_output_last_success_timestamp_seconds", SONDE_GAUGE,
    "When the backend last accepted a request (0: never)."};
static const struct sonde_family fam_out_duration = {"sonde_output_send_duration_seconds",
                                                     SONDE_GAUGE, "Duration of the last request."};

/* Queue and sender figures of a push output. */
static void selfmetrics_push(struct sonde_batch *b, const struct agent_output *out)
{
    const char *name = out->cfg->name;
    struct outq_stats q;
    outq_get_stats(out->queue, &q);
    const struct sender_stats *s = sender_stats(out->sender);
    sonde_emit(b, &fam_out_queued, (double)q.queued_records, "output", name, NULL);
    sonde_emit(b, &fam_out_sent, (double)atomic_load(&s->sent_records), "output", name, NULL);
    sonde_emit(b, &fam_out_rejected, (double)atomic_load(&s->rejected_records), "output", name,
               NULL);
    sonde_emit(b, &fam_out_dropped, (double)q.dropped_records, "output", name, NULL);
    sonde_emit(b, &fam_out_corrupt, (double)q.corrupt_records, "output", name, NULL);
    sonde_emit(b, &fam_out_retries, (double)atomic_load(&s->retries), "output", name, NULL);
    sonde_emit(b, &fam_out_requests, (double)atomic_load(&s->requests), "output", name, NULL);
    bool spool = out->cfg->push.spool_dir != NULL;
    sonde_emit(b, spool ? &fam_out_spool_bytes : &fam_out_queue_bytes, (double)q.bytes, "output",
               name, NULL);
    sonde_emit(b, &fam_out_last_success, (double)atomic_load(&s->last_success_ns) / 1e9, "output",
               name, NULL);
    sonde_emit(b, &fam_out_duration, (double)atomic_load(&s->last_duration_ns) / 1e9, "output",
               name, NULL);
}

static const struct sonde_family fam_scrape_duration = {
    "node_scrape_collector_duration_seconds", SONDE_GAUGE,
    "node_exporter: Duration of a collector scrape."};
static const struct sonde_family fam_scrape_success = {
    "node_scrape_collector_success", SONDE_GAUGE, "node_exporter: Whether a collector succeeded."};

/* node_exporter's per-collector self-metrics, under its collector names;
 * with several instances of one plugin, the first one speaks for it. */
static void selfmetrics_collectors(struct sonde_batch *b, const struct agent *agent)
{
    for (size_t i = 0; i < agent->ninputs; i++) {
        const struct agent_input *in = &agent->inputs[i];
        const char *collector = registry_collector_name(in->cfg->plugin);
        bool first = collector != NULL;
        for (size_t j = 0; first && j < i; j++)
            first = agent->inputs[j].cfg->plugin != in->cfg->plugin;
        if (!first)
            continue;
        sonde_emit(b, &fam_scrape_duration, in->last_duration_s, "collector", collector, NULL);
        sonde_emit(b, &fam_scrape_success, in->ready && in->reads && in->last_rc == 0, "collector",
                   collector, NULL);
    }
}

static const struct sonde_family fam_cpu = {"process_cpu_seconds_total", SONDE_COUNTER,
                                            "Total user and system CPU time spent in seconds."};
static const struct sonde_family fam_rss = {"process_resident_memory_bytes", SONDE_GAUGE,
                                            "Resident memory size in bytes."};
static const struct sonde_family fam_vsz = {"process_virtual_memory_bytes", SONDE_GAUGE,
                                            "Virtual memory size in bytes."};
static const struct sonde_family fam_start = {
    "process_start_time_seconds", SONDE_GAUGE,
    "Start time of the process since unix epoch in seconds."};

/* CPU seconds of this process from getrusage (every thread, to the
 * microsecond), its memory from /proc/self/statm (kept open: read every
 * round; far cheaper for the kernel than /proc/self/stat). */
static void selfmetrics_process(struct sonde_batch *b, struct sonde_file *statm)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        sonde_emit(b, &fam_cpu,
                   (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
                   NULL);
    if (sonde_file_read(statm) < 0)
        return;
    /* size resident shared text lib data dt, in pages */
    char *end;
    unsigned long long size = strtoull(statm->buf, &end, 10);
    if (end == statm->buf)
        return;
    const char *p = end;
    unsigned long long resident = strtoull(p, &end, 10);
    if (end == p)
        return;
    double page = (double)sysconf(_SC_PAGESIZE);
    sonde_emit(b, &fam_vsz, (double)size * page, NULL);
    sonde_emit(b, &fam_rss, (double)resident * page, NULL);
}

struct sonde_batch *selfmetrics_batch(struct agent *agent)
{
    struct sonde_batch *b = batch_new("sonde");
    b->timestamp_ns = clock_realtime_ns();
    sonde_emit(b, &fam_build_info, 1, "version", SONDE_VERSION, NULL);
    for (size_t i = 0; i < agent->ninputs; i++) {
        const struct agent_input *in = &agent->inputs[i];
        const char *name = in->cfg->name;
        sonde_emit(b, &fam_read_duration, in->last_duration_s, "input", name, NULL);
        sonde_emit(b, &fam_read_success, in->ready && in->reads && in->last_rc == 0, "input", name,
                   NULL);
        sonde_emit(b, &fam_reads, (double)in->reads, "input", name, NULL);
        sonde_emit(b, &fam_read_errors, (double)in->errors, "input", name, NULL);
        sonde_emit(b, &fam_cycles_skipped, (double)in->cycles_skipped, "input", name, NULL);
        sonde_emit(b, &fam_samples_skipped, (double)in->samples_skipped, "input", name, NULL);
    }
    for (size_t i = 0; i < agent->noutputs; i++) {
        const struct agent_output *out = &agent->outputs[i];
        if (!out->cfg)
            continue;
        sonde_emit(b, &fam_output_writes, (double)out->writes, "output", out->cfg->name, NULL);
        sonde_emit(b, &fam_output_errors, (double)out->errors, "output", out->cfg->name, NULL);
        if (out->sender)
            selfmetrics_push(b, out);
    }
    sonde_emit(b, &fam_scrapes, (double)atomic_load(&agent->scrapes), NULL);
    sonde_emit(b, &fam_scrape_errors, (double)atomic_load(&agent->scrape_errors), NULL);
    sonde_emit(b, &fam_renders, (double)atomic_load(&agent->renders), NULL);
    sonde_emit(b, &fam_lp_skipped, (double)agent->lp_stats.nonfinite_fields, NULL);
    selfmetrics_collectors(b, agent);
    selfmetrics_process(b, &agent->self_statm);
    sonde_emit(b, &fam_start, (double)agent->start_time_ns / 1e9, NULL);
    batch_finish(b);
    return b;
}
