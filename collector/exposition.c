/*
 * exposition.c - Prometheus text format 0.0.4 and OpenMetrics 1.0 from the
 * series of the stored batches. Series are grouped by family name (families
 * sorted by name, as node_exporter writes them),
 * so several instances of one plugin share one HELP and TYPE; within a
 * family the batches' order is kept. In OpenMetrics a counter family is
 * named without its _total suffix and the body ends with "# EOF"; a counter
 * whose name lacks _total is exposed as "unknown" there, never mangled.
 *
 * Grouping works on runs (consecutive series of one batch with one family
 * pointer: inputs emit a family's series together), and its result, the
 * runs in output order, is kept in an expo_cache for the next render. The
 * next render reuses it when its runs have the same family names, compared
 * as text, run by run: then it would group them the same way, whatever the
 * runs' lengths and the families' addresses; the runs themselves, and what
 * each family says (type, help), are read afresh at every render. Addresses
 * alone would not do: a family may live in a batch's arena, and a later
 * batch may put a family of another name at the same address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Consecutive series of one batch that share a family pointer. */
struct expo_run {
    const struct sonde_series *series; /* the first; borrowed from its batch */
    size_t count;
    size_t next; /* the next run of the same name, while grouping */
};

struct expo_cache {
    bool valid;
    /* The last grouping's key, all its order depends on: the family name of
     * each run, one after another (NUL-terminated) in names, run r's from
     * name_at[r]. */
    size_t *name_at;
    size_t nkeys;
    char *names;
    size_t names_len, names_cap;
    /* Its result: run indices in output order; group g is
     * order[group_start[g] .. group_start[g + 1]). */
    size_t *order, *group_start;
    size_t ngroups;
    /* This render's runs (scratch, grown as needed). */
    struct expo_run *runs;
    size_t nruns, runs_cap;
};

/* Families by name while grouping: a small open-addressing table, so
 * grouping costs one hash per run and one sort of the distinct names. */
struct expo_group {
    const char *name;   /* of the first run seen with it */
    size_t first, last; /* chain of runs through expo_run.next */
};

struct expo_cache *expo_cache_new(void)
{
    return sonde_xcalloc(1, sizeof(struct expo_cache));
}

void expo_cache_free(struct expo_cache *cache)
{
    if (!cache)
        return;
    free(cache->name_at);
    free(cache->names);
    free(cache->order);
    free(cache->group_start);
    free(cache->runs);
    free(cache);
}

/* Splits the source's series into runs (cache->runs). */
static void expo_runs(struct expo_cache *cache, const struct expo_source *src)
{
    cache->nruns = 0;
    for (size_t i = 0; i < src->nbatches; i++) {
        const struct sonde_batch *b = src->batches[i];
        for (size_t j = 0; b && j < b->nseries; j++) {
            if (j && b->series[j].family == b->series[j - 1].family) {
                cache->runs[cache->nruns - 1].count++;
                continue;
            }
            if (cache->nruns == cache->runs_cap) {
                cache->runs_cap = cache->runs_cap ? cache->runs_cap * 2 : 64;
                cache->runs = sonde_xrealloc(cache->runs, cache->runs_cap * sizeof(*cache->runs));
            }
            cache->runs[cache->nruns++] = (struct expo_run){.series = &b->series[j], .count = 1};
        }
    }
}

/* Whether this render's runs have the family names, run by run, of those
 * the cached grouping was made of. */
static bool expo_cache_matches(const struct expo_cache *cache)
{
    if (!cache->valid || cache->nkeys != cache->nruns)
        return false;
    for (size_t r = 0; r < cache->nruns; r++)
        if (strcmp(cache->runs[r].series->family->name, cache->names + cache->name_at[r]) != 0)
            return false;
    return true;
}

/* Keeps this render's runs as the key of the grouping just made. */
static void expo_cache_keep(struct expo_cache *cache)
{
    cache->name_at =
        sonde_xrealloc(cache->name_at, (cache->nruns ? cache->nruns : 1) * sizeof(*cache->name_at));
    cache->nkeys = cache->nruns;
    cache->names_len = 0;
    for (size_t r = 0; r < cache->nruns; r++) {
        const char *name = cache->runs[r].series->family->name;
        size_t len = strlen(name) + 1;
        if (cache->names_cap - cache->names_len < len) {
            while (cache->names_cap - cache->names_len < len)
                cache->names_cap = cache->names_cap ? cache->names_cap * 2 : 4096;
            cache->names = sonde_xrealloc(cache->names, cache->names_cap);
        }
        memcpy(cache->names + cache->names_len, name, len);
        cache->name_at[r] = cache->names_len;
        cache->names_len += len;
    }
    cache->valid = true;
}

static uint64_t expo_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int expo_group_compare(const void *a, const void *b)
{
    return strcmp(((const struct expo_group *)a)->name, ((const struct expo_group *)b)->name);
}

/* Groups the runs by family name, families sorted by name, each keeping its
 * runs in the source's order: fills cache->order and group_start. */
static void expo_group(struct expo_cache *cache)
{
    size_t nruns = cache->nruns, cap = 64;
    while (cap < nruns * 2)
        cap *= 2;
    struct expo_group *table = sonde_xcalloc(cap, sizeof(*table));
    size_t ngroups = 0;
    for (size_t r = 0; r < nruns; r++) {
        const char *name = cache->runs[r].series->family->name;
        size_t slot = expo_hash(name) & (cap - 1);
        while (table[slot].name && table[slot].name != name && strcmp(table[slot].name, name) != 0)
            slot = (slot + 1) & (cap - 1);
        if (!table[slot].name) {
            table[slot] = (struct expo_group){.name = name, .first = r};
            ngroups++;
        } else {
            cache->runs[table[slot].last].next = r;
        }
        table[slot].last = r;
        cache->runs[r].next = SIZE_MAX;
    }
    size_t g = 0; /* compact the used slots, then sort them by name */
    for (size_t i = 0; i < cap; i++)
        if (table[i].name)
            table[g++] = table[i];
    qsort(table, ngroups, sizeof(*table), expo_group_compare);
    cache->order = sonde_xrealloc(cache->order, (nruns ? nruns : 1) * sizeof(*cache->order));
    cache->group_start =
        sonde_xrealloc(cache->group_start, (ngroups + 1) * sizeof(*cache->group_start));
    size_t n = 0;
    for (g = 0; g < ngroups; g++) {
        cache->group_start[g] = n;
        for (size_t r = table[g].first; r != SIZE_MAX; r = cache->runs[r].next)
            cache->order[n++] = r;
    }
    cache->group_start[ngroups] = n;
    cache->ngroups = ngroups;
    free(table);
}

/* Room for `n` more bytes and the terminating NUL; returns where they go.
 * The writers below fill it and then set out->len. */
static inline char *expo_room(struct sonde_buf *out, size_t n)
{
    if (out->cap - out->len <= n)
        buf_reserve(out, n);
    return out->data + out->len;
}

/* Writes `s` with every character of `special` (some of backslash, double
 * quote, newline) escaped; runs without one are copied whole. `p` has room
 * for twice strlen(s). */
static char *expo_escaped(char *p, const char *s, const char *special)
{
    for (;;) {
        size_t run = strcspn(s, special);
        memcpy(p, s, run);
        p += run;
        if (!s[run])
            return p;
        *p++ = '\\';
        *p++ = s[run] == '\n' ? 'n' : s[run];
        s += run + 1;
    }
}

/* Writes a label value of `len` bytes, backslash, double quote and newline
 * escaped; `p` has room for 2 * len. Values are short: one pass. */
static char *expo_label_value(char *p, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\' || c == '"' || c == '\n') {
            *p++ = '\\';
            c = c == '\n' ? 'n' : c;
        }
        *p++ = c;
    }
    return p;
}

static const char *expo_type_name(const struct sonde_family *f, bool total, enum expo_format format)
{
    switch (f->type) {
    case SONDE_COUNTER:
        return format == EXPO_OPENMETRICS && !total ? "unknown" : "counter";
    case SONDE_GAUGE:
    case SONDE_INFO:
        return "gauge";
    case SONDE_UNTYPED:
        return format == EXPO_OPENMETRICS ? "unknown" : "untyped";
    }
    return "untyped";
}

/* Writes HELP and TYPE; the help text has backslash and newline (and, for
 * OpenMetrics, the double quote) escaped. */
static void expo_family_header(struct sonde_buf *out, const struct sonde_family *f, size_t name_len,
                               enum expo_format format)
{
    bool total = name_len >= 6 && memcmp(f->name + name_len - 6, "_total", 6) == 0;
    size_t shown =
        format == EXPO_OPENMETRICS && f->type == SONDE_COUNTER && total ? name_len - 6 : name_len;
    const char *type = expo_type_name(f, total, format);
    size_t type_len = strlen(type);
    char *p = expo_room(out, 2 * strlen(f->help) + 2 * shown + type_len + 18);
    memcpy(p, "# HELP ", 7);
    memcpy(p + 7, f->name, shown);
    p[7 + shown] = ' ';
    p = expo_escaped(p + 8 + shown, f->help, format == EXPO_OPENMETRICS ? "\\\n\"" : "\\\n");
    memcpy(p, "\n# TYPE ", 8);
    memcpy(p + 8, f->name, shown);
    p[8 + shown] = ' ';
    memcpy(p + 9 + shown, type, type_len);
    p[9 + shown + type_len] = '\n';
    out->len = (size_t)(p + 10 + shown + type_len - out->data);
}

/* Writes one sample line; `name` is its family's name, `name_len` long. */
static void expo_sample(struct sonde_buf *out, const char *name, size_t name_len,
                        const struct sonde_series *s)
{
    char *p = expo_room(out, name_len + 1);
    memcpy(p, name, name_len);
    p += name_len;
    for (uint32_t i = 0; i < s->nlabels; i++) {
        *p++ = i ? ',' : '{';
        out->len = (size_t)(p - out->data);
        const char *key = s->labels[i].key, *value = s->labels[i].value;
        size_t key_len = strlen(key), value_len = strlen(value);
        p = expo_room(out, key_len + 2 * value_len + 4);
        memcpy(p, key, key_len);
        p += key_len;
        *p++ = '=';
        *p++ = '"';
        p = expo_label_value(p, value, value_len);
        *p++ = '"';
    }
    out->len = (size_t)(p - out->data);
    p = expo_room(out, 40); /* '}', ' ', a number (< 32 bytes with its NUL), '\n' */
    if (s->nlabels)
        *p++ = '}';
    *p++ = ' ';
    p += format_double(p, s->value);
    *p++ = '\n';
    out->len = (size_t)(p - out->data);
}

void expo_render_cached(struct sonde_buf *out, const struct expo_source *src,
                        enum expo_format format, struct expo_cache *cache)
{
    expo_runs(cache, src);
    if (!expo_cache_matches(cache)) {
        expo_group(cache);
        expo_cache_keep(cache);
    }
    for (size_t g = 0; g < cache->ngroups; g++) {
        size_t *run = &cache->order[cache->group_start[g]],
               *end = &cache->order[cache->group_start[g + 1]];
        const struct sonde_family *family = cache->runs[*run].series->family;
        size_t name_len = strlen(family->name);
        expo_family_header(out, family, name_len, format);
        for (; run < end; run++) {
            const struct expo_run *r = &cache->runs[*run];
            for (size_t k = 0; k < r->count; k++)
                expo_sample(out, family->name, name_len, &r->series[k]);
        }
    }
    if (format == EXPO_OPENMETRICS)
        sonde_buf_append(out, "# EOF\n", 6);
    else if (out->data)
        out->data[out->len] = '\0';
}

void expo_render(struct sonde_buf *out, const struct expo_source *src, enum expo_format format)
{
    struct expo_cache *cache = expo_cache_new();
    expo_render_cached(out, src, format, cache);
    expo_cache_free(cache);
}

/* Reads the q value of one media range ("...;q=0.5"); 1 when absent. */
static double expo_quality(const char *range, size_t len)
{
    const char *q = memmem(range, len, "q=", 2);
    if (!q || (q > range && q[-1] != ';' && q[-1] != ' '))
        return 1.0;
    return strtod(q + 2, NULL);
}

enum expo_format expo_negotiate(const char *accept)
{
    if (!accept)
        return EXPO_TEXT;
    double best_om = -1, best_text = -1;
    const char *p = accept;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        double q = expo_quality(p, len);
        if (len >= 28 && strncasecmp(p, "application/openmetrics-text", 28) == 0) {
            /* Only OpenMetrics 1.0.0 (or no version) is what we write. */
            const char *v = memmem(p, len, "version=", 8);
            if ((!v || strncmp(v + 8, "1.0.0", 5) == 0) && q > best_om)
                best_om = q;
        } else if (len >= 10 && strncasecmp(p, "text/plain", 10) == 0) {
            if (q > best_text)
                best_text = q;
        } else if ((len >= 3 && strncmp(p, "*/*", 3) == 0) ||
                   (len >= 6 && strncmp(p, "text/*", 6) == 0)) {
            if (q > best_text)
                best_text = q;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return best_om > 0 && best_om >= best_text ? EXPO_OPENMETRICS : EXPO_TEXT;
}

const char *expo_content_type(enum expo_format format)
{
    return format == EXPO_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                      : "text/plain; version=0.0.4; charset=utf-8";
}
