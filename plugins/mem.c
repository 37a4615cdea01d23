/*
 * mem.c - the `mem` input: /proc/meminfo as node_exporter's meminfo
 * collector (one node_memory_<Key>[_bytes] gauge per line) and as Telegraf's
 * inputs.mem (measurement "mem", gopsutil's VirtualMemory fields).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

/* No options: Telegraf's inputs.mem and node_exporter's meminfo have none. */
struct mem_config {
    int unused; /* keeps the struct non-empty (C11) */
};

static const struct sonde_option mem_options[] = {
    {NULL},
};

/* ---- Parsing /proc/meminfo ---- */

/* One "Key:   value [kB]" line. The key points into the parsed buffer and
 * lives as long as that buffer. */
struct mem_entry {
    const char *key; /* without the colon; not NUL-terminated */
    size_t key_len;
    uint64_t value; /* as written: kB when `kb`, a count otherwise */
    bool kb;        /* the line had a unit (always kB in practice) */
};

/* The fields gopsutil's VirtualMemory fills on Linux, indexed by enum. */
enum mem_field {
    MEM_TOTAL,
    MEM_FREE,
    MEM_AVAILABLE,
    MEM_BUFFERS,
    MEM_CACHED,
    MEM_ACTIVE,
    MEM_INACTIVE,
    MEM_WRITEBACK,
    MEM_WRITEBACK_TMP,
    MEM_DIRTY,
    MEM_SHMEM,
    MEM_SLAB,
    MEM_SRECLAIMABLE,
    MEM_SUNRECLAIM,
    MEM_PAGE_TABLES,
    MEM_SWAP_CACHED,
    MEM_COMMIT_LIMIT,
    MEM_COMMITTED_AS,
    MEM_HIGH_TOTAL,
    MEM_HIGH_FREE,
    MEM_LOW_TOTAL,
    MEM_LOW_FREE,
    MEM_SWAP_TOTAL,
    MEM_SWAP_FREE,
    MEM_MAPPED,
    MEM_VMALLOC_TOTAL,
    MEM_VMALLOC_USED,
    MEM_VMALLOC_CHUNK,
    MEM_HUGE_PAGES_TOTAL,
    MEM_HUGE_PAGES_FREE,
    MEM_HUGE_PAGE_SIZE,
    MEM_NFIELDS
};

/* Which /proc/meminfo key fills which field, and the line-protocol name
 * Telegraf gives it. HugePages_Total/Free are page counts, not bytes. */
static const struct {
    const char *key;
    const char *lp_name;
    bool bytes;
} mem_fields[MEM_NFIELDS] = {
    [MEM_TOTAL] = {"MemTotal", "total", true},
    [MEM_FREE] = {"MemFree", "free", true},
    [MEM_AVAILABLE] = {"MemAvailable", "available", true},
    [MEM_BUFFERS] = {"Buffers", "buffered", true},
    [MEM_CACHED] = {"Cached", "cached", true},
    [MEM_ACTIVE] = {"Active", "active", true},
    [MEM_INACTIVE] = {"Inactive", "inactive", true},
    [MEM_WRITEBACK] = {"Writeback", "write_back", true},
    [MEM_WRITEBACK_TMP] = {"WritebackTmp", "write_back_tmp", true},
    [MEM_DIRTY] = {"Dirty", "dirty", true},
    [MEM_SHMEM] = {"Shmem", "shared", true},
    [MEM_SLAB] = {"Slab", "slab", true},
    [MEM_SRECLAIMABLE] = {"SReclaimable", "sreclaimable", true},
    [MEM_SUNRECLAIM] = {"SUnreclaim", "sunreclaim", true},
    [MEM_PAGE_TABLES] = {"PageTables", "page_tables", true},
    [MEM_SWAP_CACHED] = {"SwapCached", "swap_cached", true},
    [MEM_COMMIT_LIMIT] = {"CommitLimit", "commit_limit", true},
    [MEM_COMMITTED_AS] = {"Committed_AS", "committed_as", true},
    [MEM_HIGH_TOTAL] = {"HighTotal", "high_total", true},
    [MEM_HIGH_FREE] = {"HighFree", "high_free", true},
    [MEM_LOW_TOTAL] = {"LowTotal", "low_total", true},
    [MEM_LOW_FREE] = {"LowFree", "low_free", true},
    [MEM_SWAP_TOTAL] = {"SwapTotal", "swap_total", true},
    [MEM_SWAP_FREE] = {"SwapFree", "swap_free", true},
    [MEM_MAPPED] = {"Mapped", "mapped", true},
    [MEM_VMALLOC_TOTAL] = {"VmallocTotal", "vmalloc_total", true},
    [MEM_VMALLOC_USED] = {"VmallocUsed", "vmalloc_used", true},
    [MEM_VMALLOC_CHUNK] = {"VmallocChunk", "vmalloc_chunk", true},
    [MEM_HUGE_PAGES_TOTAL] = {"HugePages_Total", "huge_pages_total", false},
    [MEM_HUGE_PAGES_FREE] = {"HugePages_Free", "huge_pages_free", false},
    [MEM_HUGE_PAGE_SIZE] = {"Hugepagesize", "huge_page_size", true},
};

/* Everything one parse of /proc/meminfo yields. `entries` is a growing
 * array owned by the struct (reused across reads, freed by mem_stats_free). */
struct mem_stats {
    struct mem_entry *entries;
    size_t nentries, cap;
    uint64_t field[MEM_NFIELDS]; /* bytes (counts for huge pages), 0 when absent */
    bool seen[MEM_NFIELDS];
    uint64_t skipped; /* malformed lines */
};

static void mem_stats_free(struct mem_stats *st)
{
    free(st->entries);
    memset(st, 0, sizeof(*st));
}

/* Parses a decimal unsigned integer spanning exactly [s, end). */
static int mem_parse_u64(const char *s, const char *end, uint64_t *out)
{
    if (s == end || *s < '0' || *s > '9')
        return -EINVAL;
    uint64_t v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        unsigned digit = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return -ERANGE;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

static bool mem_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Splits one line (without its newline) into at most 4 whitespace-separated
 * words; returns the word count (4 meaning "too many"). */
static size_t mem_split(const char *line, const char *end, const char *word[4],
                        const char *word_end[4])
{
    size_t n = 0;
    const char *p = line;
    while (p < end) {
        while (p < end && mem_is_space(*p))
            p++;
        if (p == end)
            break;
        if (n == 4)
            return 4;
        word[n] = p;
        while (p < end && !mem_is_space(*p))
            p++;
        word_end[n++] = p;
    }
    return n;
}

/* Parses "Key:   value [unit]" as node_exporter does: two words mean no
 * unit, three mean kB. Returns 0, 1 for a blank line, or -EINVAL. */
static int mem_parse_line(const char *line, const char *end, struct mem_entry *e)
{
    const char *word[4], *word_end[4];
    size_t n = mem_split(line, end, word, word_end);
    if (n == 0)
        return 1; /* node_exporter skips blank lines too */
    if (n < 2 || n > 3)
        return -EINVAL;
    size_t key_len = (size_t)(word_end[0] - word[0]);
    if (key_len < 2 || word[0][key_len - 1] != ':')
        return -EINVAL;
    if (mem_parse_u64(word[1], word_end[1], &e->value) < 0)
        return -EINVAL;
    e->key = word[0];
    e->key_len = key_len - 1;
    e->kb = n == 3;
    return 0;
}

static void mem_stats_add(struct mem_stats *st, const struct mem_entry *e)
{
    if (st->nentries == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        st->entries = sonde_xrealloc(st->entries, st->cap * sizeof(*st->entries));
    }
    st->entries[st->nentries++] = *e;

    for (size_t f = 0; f < MEM_NFIELDS; f++) {
        /* strncmp stops at the first difference: no strlen per line and key */
        if (strncmp(mem_fields[f].key, e->key, e->key_len) == 0 &&
            mem_fields[f].key[e->key_len] == '\0') {
            /* gopsutil multiplies by 1024 whatever the unit, in uint64. */
            st->field[f] = mem_fields[f].bytes ? e->value * 1024 : e->value;
            st->seen[f] = true;
            break;
        }
    }
}

/* Parses the whole of /proc/meminfo in `buf`; the entries point into `buf`.
 * Malformed lines are counted in st->skipped. */
static void mem_parse_meminfo(const char *buf, struct mem_stats *st)
{
    st->nentries = 0;
    st->skipped = 0;
    memset(st->field, 0, sizeof(st->field));
    memset(st->seen, 0, sizeof(st->seen));

    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        struct mem_entry e;
        int rc = mem_parse_line(line, end, &e);
        if (rc == 0)
            mem_stats_add(st, &e);
        else if (rc < 0)
            st->skipped++;
        line = nl ? nl + 1 : end;
    }
}

/* ---- Telegraf's derived values ---- */

/* What gopsutil computes from the raw fields, in its order. */
struct mem_derived {
    uint64_t cached;    /* Cached + SReclaimable */
    uint64_t available; /* MemAvailable, or Free + cached on kernels < 3.14 */
    uint64_t used;      /* total - free - buffers - cached, 0 rather than wrapping */
    double used_percent, available_percent;
};

static void mem_derive(const struct mem_stats *st, struct mem_derived *d)
{
    const uint64_t *f = st->field;
    d->cached = f[MEM_CACHED] + f[MEM_SRECLAIMABLE];
    /* gopsutil estimates from /proc/zoneinfo watermarks when MemAvailable is
     * missing and the file LRU lines exist (2.6.28 .. 3.13); we keep its
     * simpler fallback for all old kernels: free + cached. */
    d->available = st->seen[MEM_AVAILABLE] ? f[MEM_AVAILABLE] : f[MEM_FREE] + d->cached;
    uint64_t taken = f[MEM_FREE] + f[MEM_BUFFERS] + d->cached;
    /* gopsutil's uint64 would wrap to ~2^64 here; a clamped 0 is as wrong
     * but does not wreck a graph's scale. Never seen on a real kernel. */
    d->used = f[MEM_TOTAL] > taken ? f[MEM_TOTAL] - taken : 0;
    /* Telegraf's own expressions: 100 * x / total (NaN when total is 0; the
     * encoder skips non-finite fields and counts them). */
    d->used_percent = 100 * (double)d->used / (double)f[MEM_TOTAL];
    d->available_percent = 100 * (double)d->available / (double)f[MEM_TOTAL];
}

/* Telegraf writes uint64 as an int field, clamped to the int64 range. */
static int64_t mem_int(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* ---- Prometheus names ---- */

/* node_exporter's key rewrite: the regexp \((.*)\) becomes _$1, so
 * "Active(anon)" is "Active_anon" (first '(' to last ')'), then "_bytes" for
 * lines with a unit. Writes the NUL-terminated result to `out`; returns its
 * length, or -EINVAL when it does not fit or is not a valid metric name. */
static int mem_prom_key(const struct mem_entry *e, char *out, size_t cap)
{
    const char *key = e->key;
    size_t len = e->key_len, n = 0;
    const char *open = memchr(key, '(', len);
    const char *close = NULL;
    if (open)
        for (const char *p = key + len; p > open + 1 && !close; p--)
            if (p[-1] == ')')
                close = p - 1;
    if (!open || !close)
        open = close = NULL;

    for (size_t i = 0; i < len; i++) {
        const char *p = key + i;
        char c = *p;
        if (p == open)
            c = '_';
        else if (p == close)
            continue;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (c >= '0' && c <= '9');
        if (!ok || n + 1 >= cap)
            return -EINVAL;
        out[n++] = c;
    }
    const char *suffix = e->kb ? "_bytes" : "";
    size_t slen = strlen(suffix);
    if (n + slen + 1 > cap)
        return -EINVAL;
    memcpy(out + n, suffix, slen + 1);
    return (int)(n + slen);
}

/* ---- The plugin ---- */

struct mem_state {
    struct sonde_file meminfo; /* <procfs>/meminfo, kept open */
    struct mem_stats stats;    /* reused parse result */
};

static int mem_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    struct mem_state *st = sonde_xcalloc(1, sizeof(*st));
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/meminfo", ctx->procfs) >= (int)sizeof(path)) {
        free(st);
        return -ENAMETOOLONG;
    }
    sonde_file_init(&st->meminfo, path);
    *state = st;
    return 0;
}

/* One gauge per line. Families are created in the batch arena on every read:
 * a batch outlives the instance after a reload, so it may not borrow them. */
static void mem_emit_prometheus(const struct mem_stats *st, struct sonde_batch *batch)
{
    for (size_t i = 0; i < st->nentries; i++) {
        const struct mem_entry *e = &st->entries[i];
        char key[256], name[300], help[340];
        int len = mem_prom_key(e, key, sizeof(key));
        if (len < 0) {
            batch->skipped++;
            continue;
        }
        /* key < 256 bytes: both fit (no printf here, it runs per line and round) */
        memcpy(name, "node_memory_", 12);
        memcpy(name + 12, key, (size_t)len + 1);
        memcpy(help, "Memory information field ", 25);
        memcpy(help + 25, key, (size_t)len);
        memcpy(help + 25 + len, ".", 2);
        /* node_exporter types a key ending in "_total" as a counter
         * (case-sensitive, so HugePages_Total stays a gauge). */
        bool counter = len >= 6 && strcmp(key + len - 6, "_total") == 0;
        const struct sonde_family *fam =
            sonde_family_new(batch, name, counter ? SONDE_COUNTER : SONDE_GAUGE, help);
        double value = e->kb ? (double)e->value * 1024.0 : (double)e->value;
        sonde_emit(batch, fam, value, NULL);
    }
}

static void mem_emit_lineproto(const struct mem_stats *st, struct sonde_batch *batch)
{
    struct mem_derived d;
    mem_derive(st, &d);
    struct sonde_point *p = sonde_point(batch, "mem");
    for (size_t f = 0; f < MEM_NFIELDS; f++) {
        uint64_t v = st->field[f];
        if (f == MEM_CACHED)
            v = d.cached;
        else if (f == MEM_AVAILABLE)
            v = d.available;
        sonde_point_int(batch, p, mem_fields[f].lp_name, mem_int(v));
    }
    sonde_point_int(batch, p, "used", mem_int(d.used));
    sonde_point_float(batch, p, "used_percent", d.used_percent);
    sonde_point_float(batch, p, "available_percent", d.available_percent);
}

static int mem_read(void *state, struct sonde_batch *batch)
{
    struct mem_state *st = state;
    int rc = sonde_file_read(&st->meminfo);
    if (rc < 0)
        return rc;
    mem_parse_meminfo(st->meminfo.buf, &st->stats);
    batch->skipped += st->stats.skipped;
    if (st->stats.nentries == 0)
        return 0; /* nothing to report: no all-zero "mem" point */
    mem_emit_prometheus(&st->stats, batch);
    mem_emit_lineproto(&st->stats, batch);
    return 0;
}

static void mem_destroy(void *state)
{
    struct mem_state *st = state;
    if (!st)
        return;
    sonde_file_close(&st->meminfo);
    mem_stats_free(&st->stats);
    free(st);
}

const struct sonde_plugin sonde_plugin_mem = {
    .name = "mem",                                /* config key; aliases memory, meminfo */
    .kind = SONDE_INPUT,                          /* an input */
    .summary = "Memory usage from /proc/meminfo", /* for --help and docs */
    .config_size = sizeof(struct mem_config),     /* no options */
    .options = mem_options,                       /* empty table */
    .init = mem_init,                             /* opens nothing yet */
    .read = mem_read,                             /* node_memory_* and "mem" */
    .write = NULL,                                /* not an output */
    .destroy = mem_destroy,                       /* closes the file, frees the state */
};
