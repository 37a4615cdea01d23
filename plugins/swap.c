/*
 * swap.c - the `swap` input: Telegraf's inputs.swap (measurement "swap")
 * from /proc/meminfo (SwapTotal, SwapFree) and /proc/vmstat (pswpin,
 * pswpout). No Prometheus output: node_exporter exports swap through its
 * meminfo and vmstat collectors, which the mem and kernel inputs own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde.h"

/* No options: Telegraf's inputs.swap has none. */
struct swap_config {
    int unused; /* keeps the struct non-empty (C11) */
};

static const struct sonde_option swap_options[] = {
    {NULL},
};

/* What one read yields; `have_*` say which lines were found and valid.
 * A point is written only from lines that were: never a made-up 0. */
struct swap_stats {
    uint64_t total, free; /* bytes */
    uint64_t pages_in, pages_out;
    bool have_total, have_free, have_in, have_out;
    uint64_t skipped; /* wanted lines missing or malformed */
};

/* Parses the decimal number that starts `s` (after blanks) and must be
 * followed by a blank, a newline or the end; 0 or -EINVAL/-ERANGE. */
static int swap_parse_u64(const char *s, const char **rest, uint64_t *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -EINVAL; /* strtoull would take "-1" */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return -ERANGE;
    if (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n')
        return -EINVAL;
    *out = v;
    *rest = end;
    return 0;
}

/* Finds the line that starts with `key` (which includes its separator, "SwapTotal:"
 * or "pswpin ") at the start of a line; NULL when absent. */
static const char *swap_find_line(const char *buf, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = buf; line && *line;) {
        if (strncmp(line, key, klen) == 0)
            return line + klen;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

/* "SwapTotal:  2097148 kB" -> bytes. Returns 0, -ENOENT or -EINVAL. */
static int swap_meminfo_value(const char *buf, const char *key, uint64_t *bytes)
{
    const char *p = swap_find_line(buf, key);
    if (!p)
        return -ENOENT;
    uint64_t kb;
    const char *rest;
    if (swap_parse_u64(p, &rest, &kb) < 0)
        return -EINVAL;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (strncmp(rest, "kB", 2) != 0 || kb > UINT64_MAX / 1024)
        return -EINVAL;
    *bytes = kb * 1024;
    return 0;
}

/* Fills total and free from /proc/meminfo in `buf`. A missing or malformed
 * line leaves have_* false and is counted in st->skipped. */
static void swap_parse_meminfo(const char *buf, struct swap_stats *st)
{
    st->have_total = swap_meminfo_value(buf, "SwapTotal:", &st->total) == 0;
    st->have_free = swap_meminfo_value(buf, "SwapFree:", &st->free) == 0;
    st->skipped += !st->have_total + !st->have_free;
}

/* "pswpin 1234" -> pages. Returns 0, -ENOENT or -EINVAL. */
static int swap_vmstat_value(const char *buf, const char *key, uint64_t *pages)
{
    const char *p = swap_find_line(buf, key);
    if (!p)
        return -ENOENT;
    const char *rest;
    return swap_parse_u64(p, &rest, pages) < 0 ? -EINVAL : 0;
}

/* Fills pages_in and pages_out from /proc/vmstat in `buf`; a missing or
 * malformed line is counted in st->skipped. */
static void swap_parse_vmstat(const char *buf, struct swap_stats *st)
{
    st->have_in = swap_vmstat_value(buf, "pswpin ", &st->pages_in) == 0;
    st->have_out = swap_vmstat_value(buf, "pswpout ", &st->pages_out) == 0;
    st->skipped += !st->have_in + !st->have_out;
}

/* Telegraf writes uint64 as an int field, clamped to the int64 range. */
static int64_t swap_int(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* ---- The plugin ---- */

struct swap_state {
    struct sonde_file meminfo; /* <procfs>/meminfo, kept open */
    struct sonde_file vmstat;  /* <procfs>/vmstat, kept open */
    uint64_t page_size;        /* bytes per pswpin/pswpout page */
};

static int swap_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char meminfo[4096], vmstat[4096];
    if (snprintf(meminfo, sizeof(meminfo), "%s/meminfo", ctx->procfs) >= (int)sizeof(meminfo) ||
        snprintf(vmstat, sizeof(vmstat), "%s/vmstat", ctx->procfs) >= (int)sizeof(vmstat))
        return -ENAMETOOLONG;
    struct swap_state *st = sonde_xcalloc(1, sizeof(*st));
    sonde_file_init(&st->meminfo, meminfo);
    sonde_file_init(&st->vmstat, vmstat);
    /* gopsutil multiplies by a fixed 4 KiB; the real page size is the same on
     * x86-64 and right on 16/64 KiB-page arm64 and ppc64 kernels. */
    long ps = sysconf(_SC_PAGESIZE);
    st->page_size = ps > 0 ? (uint64_t)ps : 4096;
    *state = st;
    return 0;
}

/* Two points, as Telegraf writes them: the gauges, then the counters. */
static void swap_emit(const struct swap_stats *s, uint64_t page_size, struct sonde_batch *batch)
{
    if (s->have_total && s->have_free) {
        uint64_t used = s->total > s->free ? s->total - s->free : 0;
        struct sonde_point *p = sonde_point(batch, "swap");
        sonde_point_int(batch, p, "total", swap_int(s->total));
        sonde_point_int(batch, p, "used", swap_int(used));
        sonde_point_int(batch, p, "free", swap_int(s->free));
        /* gopsutil: used / total * 100, and 0 without swap. */
        sonde_point_float(batch, p, "used_percent",
                          s->total ? (double)used / (double)s->total * 100.0 : 0.0);
    }
    if (s->have_in || s->have_out) {
        struct sonde_point *p = sonde_point(batch, "swap");
        if (s->have_in)
            sonde_point_int(batch, p, "in", swap_int(s->pages_in * page_size));
        if (s->have_out)
            sonde_point_int(batch, p, "out", swap_int(s->pages_out * page_size));
    }
}

static int swap_read(void *state, struct sonde_batch *batch)
{
    struct swap_state *st = state;
    struct swap_stats s = {0};
    if (!batch->want_points) /* swap is line protocol only */
        return 0;
    int rc = sonde_file_read(&st->meminfo);
    if (rc < 0)
        return rc;
    swap_parse_meminfo(st->meminfo.buf, &s);
    int vm_rc = sonde_file_read(&st->vmstat);
    if (vm_rc == 0)
        swap_parse_vmstat(st->vmstat.buf, &s);
    batch->skipped += s.skipped;
    swap_emit(&s, st->page_size, batch);
    return vm_rc; /* the gauges are still published when vmstat failed */
}

static void swap_destroy(void *state)
{
    struct swap_state *st = state;
    if (!st)
        return;
    sonde_file_close(&st->meminfo);
    sonde_file_close(&st->vmstat);
    free(st);
}

const struct sonde_plugin sonde_plugin_swap = {
    .name = "swap",                                  /* config key */
    .kind = SONDE_INPUT,                             /* an input */
    .summary = "Swap usage and swap-in/out traffic", /* for --help and docs */
    .config_size = sizeof(struct swap_config),       /* no options */
    .options = swap_options,                         /* empty table */
    .init = swap_init,                               /* opens nothing yet */
    .read = swap_read,                               /* line protocol "swap" only */
    .write = NULL,                                   /* not an output */
    .destroy = swap_destroy,                         /* closes the files, frees the state */
};
