/*
 * exposition.c - Prometheus text format 0.0.4 and OpenMetrics 1.0 from the
 * series of the stored batches. Series are grouped by family name (families
 * sorted by name, as node_exporter writes them),
 * so several instances of one plugin share one HELP and TYPE; within a
 * family the batches' order is kept. In OpenMetrics a counter family is
 * named without its _total suffix and the body ends with "# EOF"; a counter
 * whose name lacks _total is exposed as "unknown" there, never mangled.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Families by name: a small open-addressing table, so grouping costs one
 * hash per series and one sort of the distinct names, not a sort of every
 * series. Each family keeps its series as a chain in emission order. */
struct expo_group {
    const struct sonde_family *family; /* the first family seen of this name */
    size_t first, last;                /* chain through expo_next[] */
};

static uint64_t expo_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int expo_group_compare(const void *a, const void *b)
{
    return strcmp(((const struct expo_group *)a)->family->name,
                  ((const struct expo_group *)b)->family->name);
}

static const char *expo_escape(char c)
{
    return c == '\\' ? "\\\\" : c == '"' ? "\\\"" : "\\n";
}

/* Appends `s` with every character of `special` (some of backslash, double
 * quote, newline) escaped; runs without one are copied whole. */
static void expo_escaped(struct sonde_buf *out, const char *s, const char *special)
{
    for (;;) {
        size_t run = strcspn(s, special);
        sonde_buf_append(out, s, run);
        if (!s[run])
            return;
        sonde_buf_append(out, expo_escape(s[run]), 2);
        s += run + 1;
    }
}

/* Escapes HELP text: backslash and newline (and, for OpenMetrics, the
 * double quote). */
static void expo_help(struct sonde_buf *out, const char *s, enum expo_format format)
{
    expo_escaped(out, s, format == EXPO_OPENMETRICS ? "\\\n\"" : "\\\n");
}

static void expo_label_value(struct sonde_buf *out, const char *s)
{
    expo_escaped(out, s, "\\\"\n");
}

static bool expo_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static const char *expo_type_name(const struct sonde_family *f, enum expo_format format)
{
    switch (f->type) {
    case SONDE_COUNTER:
        if (format == EXPO_OPENMETRICS && !expo_ends_with(f->name, "_total"))
            return "unknown";
        return "counter";
    case SONDE_GAUGE:
    case SONDE_INFO:
        return "gauge";
    case SONDE_UNTYPED:
        return format == EXPO_OPENMETRICS ? "unknown" : "untyped";
    }
    return "untyped";
}

static void expo_family_header(struct sonde_buf *out, const struct sonde_family *f,
                               enum expo_format format)
{
    size_t name_len = strlen(f->name);
    if (format == EXPO_OPENMETRICS && f->type == SONDE_COUNTER && expo_ends_with(f->name, "_total"))
        name_len -= 6;
    sonde_buf_append(out, "# HELP ", 7);
    sonde_buf_append(out, f->name, name_len);
    sonde_buf_append(out, " ", 1);
    expo_help(out, f->help, format);
    sonde_buf_append(out, "\n# TYPE ", 8);
    sonde_buf_append(out, f->name, name_len);
    sonde_buf_append(out, " ", 1);
    sonde_buf_puts(out, expo_type_name(f, format));
    sonde_buf_append(out, "\n", 1);
}

static void expo_sample(struct sonde_buf *out, const struct sonde_series *s)
{
    sonde_buf_puts(out, s->family->name);
    if (s->nlabels) {
        sonde_buf_append(out, "{", 1);
        for (uint32_t i = 0; i < s->nlabels; i++) {
            if (i)
                sonde_buf_append(out, ",", 1);
            sonde_buf_puts(out, s->labels[i].key);
            sonde_buf_append(out, "=\"", 2);
            expo_label_value(out, s->labels[i].value);
            sonde_buf_append(out, "\"", 1);
        }
        sonde_buf_append(out, "}", 1);
    }
    char num[40];
    sonde_buf_append(out, " ", 1);
    sonde_buf_append(out, num, format_double(num, s->value));
    sonde_buf_append(out, "\n", 1);
}

void expo_render(struct sonde_buf *out, const struct expo_source *src, enum expo_format format)
{
    size_t total = 0;
    for (size_t i = 0; i < src->nbatches; i++)
        total += src->batches[i] ? src->batches[i]->nseries : 0;
    const struct sonde_series **series = sonde_xmalloc((total ? total : 1) * sizeof(*series));
    size_t *next = sonde_xmalloc((total ? total : 1) * sizeof(*next));
    size_t cap = 64;
    while (cap < total * 2)
        cap *= 2;
    struct expo_group *table = sonde_xcalloc(cap, sizeof(*table));
    size_t n = 0, ngroups = 0;
    const struct sonde_family *last_family = NULL;
    size_t last_slot = 0;
    for (size_t i = 0; i < src->nbatches; i++) {
        const struct sonde_batch *b = src->batches[i];
        for (size_t j = 0; b && j < b->nseries; j++, n++) {
            const struct sonde_family *f = b->series[j].family;
            series[n] = &b->series[j];
            next[n] = SIZE_MAX;
            size_t slot = last_slot;
            if (f != last_family) { /* runs of one family are common */
                slot = expo_hash(f->name) & (cap - 1);
                while (table[slot].family && table[slot].family != f &&
                       strcmp(table[slot].family->name, f->name) != 0)
                    slot = (slot + 1) & (cap - 1);
                last_family = f;
                last_slot = slot;
            }
            if (!table[slot].family) {
                table[slot].family = f;
                table[slot].first = n;
                ngroups++;
            } else {
                next[table[slot].last] = n;
            }
            table[slot].last = n;
        }
    }
    /* Compact the used slots and sort the families by name. */
    size_t g = 0;
    for (size_t i = 0; i < cap; i++)
        if (table[i].family)
            table[g++] = table[i];
    qsort(table, ngroups, sizeof(*table), expo_group_compare);
    for (size_t i = 0; i < ngroups; i++) {
        expo_family_header(out, table[i].family, format);
        for (size_t k = table[i].first; k != SIZE_MAX; k = next[k])
            expo_sample(out, series[k]);
    }
    free(table);
    free(next);
    free(series);
    if (format == EXPO_OPENMETRICS)
        sonde_buf_append(out, "# EOF\n", 6);
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
