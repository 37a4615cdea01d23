/*
 * softnet.c - the `softnet` input: per-CPU packet processing counters from
 * /proc/net/softnet_stat as node_exporter 1.5's softnet collector
 * (node_softnet_{processed,dropped,times_squeezed}_total{cpu}).
 * Prometheus only: Telegraf has no input for this file.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

/* No options: node_exporter's collector has none. */
struct softnet_config {
    int unused; /* keeps the struct non-empty (C11) */
};

static const struct sonde_option softnet_options[] = {
    {NULL},
};

/* Kernels since 2.6.23 print at least 9 columns; node_exporter 1.5 (procfs)
 * refuses shorter lines and reads the first three. */
#define SOFTNET_MIN_COLUMNS 9

enum softnet_column { SOFTNET_PROCESSED, SOFTNET_DROPPED, SOFTNET_SQUEEZED, SOFTNET_NCOLUMNS };

static const struct sonde_family softnet_families[SOFTNET_NCOLUMNS] = {
    {"node_softnet_processed_total", SONDE_COUNTER, "Number of processed packets"},
    {"node_softnet_dropped_total", SONDE_COUNTER, "Number of dropped packets"},
    {"node_softnet_times_squeezed_total", SONDE_COUNTER,
     "Number of times processing packets ran out of quota"},
};

struct softnet_state {
    struct sonde_file file; /* <procfs>/net/softnet_stat, kept open */
    struct sonde_ratelimit badlog;
};

static bool softnet_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* A word of 1 to 8 hex digits (the kernel's %08x of a 32-bit counter). */
static int softnet_parse_hex32(const char *word, size_t len, uint32_t *out)
{
    if (len == 0 || len > 16)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char c = word[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
        v = v * 16 + d;
    }
    if (v > UINT32_MAX)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* Parses one line [line, end): the first three columns into `out`.
 * Returns 0, -ENODATA for a blank line, -EINVAL for a short or bad line. */
static int softnet_parse_line(const char *line, const char *end, uint32_t out[SOFTNET_NCOLUMNS])
{
    size_t ncolumns = 0;
    const char *p = line;
    for (;;) {
        while (p < end && softnet_is_blank(*p))
            p++;
        if (p == end)
            break;
        const char *word = p;
        while (p < end && !softnet_is_blank(*p))
            p++;
        if (ncolumns < SOFTNET_NCOLUMNS &&
            softnet_parse_hex32(word, (size_t)(p - word), &out[ncolumns]) < 0)
            return -EINVAL;
        ncolumns++;
    }
    if (ncolumns == 0)
        return -ENODATA;
    return ncolumns < SOFTNET_MIN_COLUMNS ? -EINVAL : 0;
}

static int softnet_init(void **out, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/net/softnet_stat", ctx->procfs) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    struct softnet_state *st = sonde_xcalloc(1, sizeof(*st));
    sonde_file_init(&st->file, path);
    *out = st;
    return 0;
}

/*
 * One line per online CPU. node_exporter 1.5 labels each with its line
 * number, not the CPU id of the 13th column (that came later): the two
 * differ only when CPUs are offline. A bad line keeps its number so that
 * the lines after it keep theirs.
 */
static int softnet_read(void *arg, struct sonde_batch *batch)
{
    struct softnet_state *st = arg;
    if (!batch->want_series)
        return 0; /* nothing to write as line protocol */
    int rc = sonde_file_read(&st->file);
    if (rc < 0)
        return rc;
    unsigned index = 0;
    uint64_t bad = 0;
    for (const char *line = st->file.buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        uint32_t v[SOFTNET_NCOLUMNS];
        rc = softnet_parse_line(line, end, v);
        line = nl ? nl + 1 : end;
        if (rc == -ENODATA)
            continue;
        char cpu[16];
        snprintf(cpu, sizeof(cpu), "%u", index++);
        if (rc < 0) {
            bad++;
            continue;
        }
        for (size_t c = 0; c < SOFTNET_NCOLUMNS; c++)
            sonde_emit(batch, &softnet_families[c], (double)v[c], "cpu", cpu, NULL);
    }
    if (bad) {
        batch->skipped += bad;
        sonde_log_limited(&st->badlog, 300, SONDE_LOG_WARN,
                          "softnet: %s: skipped %llu malformed line(s)", st->file.path,
                          (unsigned long long)bad);
    }
    return 0;
}

static void softnet_destroy(void *arg)
{
    struct softnet_state *st = arg;
    if (!st)
        return;
    sonde_file_close(&st->file);
    free(st);
}

const struct sonde_plugin sonde_plugin_softnet = {
    .name = "softnet",   /* configuration key, node_exporter's name */
    .kind = SONDE_INPUT, /* reads the host */
    .summary = "Per-CPU softirq packet counters (/proc/net/softnet_stat)", /* for --help */
    .config_size = sizeof(struct softnet_config),                          /* no options */
    .options = softnet_options,                                            /* empty */
    .init = softnet_init,                                                  /* opens nothing yet */
    .read = softnet_read,       /* node_softnet_*_total{cpu} */
    .write = NULL,              /* inputs do not write */
    .destroy = softnet_destroy, /* closes the file */
};
