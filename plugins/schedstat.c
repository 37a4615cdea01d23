/*
 * schedstat.c - the `schedstat` input: per-CPU scheduler time from
 * /proc/schedstat (kernels with CONFIG_SCHEDSTATS) as node_exporter's
 * schedstat collector. No line protocol: Telegraf has no such input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct schedstat_config {
    char unused; /* no options; keeps the struct non-empty (ISO C) */
};

static const struct sonde_option schedstat_options[] = {
    {NULL},
};

static const struct sonde_family schedstat_running_family = {
    "node_schedstat_running_seconds_total", SONDE_COUNTER,
    "Number of seconds CPU spent running a process."};
static const struct sonde_family schedstat_waiting_family = {
    "node_schedstat_waiting_seconds_total", SONDE_COUNTER,
    "Number of seconds spent by processing waiting for this CPU."};
static const struct sonde_family schedstat_timeslices_family = {
    "node_schedstat_timeslices_total", SONDE_COUNTER, "Number of timeslices executed by CPU."};

/* A cpuN line: nine counters; the 7th to 9th are what node_exporter reads
 * (see Documentation/scheduler/sched-stats.rst). */
#define SCHEDSTAT_COLUMNS 9

struct schedstat_cpu {
    char id[24];         /* N of "cpuN", as printed */
    uint64_t running_ns; /* time spent running tasks */
    uint64_t waiting_ns; /* time tasks spent waiting to run */
    uint64_t timeslices; /* tasks run */
};

struct schedstat_state {
    struct sonde_file file; /* <procfs>/schedstat */
    struct sonde_ratelimit log;
};

/* Parses one line (without its newline). Returns 1 for a cpu line, 0 for
 * another line (version, timestamp, domainN), -EINVAL for a cpu line that
 * does not hold "cpuN" and nine numbers separated by single spaces (the
 * form node_exporter's regular expression accepts; more columns are
 * fine). */
static int schedstat_parse_line(const char *line, const char *end, struct schedstat_cpu *cpu)
{
    if (end - line < 3 || memcmp(line, "cpu", 3) != 0)
        return 0;
    const char *p = line + 3, *id = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    size_t idlen = (size_t)(p - id);
    if (idlen == 0 || idlen >= sizeof(cpu->id))
        return -EINVAL;
    uint64_t v[SCHEDSTAT_COLUMNS];
    for (size_t i = 0; i < SCHEDSTAT_COLUMNS; i++) {
        if (p + 1 >= end || *p != ' ' || p[1] < '0' || p[1] > '9')
            return -EINVAL;
        char *stop;
        errno = 0;
        unsigned long long n = strtoull(p + 1, &stop, 10);
        if (errno == ERANGE || stop > end || (stop < end && *stop != ' '))
            return -EINVAL;
        v[i] = n;
        p = stop;
    }
    memcpy(cpu->id, id, idlen);
    cpu->id[idlen] = '\0';
    cpu->running_ns = v[6];
    cpu->waiting_ns = v[7];
    cpu->timeslices = v[8];
    return 1;
}

/* Emits the three counters of every cpu line of `buf`; malformed cpu
 * lines are skipped and counted. */
static void schedstat_process(const char *buf, struct sonde_batch *batch)
{
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        struct schedstat_cpu cpu;
        int rc = schedstat_parse_line(line, end, &cpu);
        if (rc < 0) {
            batch->skipped++;
        } else if (rc == 1) {
            sonde_emit(batch, &schedstat_running_family, (double)cpu.running_ns / 1e9, "cpu",
                       cpu.id, NULL);
            sonde_emit(batch, &schedstat_waiting_family, (double)cpu.waiting_ns / 1e9, "cpu",
                       cpu.id, NULL);
            sonde_emit(batch, &schedstat_timeslices_family, (double)cpu.timeslices, "cpu", cpu.id,
                       NULL);
        }
        line = nl ? nl + 1 : end;
    }
}

static int schedstat_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/schedstat", ctx->procfs) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    struct schedstat_state *st = sonde_xcalloc(1, sizeof(*st));
    sonde_file_init(&st->file, path);
    *state = st;
    return 0;
}

static int schedstat_read(void *state, struct sonde_batch *batch)
{
    struct schedstat_state *st = state;
    if (!batch->want_series)
        return 0; /* nothing for line protocol */
    int rc = sonde_file_read(&st->file);
    if (rc == -ENOENT) {
        /* No CONFIG_SCHEDSTATS. node_exporter answers "no data", which
         * still shows as node_scrape_collector_success 0: so -ENODATA. */
        sonde_log_limited(&st->log, 3600, SONDE_LOG_DEBUG, "schedstat: %s does not exist",
                          st->file.path);
        return -ENODATA;
    }
    if (rc < 0)
        return rc;
    uint64_t before = batch->skipped;
    schedstat_process(st->file.buf, batch);
    if (batch->skipped > before)
        sonde_log_limited(&st->log, 300, SONDE_LOG_WARN,
                          "schedstat: %s: skipped %llu malformed cpu line(s)", st->file.path,
                          (unsigned long long)(batch->skipped - before));
    return 0;
}

static void schedstat_destroy(void *state)
{
    struct schedstat_state *st = state;
    if (!st)
        return;
    sonde_file_close(&st->file);
    free(st);
}

const struct sonde_plugin sonde_plugin_schedstat = {
    .name = "schedstat",                              /* node_exporter's collector */
    .kind = SONDE_INPUT,                              /* reads the host */
    .summary = "Scheduler run and wait time per CPU", /* for --help and docs */
    .config_size = sizeof(struct schedstat_config),   /* no options */
    .options = schedstat_options,                     /* empty table */
    .init = schedstat_init,                           /* opens nothing yet */
    .read = schedstat_read,                           /* node_schedstat_* */
    .write = NULL,                                    /* inputs do not write */
    .destroy = schedstat_destroy,                     /* closes the file */
};
