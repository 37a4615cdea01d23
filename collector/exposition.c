/*
 * exposition.c - Prometheus text format 0.0.4 and OpenMetrics 1.0 from the
 * series of the stored batches. Series are grouped by family name (sorted),
 * so several instances of one plugin share one HELP and TYPE; within a
 * family the batches' order is kept. In OpenMetrics a counter family is
 * named without its _total suffix and the body ends with "# EOF"; a counter
 * whose name lacks _total is exposed as "unknown" there, never mangled.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct expo_entry {
    const struct sonde_series *series;
    size_t order; /* keeps qsort stable */
};

static int expo_entry_compare(const void *a, const void *b)
{
    const struct expo_entry *x = a, *y = b;
    int cmp = strcmp(x->series->family->name, y->series->family->name);
    if (cmp)
        return cmp;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Escapes HELP text: backslash and newline (and, for OpenMetrics, the
 * double quote). */
static void expo_help(struct sonde_buf *out, const char *s, enum expo_format format)
{
    for (; *s; s++) {
        if (*s == '\\')
            sonde_buf_append(out, "\\\\", 2);
        else if (*s == '\n')
            sonde_buf_append(out, "\\n", 2);
        else if (*s == '"' && format == EXPO_OPENMETRICS)
            sonde_buf_append(out, "\\\"", 2);
        else
            sonde_buf_append(out, s, 1);
    }
}

static void expo_label_value(struct sonde_buf *out, const char *s)
{
    size_t start = 0, i = 0;
    for (; s[i]; i++) {
        const char *rep = s[i] == '\\'   ? "\\\\"
                          : s[i] == '"'  ? "\\\""
                          : s[i] == '\n' ? "\\n"
                                         : NULL;
        if (!rep)
            continue;
        sonde_buf_append(out, s + start, i - start);
        sonde_buf_append(out, rep, 2);
        start = i + 1;
    }
    sonde_buf_append(out, s + start, i - start);
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
    struct expo_entry *entries = sonde_xmalloc((total ? total : 1) * sizeof(*entries));
    size_t n = 0;
    for (size_t i = 0; i < src->nbatches; i++) {
        const struct sonde_batch *b = src->batches[i];
        for (size_t j = 0; b && j < b->nseries; j++) {
            entries[n].series = &b->series[j];
            entries[n].order = n;
            n++;
        }
    }
    qsort(entries, n, sizeof(*entries), expo_entry_compare);
    const char *current = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct sonde_family *f = entries[i].series->family;
        if (!current || strcmp(current, f->name) != 0) {
            expo_family_header(out, f, format);
            current = f->name;
        }
        expo_sample(out, entries[i].series);
    }
    free(entries);
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
