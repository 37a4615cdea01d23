/*
 * conntrack.c - the `conntrack` input: netfilter's nf_conntrack_{count,max} sysctls and
 * /proc/net/stat/nf_conntrack as node_exporter's conntrack collector (node_nf_conntrack_*) and
 * as Telegraf's inputs.conntrack ("conntrack"; its per-CPU statistics with `collect`).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct conntrack_config {
    struct sonde_strings collect; /* Telegraf's collect: "all", "percpu" */
};

static const struct sonde_option conntrack_options[] = {
    {"collect", SONDE_OPT_STRING_LIST, offsetof(struct conntrack_config, collect), NULL, false,
     "line protocol: also /proc/net/stat/nf_conntrack, \"all\" (summed, cpu=all) or \"percpu\""},
    {NULL},
};

/* The columns of /proc/net/stat/nf_conntrack, by position: kernels since
 * 2.6.35 print 17 (older ones 16, without search_restart). Since Linux 5.x
 * some positions carry other counters under other header names (clashres,
 * chainlength); node_exporter and Telegraf both read by position, and so do we. */
#define CONNTRACK_COLUMNS 17

enum conntrack_column {
    CT_ENTRIES,
    CT_SEARCHED,
    CT_FOUND,
    CT_NEW,
    CT_INVALID,
    CT_IGNORE,
    CT_DELETE,
    CT_DELETE_LIST,
    CT_INSERT,
    CT_INSERT_FAILED,
    CT_DROP,
    CT_EARLY_DROP,
    CT_ICMP_ERROR,
    CT_EXPECT_NEW,
    CT_EXPECT_CREATE,
    CT_EXPECT_DELETE,
    CT_SEARCH_RESTART,
};

/* Telegraf's field names, in column order. */
static const char *const conntrack_lp_fields[CONNTRACK_COLUMNS] = {
    "entries",    "searched",    "found",         "new",           "invalid",       "ignore",
    "delete",     "delete_list", "insert",        "insert_failed", "drop",          "early_drop",
    "icmp_error", "expect_new",  "expect_create", "expect_delete", "search_restart"};

/* node_exporter's stat gauges and the column each one sums. */
static const struct {
    struct sonde_family family;
    enum conntrack_column column;
} conntrack_stats[] = {
    {{"node_nf_conntrack_stat_found", SONDE_GAUGE,
      "Number of searched entries which were successful."},
     CT_FOUND},
    {{"node_nf_conntrack_stat_invalid", SONDE_GAUGE,
      "Number of packets seen which can not be tracked."},
     CT_INVALID},
    {{"node_nf_conntrack_stat_ignore", SONDE_GAUGE,
      "Number of packets seen which are already connected to a conntrack entry."},
     CT_IGNORE},
    {{"node_nf_conntrack_stat_insert", SONDE_GAUGE, "Number of entries inserted into the list."},
     CT_INSERT},
    {{"node_nf_conntrack_stat_insert_failed", SONDE_GAUGE,
      "Number of entries for which list insertion was attempted but failed."},
     CT_INSERT_FAILED},
    {{"node_nf_conntrack_stat_drop", SONDE_GAUGE,
      "Number of packets dropped due to conntrack failure."},
     CT_DROP},
    {{"node_nf_conntrack_stat_early_drop", SONDE_GAUGE,
      "Number of dropped conntrack entries to make room for new ones, if maximum table size "
      "was reached."},
     CT_EARLY_DROP},
    {{"node_nf_conntrack_stat_search_restart", SONDE_GAUGE,
      "Number of conntrack table lookups which had to be restarted due to hashtable resizes."},
     CT_SEARCH_RESTART},
};

static const struct sonde_family conntrack_entries_family = {
    "node_nf_conntrack_entries", SONDE_GAUGE,
    "Number of currently allocated flow entries for connection tracking."};
static const struct sonde_family conntrack_limit_family = {
    "node_nf_conntrack_entries_limit", SONDE_GAUGE, "Maximum size of connection tracking table."};

/* One CPU's line of the statistics file. */
struct conntrack_cpu {
    uint64_t column[CONNTRACK_COLUMNS]; /* a 16-column line leaves search_restart 0 */
    size_t ncolumns;                    /* 16 or 17 */
};

/* One parse of the statistics file; `cpus` is reused across reads (freed
 * by conntrack_stat_free). */
struct conntrack_stat {
    struct conntrack_cpu *cpus;
    size_t n, cap;
    uint64_t skipped; /* malformed lines */
};

enum conntrack_file { CT_FILE_COUNT, CT_FILE_MAX, CT_FILE_STAT, CT_NFILES };

struct conntrack_state {
    struct sonde_file files[CT_NFILES];
    struct conntrack_stat stat;
    bool lp_all;    /* Telegraf's collect = ["all"] */
    bool lp_percpu; /* collect has "percpu" (which then replaces "all", as in Telegraf) */
    struct sonde_ratelimit badlog;
};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

static bool conntrack_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The one unsigned decimal of a sysctl file ("262144\n"). 0 or -EINVAL. */
static int conntrack_parse_sysctl(const char *buf, uint64_t *out)
{
    const char *p = buf;
    while (conntrack_is_blank(*p) || *p == '\n')
        p++;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    char *stop;
    errno = 0;
    unsigned long long v = strtoull(p, &stop, 10);
    if (errno == ERANGE)
        return -EINVAL;
    for (const char *q = stop; *q; q++)
        if (!conntrack_is_blank(*q) && *q != '\n')
            return -EINVAL;
    *out = v;
    return 0;
}

/* A word of 1 to 16 hex digits. 0 or -EINVAL. */
static int conntrack_parse_hex(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 16)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
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
    *out = v;
    return 0;
}

/* One CPU line [line, end). Returns 0, -ENODATA for a blank line or a
 * header, -EINVAL when the line is not 16 or 17 hex numbers. */
static int conntrack_parse_line(const char *line, const char *end, struct conntrack_cpu *cpu)
{
    memset(cpu, 0, sizeof(*cpu));
    size_t n = 0;
    for (const char *p = line;;) {
        while (p < end && conntrack_is_blank(*p))
            p++;
        if (p == end)
            break;
        const char *w = p;
        while (p < end && !conntrack_is_blank(*p))
            p++;
        if (n == 0 && p - w == 7 && memcmp(w, "entries", 7) == 0)
            return -ENODATA;
        if (n == CONNTRACK_COLUMNS || conntrack_parse_hex(w, (size_t)(p - w), &cpu->column[n]) < 0)
            return -EINVAL;
        n++;
    }
    if (n == 0)
        return -ENODATA;
    if (n < CONNTRACK_COLUMNS - 1)
        return -EINVAL;
    cpu->ncolumns = n;
    return 0;
}

/* Parses the statistics file: a header line, then one line per CPU. */
static void conntrack_parse_stat(const char *buf, struct conntrack_stat *stat)
{
    stat->n = 0;
    stat->skipped = 0;
    const char *line = strchr(buf, '\n');
    if (!line)
        return; /* a header alone, or nothing */
    for (line++; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        if (stat->n == stat->cap) {
            stat->cap = stat->cap ? stat->cap * 2 : 8;
            stat->cpus = sonde_xrealloc(stat->cpus, stat->cap * sizeof(*stat->cpus));
        }
        int rc = conntrack_parse_line(line, end, &stat->cpus[stat->n]);
        line = nl ? nl + 1 : end;
        if (rc == 0)
            stat->n++;
        else if (rc == -EINVAL)
            stat->skipped++;
    }
}

static void conntrack_stat_free(struct conntrack_stat *stat)
{
    free(stat->cpus);
    memset(stat, 0, sizeof(*stat));
}

/* ------------------------------------------------------------------ */
/* Emitting                                                             */
/* ------------------------------------------------------------------ */

/* node_exporter's stat gauges: each column summed over the CPUs. */
static void conntrack_emit_prom_stats(struct sonde_batch *batch, const struct conntrack_stat *stat)
{
    for (size_t i = 0; i < sizeof(conntrack_stats) / sizeof(conntrack_stats[0]); i++) {
        uint64_t sum = 0;
        for (size_t c = 0; c < stat->n; c++)
            sum += stat->cpus[c].column[conntrack_stats[i].column];
        sonde_emit(batch, &conntrack_stats[i].family, (double)sum, NULL);
    }
}

/* Telegraf writes uint64 as an int field, clamped to the int64 range. */
static int64_t conntrack_int(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void conntrack_emit_lp_cpu(struct sonde_batch *batch, const char *tag,
                                  const uint64_t *column)
{
    struct sonde_point *p = sonde_point(batch, "conntrack");
    sonde_point_tag(batch, p, "cpu", tag);
    for (size_t i = 0; i < CONNTRACK_COLUMNS; i++)
        sonde_point_int(batch, p, conntrack_lp_fields[i], conntrack_int(column[i]));
}

/* Telegraf (through gopsutil) takes only 17-column lines: "percpu" numbers
 * them cpu0, cpu1 ... in that order; "all" is one cpu=all point of their
 * sums, there even when no line was usable. */
static void conntrack_emit_lp_stats(const struct conntrack_state *st, struct sonde_batch *batch)
{
    const struct conntrack_stat *stat = &st->stat;
    uint64_t sum[CONNTRACK_COLUMNS] = {0};
    unsigned index = 0;
    for (size_t c = 0; c < stat->n; c++) {
        if (stat->cpus[c].ncolumns != CONNTRACK_COLUMNS)
            continue;
        if (st->lp_percpu) {
            char tag[24];
            snprintf(tag, sizeof(tag), "cpu%u", index++);
            conntrack_emit_lp_cpu(batch, tag, stat->cpus[c].column);
        }
        for (size_t i = 0; i < CONNTRACK_COLUMNS; i++)
            sum[i] += stat->cpus[c].column[i];
    }
    if (!st->lp_percpu)
        conntrack_emit_lp_cpu(batch, "all", sum);
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int conntrack_init(void **out, const void *config, const struct sonde_context *ctx)
{
    static const char *const files[CT_NFILES] = {"sys/net/netfilter/nf_conntrack_count",
                                                 "sys/net/netfilter/nf_conntrack_max",
                                                 "net/stat/nf_conntrack"};
    const struct conntrack_config *cfg = config;
    bool all = false, percpu = false;
    for (size_t i = 0; i < cfg->collect.n; i++) {
        if (strcmp(cfg->collect.items[i], "all") == 0) {
            all = true;
        } else if (strcmp(cfg->collect.items[i], "percpu") == 0) {
            percpu = true;
        } else {
            sonde_log(SONDE_LOG_ERROR, "conntrack: collect: \"%s\" is not \"all\" or \"percpu\"",
                      cfg->collect.items[i]);
            return -EINVAL;
        }
    }
    char paths[CT_NFILES][4096];
    for (size_t i = 0; i < CT_NFILES; i++)
        if (snprintf(paths[i], sizeof(paths[i]), "%s/%s", ctx->procfs, files[i]) >=
            (int)sizeof(paths[i]))
            return -ENAMETOOLONG;
    struct conntrack_state *st = sonde_xcalloc(1, sizeof(*st));
    st->lp_all = all;
    st->lp_percpu = percpu;
    for (size_t i = 0; i < CT_NFILES; i++)
        sonde_file_init(&st->files[i], paths[i]);
    *out = st;
    return 0;
}

/* Reads a sysctl file into *value; false (counted when malformed) when it
 * has no number. -ENODATA when the file does not exist (the module is not
 * loaded), another -errno on read errors, else 0. */
static int conntrack_read_sysctl(struct conntrack_state *st, size_t file, bool *ok, uint64_t *value,
                                 struct sonde_batch *batch)
{
    int rc = sonde_file_read(&st->files[file]);
    if (rc == -ENOENT)
        return -ENODATA;
    if (rc < 0)
        return rc;
    *ok = conntrack_parse_sysctl(st->files[file].buf, value) == 0;
    if (!*ok) {
        batch->skipped++;
        sonde_log_limited(&st->badlog, 300, SONDE_LOG_WARN, "conntrack: %s: not a number",
                          st->files[file].path);
    }
    return 0;
}

/*
 * As node_exporter: without nf_conntrack loaded (no count file) there is no
 * series and the read reports "no data"; the statistics file failing after
 * the two sysctls fails the read with what was emitted kept.
 */
static int conntrack_read(void *arg, struct sonde_batch *batch)
{
    struct conntrack_state *st = arg;
    if (!batch->want_series && !batch->want_points)
        return 0;
    bool have_count = false, have_max = false;
    uint64_t count = 0, max = 0;
    int rc = conntrack_read_sysctl(st, CT_FILE_COUNT, &have_count, &count, batch);
    if (rc < 0)
        return rc;
    if (have_count)
        sonde_emit(batch, &conntrack_entries_family, (double)count, NULL);
    rc = conntrack_read_sysctl(st, CT_FILE_MAX, &have_max, &max, batch);
    if (rc == 0 && have_max)
        sonde_emit(batch, &conntrack_limit_family, (double)max, NULL);
    if ((have_count || have_max) && batch->want_points) {
        /* Telegraf parses these as floats: the fields are floats. */
        struct sonde_point *p = sonde_point(batch, "conntrack");
        if (have_count)
            sonde_point_float(batch, p, "ip_conntrack_count", (double)count);
        if (have_max)
            sonde_point_float(batch, p, "ip_conntrack_max", (double)max);
    }
    if (rc < 0)
        return rc;

    bool lp_stats = batch->want_points && (st->lp_all || st->lp_percpu);
    if (!batch->want_series && !lp_stats)
        return 0;
    rc = sonde_file_read(&st->files[CT_FILE_STAT]);
    if (rc < 0)
        return rc;
    conntrack_parse_stat(st->files[CT_FILE_STAT].buf, &st->stat);
    if (st->stat.skipped) {
        batch->skipped += st->stat.skipped;
        sonde_log_limited(&st->badlog, 300, SONDE_LOG_WARN,
                          "conntrack: %s: skipped %llu malformed line(s)",
                          st->files[CT_FILE_STAT].path, (unsigned long long)st->stat.skipped);
    }
    if (batch->want_series)
        conntrack_emit_prom_stats(batch, &st->stat);
    if (lp_stats)
        conntrack_emit_lp_stats(st, batch);
    return 0;
}

static void conntrack_destroy(void *arg)
{
    struct conntrack_state *st = arg;
    if (!st)
        return;
    for (size_t i = 0; i < CT_NFILES; i++)
        sonde_file_close(&st->files[i]);
    conntrack_stat_free(&st->stat);
    free(st);
}

const struct sonde_plugin sonde_plugin_conntrack = {
    .name = "conntrack",                              /* configuration key, node_exporter's */
    .kind = SONDE_INPUT,                              /* reads the host */
    .summary = "Netfilter connection tracking table", /* for --help and docs */
    .config_size = sizeof(struct conntrack_config),   /* filled from conntrack_options */
    .options = conntrack_options,                     /* collect */
    .init = conntrack_init,                           /* checks collect; opens nothing yet */
    .read = conntrack_read,                           /* node_nf_conntrack_* and "conntrack" */
    .write = NULL,                                    /* inputs do not write */
    .destroy = conntrack_destroy,                     /* closes the files */
};
