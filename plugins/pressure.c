/*
 * pressure.c - the `pressure` input: pressure stall information from
 * /proc/pressure/{cpu,io,memory} as node_exporter 1.5's pressure collector,
 * plus /proc/pressure/irq (node_exporter 1.8's irq_stalled) where the kernel
 * has it. No line protocol: Telegraf of node_exporter 1.5's time has no PSI
 * input (later Telegraf puts it in inputs.kernel, collect = ["psi"]).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct pressure_config {
    char unused; /* no options; keeps the struct non-empty (ISO C) */
};

static const struct sonde_option pressure_options[] = {
    {NULL},
};

/* One resource file and the families of its "some" and "full" lines (NULL:
 * node_exporter does not export that line, e.g. cpu's "full"). */
static const struct sonde_family pressure_cpu_some = {
    "node_pressure_cpu_waiting_seconds_total", SONDE_COUNTER,
    "Total time in seconds that processes have waited for CPU time"};
static const struct sonde_family pressure_io_some = {
    "node_pressure_io_waiting_seconds_total", SONDE_COUNTER,
    "Total time in seconds that processes have waited due to IO congestion"};
static const struct sonde_family pressure_io_full = {
    "node_pressure_io_stalled_seconds_total", SONDE_COUNTER,
    "Total time in seconds no process could make progress due to IO congestion"};
static const struct sonde_family pressure_memory_some = {
    "node_pressure_memory_waiting_seconds_total", SONDE_COUNTER,
    "Total time in seconds that processes have waited for memory"};
static const struct sonde_family pressure_memory_full = {
    "node_pressure_memory_stalled_seconds_total", SONDE_COUNTER,
    "Total time in seconds no process could make progress due to memory congestion"};
static const struct sonde_family pressure_irq_full = {
    "node_pressure_irq_stalled_seconds_total", SONDE_COUNTER,
    "Total time in seconds no process could make progress due to IRQ congestion"};

static const struct {
    const char *file;
    const struct sonde_family *some, *full;
    bool optional; /* absent: skipped, the others still read */
} pressure_resources[] = {
    {"cpu", &pressure_cpu_some, NULL, false},
    {"io", &pressure_io_some, &pressure_io_full, false},
    {"memory", &pressure_memory_some, &pressure_memory_full, false},
    {"irq", NULL, &pressure_irq_full, true},
};
#define PRESSURE_NRESOURCES (sizeof(pressure_resources) / sizeof(pressure_resources[0]))

/* What one file says; totals are microseconds of stall. */
struct pressure_stats {
    bool has_some, has_full;
    uint64_t some_total, full_total;
};

struct pressure_state {
    struct sonde_file files[PRESSURE_NRESOURCES]; /* <procfs>/pressure/<resource> */
    struct sonde_ratelimit malformed_log;
};

/* Parses "avg10=F avg60=F avg300=F total=N" (the part after some/full).
 * The averages are checked but unused: node_exporter exports only totals. */
static int pressure_parse_values(const char *p, const char *end, uint64_t *total)
{
    static const char *const keys[] = {"avg10=", "avg60=", "avg300=", "total="};
    for (size_t k = 0; k < 4; k++) {
        size_t klen = strlen(keys[k]);
        if (p >= end || *p != ' ')
            return -EINVAL;
        p++;
        if ((size_t)(end - p) < klen || memcmp(p, keys[k], klen) != 0)
            return -EINVAL;
        p += klen;
        if (p >= end || *p < '0' || *p > '9')
            return -EINVAL;
        char *stop;
        errno = 0;
        if (k < 3) {
            (void)strtod(p, &stop);
        } else {
            unsigned long long v = strtoull(p, &stop, 10);
            if (errno == ERANGE)
                return -EINVAL;
            *total = v;
        }
        if (stop > end || stop == p)
            return -EINVAL;
        p = stop;
    }
    return p == end ? 0 : -EINVAL;
}

/* Parses a whole /proc/pressure file. Lines other than some/full are
 * ignored (a future kernel may add kinds); a malformed some/full line makes
 * the file malformed: -EINVAL. */
static int pressure_parse(const char *buf, struct pressure_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        bool word4 = end - line >= 4 && (end - line == 4 || line[4] == ' ');
        if (word4 && memcmp(line, "some", 4) == 0) {
            if (pressure_parse_values(line + 4, end, &stats->some_total) < 0)
                return -EINVAL;
            stats->has_some = true;
        } else if (word4 && memcmp(line, "full", 4) == 0) {
            if (pressure_parse_values(line + 4, end, &stats->full_total) < 0)
                return -EINVAL;
            stats->has_full = true;
        }
        line = nl ? nl + 1 : end;
    }
    return 0;
}

/* Emits one line's total in seconds; a line node_exporter needs but the
 * file lacks is counted as skipped (node_exporter 1.5 would crash on it). */
static void pressure_emit(struct sonde_batch *batch, const struct sonde_family *family, bool has,
                          uint64_t total_us)
{
    if (!family)
        return;
    if (!has) {
        batch->skipped++;
        return;
    }
    sonde_emit(batch, family, (double)total_us / 1000.0 / 1000.0, NULL);
}

static int pressure_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    struct pressure_state *st = sonde_xcalloc(1, sizeof(*st));
    for (size_t i = 0; i < PRESSURE_NRESOURCES; i++) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/pressure/%s", ctx->procfs,
                     pressure_resources[i].file) >= (int)sizeof(path)) {
            for (size_t j = 0; j < i; j++)
                sonde_file_close(&st->files[j]);
            free(st);
            return -ENAMETOOLONG;
        }
        sonde_file_init(&st->files[i], path);
    }
    *state = st;
    return 0;
}

static int pressure_read(void *state, struct sonde_batch *batch)
{
    struct pressure_state *st = state;
    if (!batch->want_series)
        return 0; /* nothing for line protocol */
    for (size_t i = 0; i < PRESSURE_NRESOURCES; i++) {
        int rc = sonde_file_read(&st->files[i]);
        if (rc == -ENOENT && pressure_resources[i].optional)
            continue;
        if (rc == -ENOENT) {
            /* No PSI (kernel < 4.20 or CONFIG_PSI off): not an error, and
             * node_exporter stops at the first missing resource. */
            sonde_log_limited(&st->malformed_log, 3600, SONDE_LOG_DEBUG,
                              "pressure: %s missing: no pressure stall information",
                              st->files[i].path);
            return 0;
        }
        if (rc < 0)
            return rc;
        struct pressure_stats stats;
        if (pressure_parse(st->files[i].buf, &stats) < 0) {
            batch->skipped++;
            sonde_log_limited(&st->malformed_log, 300, SONDE_LOG_WARN, "pressure: %s: malformed",
                              st->files[i].path);
            return -EINVAL; /* node_exporter fails the collector */
        }
        pressure_emit(batch, pressure_resources[i].some, stats.has_some, stats.some_total);
        pressure_emit(batch, pressure_resources[i].full, stats.has_full, stats.full_total);
    }
    return 0;
}

static void pressure_destroy(void *state)
{
    struct pressure_state *st = state;
    if (!st)
        return;
    for (size_t i = 0; i < PRESSURE_NRESOURCES; i++)
        sonde_file_close(&st->files[i]);
    free(st);
}

const struct sonde_plugin sonde_plugin_pressure = {
    .name = "pressure",                                  /* node_exporter's collector */
    .kind = SONDE_INPUT,                                 /* reads the host */
    .summary = "Pressure stall totals (/proc/pressure)", /* for --help and docs */
    .config_size = sizeof(struct pressure_config),       /* no options */
    .options = pressure_options,                         /* empty table */
    .init = pressure_init,                               /* opens nothing yet */
    .read = pressure_read,                               /* node_pressure_* */
    .write = NULL,                                       /* inputs do not write */
    .destroy = pressure_destroy,                         /* closes the files */
};
