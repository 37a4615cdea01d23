/*
 * textfile.c - the `textfile` input: every *.prom file of a directory (or
 * glob of directories) in the Prometheus text format, validated and
 * re-exported, with node_textfile_mtime_seconds{file} and
 * node_textfile_scrape_error, as node_exporter 1.5's textfile collector.
 * No line protocol: Telegraf has no such input.
 *
 * Design note. The files are outside input, written by any cron job, so
 * the parser follows node_exporter's (prometheus/common expfmt) rules
 * exactly and refuses a whole file on any error, as it does:
 *   - a file is parsed into families (name, HELP, TYPE, metrics) in the
 *     batch arena; families and label names exist only at read time;
 *   - a file with a syntax error, a timestamp, a "__"-prefixed label or a
 *     gauge_histogram (the last two crash node_exporter 1.5) is skipped
 *     whole and sets node_textfile_scrape_error;
 *   - the files are then merged in name order as node_exporter's registry
 *     merges them: a family's first file fixes its HELP and TYPE, and the
 *     metrics of a later file that disagrees are dropped, as are repeated
 *     label sets (first wins). node_exporter 1.5 logs those drops but does
 *     not set scrape_error; neither do we, and we count them as skipped.
 * Summaries and histograms are exported as their sample series (name,
 * name_bucket, name_sum, name_count; untyped families), since a sonde
 * family has no summary or histogram type.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sonde.h"

struct textfile_config {
    char *directory;        /* directory or glob; empty: no files (node_exporter's default) */
    uint64_t max_file_size; /* a larger file is refused */
};

static const struct sonde_option textfile_options[] = {
    {"directory", SONDE_OPT_STRING, offsetof(struct textfile_config, directory), "", false,
     "Directory (or glob of directories) of *.prom files; empty: none "
     "(node_exporter's --collector.textfile.directory)"},
    {"max_file_size", SONDE_OPT_SIZE, offsetof(struct textfile_config, max_file_size), "64MiB",
     false, "A *.prom file larger than this is refused (scrape error)"},
    {NULL},
};

static const struct sonde_family textfile_mtime_family = {
    "node_textfile_mtime_seconds", SONDE_GAUGE, "Unixtime mtime of textfiles successfully read."};
static const struct sonde_family textfile_error_family = {
    "node_textfile_scrape_error", SONDE_GAUGE,
    "1 if there was an error opening or reading a file, 0 otherwise"};

/* Bounds against hostile files (node_exporter has none, and its work grows
 * with the square of these): labels on one sample line, and label slots
 * (metrics x distinct label names) of one family. */
#define TEXTFILE_MAX_LABELS      1024
#define TEXTFILE_MAX_LABEL_SLOTS (4u * 1024 * 1024)

/* ------------------------------------------------------------------ */
/* The parsed model, all in the batch arena                             */
/* ------------------------------------------------------------------ */

/* expfmt's metric types; TEXTFILE_UNSET until a TYPE line or the first sample. */
enum textfile_type {
    TEXTFILE_UNSET,
    TEXTFILE_COUNTER,
    TEXTFILE_GAUGE,
    TEXTFILE_SUMMARY,
    TEXTFILE_UNTYPED,
    TEXTFILE_HISTOGRAM
};

struct textfile_label {
    const char *name, *value;
};

/* A quantile or a bucket: its bound and its value (a count for buckets). */
struct textfile_point {
    double bound, value;
    size_t order; /* position in the file: the last of equal bounds wins */
};

struct textfile_metric {
    struct textfile_label *labels; /* without quantile / le for summaries / histograms */
    size_t nlabels, labels_cap;
    double value;                  /* counter, gauge, untyped */
    struct textfile_point *points; /* summary quantiles or histogram buckets, in file order */
    size_t npoints, points_cap;
    double count, sum; /* summary / histogram */
    struct textfile_metric *next;
};

struct textfile_family {
    const char *name;
    const char *help; /* NULL: no HELP line */
    enum textfile_type type;
    struct textfile_metric *first, *last;
    size_t nmetrics;
    struct textfile_family *next; /* creation order in the file */
};

/* One *.prom file that parsed (the others are only logged). */
struct textfile_file {
    const char *path; /* Go's filepath.Join(dir, name) */
    int64_t mtime;    /* seconds, as node_exporter truncates them */
    struct textfile_family *families;
    struct textfile_file *next;
};

/* A hash map in the arena: string keys (any bytes) to pointers. */
struct textfile_slot {
    const char *key;
    size_t klen;
    uint64_t hash;
    void *value;
};

struct textfile_map {
    struct textfile_slot *slots;
    size_t cap, n;
};

static uint64_t textfile_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void *textfile_map_get(const struct textfile_map *m, const char *key, size_t klen)
{
    if (!m->cap)
        return NULL;
    uint64_t h = textfile_hash(key, klen);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const struct textfile_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
            return s->value;
    }
}

/* Adds a key (copied into the arena) that is not in the map yet. */
static void textfile_map_put(struct sonde_arena *arena, struct textfile_map *m, const char *key,
                             size_t klen, void *value)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct textfile_slot *slots = sonde_arena_alloc(arena, cap * sizeof(*slots));
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key)
                continue;
            size_t j = m->slots[i].hash & (cap - 1);
            while (slots[j].key)
                j = (j + 1) & (cap - 1);
            slots[j] = m->slots[i];
        }
        m->slots = slots; /* the old array stays in the arena */
        m->cap = cap;
    }
    uint64_t h = textfile_hash(key, klen);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].key)
        j = (j + 1) & (m->cap - 1);
    m->slots[j] = (struct textfile_slot){sonde_arena_strndup(arena, key, klen), klen, h, value};
    m->n++;
}

/* Grows an arena array of `*cap` elements to hold `n + 1`. */
static void *textfile_grow(struct sonde_arena *arena, void *items, size_t n, size_t *cap,
                           size_t size)
{
    if (n < *cap)
        return items;
    size_t new_cap = *cap ? *cap * 2 : 8;
    void *grown = sonde_arena_alloc(arena, new_cap * size);
    if (n)
        memcpy(grown, items, n * size);
    *cap = new_cap;
    return grown;
}

/* ------------------------------------------------------------------ */
/* Values as Go reads and writes them                                   */
/* ------------------------------------------------------------------ */

static bool textfile_casecmp(const char *s, size_t len, const char *word)
{
    size_t wlen = strlen(word);
    if (len != wlen)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != word[i])
            return false;
    }
    return true;
}

/*
 * expfmt's parseFloat: Go's strconv.ParseFloat, minus hexadecimal and
 * underscores. Decimal forms, inf / infinity with a sign, nan without one
 * (any case). Overflow is an error, underflow is not. 0 or -EINVAL.
 */
static int textfile_parse_float(const char *s, size_t len, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (len && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (textfile_casecmp(s + i, len - i, "inf") || textfile_casecmp(s + i, len - i, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return 0;
    }
    if (i == 0 && textfile_casecmp(s, len, "nan")) {
        *out = NAN;
        return 0;
    }
    size_t digits = 0, j = i;
    while (j < len && s[j] >= '0' && s[j] <= '9')
        j++, digits++;
    if (j < len && s[j] == '.')
        for (j++; j < len && s[j] >= '0' && s[j] <= '9'; j++)
            digits++;
    if (!digits)
        return -EINVAL;
    if (j < len && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < len && (s[j] == '+' || s[j] == '-'))
            j++;
        size_t exp_digits = 0;
        while (j < len && s[j] >= '0' && s[j] <= '9')
            j++, exp_digits++;
        if (!exp_digits)
            return -EINVAL;
    }
    if (j != len)
        return -EINVAL;
    char tmp[512];
    if (len >= sizeof(tmp))
        return -EINVAL; /* no float needs that many characters */
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    double v = strtod(tmp, NULL);
    if (isinf(v))
        return -EINVAL;      /* out of range */
    *out = v == 0 ? 0.0 : v; /* Go writes -0 as 0 */
    return 0;
}

/* Go's uint64(float64) as compiled for amd64 (counts of summaries and
 * histograms): truncation, wrapping below zero, 0 past 2^64 and for NaN. */
static double textfile_to_count(double v)
{
    if (isnan(v) || v >= 18446744073709551616.0)
        return 0;
    if (v >= 0)
        return (double)(uint64_t)v;
    if (v > -9223372036854775808.0)
        return (double)(uint64_t)(int64_t)v;
    return 9223372036854775808.0;
}

/*
 * The text client_golang writes for a float in a label (le, quantile): 1,
 * 0, -1, NaN, +Inf, -Inf, else strconv.FormatFloat(v, 'g', -1, 64): the
 * shortest digits that read back, in exponent form when the exponent is
 * below -4 or at least 6 ("1e+06", "1.5e-07"). `out` has room for 48.
 */
#define TEXTFILE_FLOAT_TEXT 48

static void textfile_format_float(double v, char out[TEXTFILE_FLOAT_TEXT])
{
    if (v == 0 || v == 1 || v == -1 || isnan(v) || isinf(v)) {
        const char *t = v == 0     ? "0"
                        : v == 1   ? "1"
                        : v == -1  ? "-1"
                        : isnan(v) ? "NaN"
                        : v > 0    ? "+Inf"
                                   : "-Inf";
        snprintf(out, TEXTFILE_FLOAT_TEXT, "%s", t);
        return;
    }
    char e[TEXTFILE_FLOAT_TEXT];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    /* e is [-]d[.ddd]e[+-]XX: take its digits (trailing zeros dropped) and
     * its exponent, then lay them out as Go does. */
    const char *p = e;
    size_t o = 0;
    if (*p == '-')
        out[o++] = *p++;
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof(digits) - 1)
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    long exp = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
    if (exp < -4 || exp >= 6) {
        out[o++] = digits[0];
        if (nd > 1)
            out[o++] = '.';
        for (size_t k = 1; k < nd; k++)
            out[o++] = digits[k];
        snprintf(out + o, TEXTFILE_FLOAT_TEXT - o, "e%c%02ld", exp < 0 ? '-' : '+',
                 exp < 0 ? -exp : exp);
        return;
    }
    if (exp < 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (long k = -1; k > exp; k--)
            out[o++] = '0';
        for (size_t k = 0; k < nd; k++)
            out[o++] = digits[k];
    } else {
        for (long k = 0; k <= exp; k++) /* the integer part, zero-padded */
            out[o++] = (size_t)k < nd ? digits[k] : '0';
        if (nd > (size_t)exp + 1)
            out[o++] = '.';
        for (size_t k = (size_t)exp + 1; k < nd; k++)
            out[o++] = digits[k];
    }
    out[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* The parser: expfmt's TextParser, one line at a time                  */
/* ------------------------------------------------------------------ */

struct textfile_parser {
    struct sonde_arena *arena;
    struct sonde_buf *scratch;      /* unescaped text and signature keys; reused */
    struct textfile_map families;   /* name -> struct textfile_family */
    struct textfile_map signatures; /* summary / histogram identity -> struct textfile_metric */
    struct textfile_family *first, *last;
    /* What the last family lookup found (expfmt's currentIs* flags). */
    bool is_count, is_sum;
    /* The error, for the log. */
    size_t line;
    const char *reason;
};

static bool textfile_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool textfile_label_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool textfile_label_char(char c)
{
    return textfile_label_start(c) || (c >= '0' && c <= '9');
}

static bool textfile_name_char(char c)
{
    return textfile_label_char(c) || c == ':';
}

static int textfile_fail(struct textfile_parser *ps, const char *reason)
{
    ps->reason = reason;
    return -EINVAL;
}

/* The length of the metric name at p (expfmt reads [a-zA-Z_:][a-zA-Z0-9_:]*). */
static size_t textfile_name_len(const char *p, const char *end)
{
    if (p >= end || !(textfile_label_start(*p) || *p == ':'))
        return 0;
    size_t n = 1;
    while (p + n < end && textfile_name_char(p[n]))
        n++;
    return n;
}

static bool textfile_ends_with(const char *s, size_t len, const char *suffix, size_t slen)
{
    return len > slen && memcmp(s + len - slen, suffix, slen) == 0;
}

/*
 * expfmt's setOrCreateCurrentMF: the family `name` names, where a name
 * ending in _count or _sum (or _bucket) belongs to a summary (histogram)
 * family already declared under the shorter name. Creates an untyped,
 * help-less family when there is none.
 */
static struct textfile_family *textfile_family_for(struct textfile_parser *ps, const char *name,
                                                   size_t len)
{
    ps->is_count = ps->is_sum = false;
    struct textfile_family *f = textfile_map_get(&ps->families, name, len);
    if (f)
        return f;
    bool count = textfile_ends_with(name, len, "_count", 6),
         sum = textfile_ends_with(name, len, "_sum", 4);
    bool bucket = textfile_ends_with(name, len, "_bucket", 7);
    size_t base = count ? len - 6 : sum ? len - 4 : len;
    f = textfile_map_get(&ps->families, name, base);
    if (f && f->type == TEXTFILE_SUMMARY) {
        ps->is_count = count;
        ps->is_sum = sum;
        return f;
    }
    base = bucket ? len - 7 : base;
    f = textfile_map_get(&ps->families, name, base);
    if (f && f->type == TEXTFILE_HISTOGRAM) {
        ps->is_count = count;
        ps->is_sum = sum;
        return f;
    }
    f = sonde_arena_alloc(ps->arena, sizeof(*f));
    f->name = sonde_arena_strndup(ps->arena, name, len);
    textfile_map_put(ps->arena, &ps->families, name, len, f);
    if (ps->last)
        ps->last->next = f;
    else
        ps->first = f;
    ps->last = f;
    return f;
}

/* A HELP text: \\ and \n are the only escapes. Into ps->scratch. */
static int textfile_unescape_help(struct textfile_parser *ps, const char *p, const char *end)
{
    ps->scratch->len = 0;
    for (; p < end; p++) {
        char c = *p;
        if (c == '\\') {
            if (++p == end || (*p != '\\' && *p != 'n'))
                return textfile_fail(ps, "invalid escape sequence in HELP");
            c = *p == 'n' ? '\n' : '\\';
        } else if (c == '\0') {
            return textfile_fail(ps, "NUL byte in HELP");
        }
        sonde_buf_append(ps->scratch, &c, 1);
    }
    sonde_buf_append(ps->scratch, "", 1);
    return 0;
}

/* A "# HELP" or "# TYPE" line, or any other comment (ignored). */
static int textfile_parse_comment(struct textfile_parser *ps, const char *p, const char *end)
{
    p++; /* the '#' */
    while (p < end && textfile_blank(*p))
        p++;
    const char *kw = p;
    while (p < end && !textfile_blank(*p))
        p++;
    size_t kwlen = (size_t)(p - kw);
    if (p == end)
        return 0;
    bool help = kwlen == 4 && memcmp(kw, "HELP", 4) == 0;
    if (!help && !(kwlen == 4 && memcmp(kw, "TYPE", 4) == 0))
        return 0;
    while (p < end && textfile_blank(*p))
        p++;
    size_t nlen = textfile_name_len(p, end);
    const char *name = p;
    p += nlen;
    if (p == end)
        return 0; /* "# HELP name" without text: not an error */
    if (!textfile_blank(*p))
        return textfile_fail(ps, "invalid metric name in comment");
    struct textfile_family *f = textfile_family_for(ps, name, nlen);
    while (p < end && textfile_blank(*p))
        p++;
    if (p == end)
        return 0;
    if (help) {
        if (f->help)
            return textfile_fail(ps, "second HELP line for a metric name");
        if (textfile_unescape_help(ps, p, end) < 0)
            return -EINVAL;
        f->help = sonde_arena_strndup(ps->arena, ps->scratch->data, ps->scratch->len - 1);
        return 0;
    }
    if (f->type != TEXTFILE_UNSET)
        return textfile_fail(ps, "second TYPE line for a metric name, or TYPE after samples");
    static const struct {
        const char *name;
        enum textfile_type type;
    } types[] = {{"counter", TEXTFILE_COUNTER},
                 {"gauge", TEXTFILE_GAUGE},
                 {"summary", TEXTFILE_SUMMARY},
                 {"untyped", TEXTFILE_UNTYPED},
                 {"histogram", TEXTFILE_HISTOGRAM}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (textfile_casecmp(p, (size_t)(end - p), types[i].name)) {
            f->type = types[i].type;
            return 0;
        }
    /* Includes gauge_histogram, which the parser takes but node_exporter
     * 1.5 then crashes on. */
    return textfile_fail(ps, "unknown or unsupported metric type");
}

/* A label value after its opening quote: escapes \" \\ \n. Into
 * ps->scratch; *pp moves past the closing quote. */
static int textfile_label_value(struct textfile_parser *ps, const char **pp, const char *end)
{
    ps->scratch->len = 0;
    for (const char *p = *pp; p < end; p++) {
        char c = *p;
        if (c == '"') {
            if (!sonde_utf8_valid(ps->scratch->data, ps->scratch->len))
                return textfile_fail(ps, "invalid label value (not UTF-8)");
            sonde_buf_append(ps->scratch, "", 1);
            *pp = p + 1;
            return 0;
        }
        if (c == '\\') {
            if (++p == end || (*p != '"' && *p != '\\' && *p != 'n'))
                return textfile_fail(ps, "invalid escape sequence in label value");
            c = *p == 'n' ? '\n' : *p;
        } else if (c == '\0') {
            return textfile_fail(ps, "NUL byte in label value");
        }
        sonde_buf_append(ps->scratch, &c, 1);
    }
    return textfile_fail(ps, "label value not closed on its line");
}

/* What the labels of one sample line say about summaries and histograms. */
struct textfile_sample {
    struct textfile_metric *metric; /* the new metric, labels being added */
    struct textfile_label *sig;     /* labels for the signature (not quantile / le) */
    size_t nsig, sig_cap;
    double quantile, bucket; /* NaN when absent */
};

static int textfile_add_label(struct textfile_parser *ps, struct textfile_sample *smp,
                              struct textfile_family *f, const char *name, size_t nlen,
                              const char *value)
{
    struct textfile_metric *m = smp->metric;
    bool special = (f->type == TEXTFILE_SUMMARY && nlen == 8 && memcmp(name, "quantile", 8) == 0) ||
                   (f->type == TEXTFILE_HISTOGRAM && nlen == 2 && memcmp(name, "le", 2) == 0);
    if (special) {
        double v;
        if (textfile_parse_float(value, strlen(value), &v) < 0)
            return textfile_fail(ps, "expected a float as quantile or le label value");
        if (f->type == TEXTFILE_SUMMARY)
            smp->quantile = v;
        else
            smp->bucket = v;
        return 0;
    }
    if (m->nlabels == TEXTFILE_MAX_LABELS)
        return textfile_fail(ps, "too many labels");
    for (size_t i = 0; i < m->nlabels; i++)
        if (strlen(m->labels[i].name) == nlen && memcmp(m->labels[i].name, name, nlen) == 0)
            return textfile_fail(ps, "duplicate label names");
    m->labels = textfile_grow(ps->arena, m->labels, m->nlabels, &m->labels_cap, sizeof(*m->labels));
    struct textfile_label *l = &m->labels[m->nlabels++];
    l->name = sonde_arena_strndup(ps->arena, name, nlen);
    l->value = sonde_arena_strdup(ps->arena, value);
    return 0;
}

/* The {...} of a sample line, *pp at the '{'; moves *pp past the blanks
 * after the '}'. */
static int textfile_parse_labels(struct textfile_parser *ps, struct textfile_sample *smp,
                                 struct textfile_family *f, const char **pp, const char *end)
{
    const char *p = *pp + 1;
    for (;;) {
        while (p < end && textfile_blank(*p))
            p++;
        if (p < end && *p == '}')
            break;
        const char *name = p;
        if (p == end || !textfile_label_start(*p))
            return textfile_fail(ps, "invalid label name");
        while (p < end && textfile_label_char(*p))
            p++;
        size_t nlen = (size_t)(p - name);
        if (nlen >= 2 && name[0] == '_' && name[1] == '_')
            return textfile_fail(ps, nlen == 8 && memcmp(name, "__name__", 8) == 0
                                         ? "label name __name__ is reserved"
                                         : "label names starting with __ are reserved");
        while (p < end && textfile_blank(*p))
            p++;
        if (p == end || *p != '=')
            return textfile_fail(ps, "expected '=' after label name");
        p++;
        while (p < end && textfile_blank(*p))
            p++;
        if (p == end || *p != '"')
            return textfile_fail(ps, "expected '\"' at start of label value");
        p++;
        if (textfile_label_value(ps, &p, end) < 0)
            return -EINVAL;
        const char *value = ps->scratch->data;
        if (textfile_add_label(ps, smp, f, name, nlen, value) < 0)
            return -EINVAL;
        bool identity =
            (f->type == TEXTFILE_SUMMARY || f->type == TEXTFILE_HISTOGRAM) &&
            !(f->type == TEXTFILE_SUMMARY && nlen == 8 && !memcmp(name, "quantile", 8)) &&
            !(f->type == TEXTFILE_HISTOGRAM && nlen == 2 && !memcmp(name, "le", 2));
        if (identity) { /* part of the summary / histogram identity */
            smp->sig =
                textfile_grow(ps->arena, smp->sig, smp->nsig, &smp->sig_cap, sizeof(*smp->sig));
            smp->sig[smp->nsig++] = smp->metric->labels[smp->metric->nlabels - 1];
        }
        while (p < end && textfile_blank(*p))
            p++;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}')
            break;
        return textfile_fail(ps, "unexpected end of label value");
    }
    p++; /* the '}' */
    while (p < end && textfile_blank(*p))
        p++;
    *pp = p;
    return 0;
}

static int textfile_label_compare(const void *a, const void *b)
{
    return strcmp(((const struct textfile_label *)a)->name,
                  ((const struct textfile_label *)b)->name);
}

/* The metric of a summary / histogram line: an earlier one with the same
 * labels (quantile / le aside), or `fresh`, which is then registered. */
static struct textfile_metric *textfile_identity(struct textfile_parser *ps,
                                                 struct textfile_family *f,
                                                 struct textfile_sample *smp,
                                                 struct textfile_metric *fresh)
{
    if (smp->nsig > 1)
        qsort(smp->sig, smp->nsig, sizeof(*smp->sig), textfile_label_compare);
    struct sonde_buf *k = ps->scratch;
    k->len = 0;
    sonde_buf_append(k, f->name, strlen(f->name) + 1);
    for (size_t i = 0; i < smp->nsig; i++) {
        sonde_buf_append(k, smp->sig[i].name, strlen(smp->sig[i].name) + 1);
        sonde_buf_append(k, smp->sig[i].value, strlen(smp->sig[i].value) + 1);
    }
    struct textfile_metric *m = textfile_map_get(&ps->signatures, k->data, k->len);
    if (m)
        return m;
    textfile_map_put(ps->arena, &ps->signatures, k->data, k->len, fresh);
    return NULL;
}

static void textfile_append_metric(struct textfile_family *f, struct textfile_metric *m)
{
    if (f->last)
        f->last->next = m;
    else
        f->first = m;
    f->last = m;
    f->nmetrics++;
}

static void textfile_add_point(struct textfile_parser *ps, struct textfile_metric *m, double bound,
                               double value)
{
    m->points = textfile_grow(ps->arena, m->points, m->npoints, &m->points_cap, sizeof(*m->points));
    m->points[m->npoints] = (struct textfile_point){bound, value, m->npoints};
    m->npoints++;
}

/* A sample line: name, optional labels, value, and nothing after it (a
 * timestamp, which node_exporter refuses, included). */
static int textfile_parse_sample(struct textfile_parser *ps, const char *p, const char *end)
{
    size_t nlen = textfile_name_len(p, end);
    if (!nlen)
        return textfile_fail(ps, "invalid metric name");
    struct textfile_family *f = textfile_family_for(ps, p, nlen);
    bool is_count = ps->is_count, is_sum = ps->is_sum;
    if (f->type == TEXTFILE_UNSET)
        f->type = TEXTFILE_UNTYPED;
    p += nlen;
    while (p < end && textfile_blank(*p))
        p++;
    struct textfile_sample smp = {.metric =
                                      sonde_arena_alloc(ps->arena, sizeof(struct textfile_metric)),
                                  .quantile = NAN,
                                  .bucket = NAN};
    if (p < end && *p == '{' && textfile_parse_labels(ps, &smp, f, &p, end) < 0)
        return -EINVAL;
    const char *value = p;
    while (p < end && !textfile_blank(*p))
        p++;
    double v;
    if (textfile_parse_float(value, (size_t)(p - value), &v) < 0)
        return textfile_fail(ps, "expected a float as value");
    if (p != end)
        return textfile_fail(ps, "text after the value (timestamps are not supported)");

    struct textfile_metric *m = smp.metric;
    if (f->type == TEXTFILE_SUMMARY || f->type == TEXTFILE_HISTOGRAM) {
        struct textfile_metric *known = textfile_identity(ps, f, &smp, m);
        if (known)
            m = known;
        else
            textfile_append_metric(f, m);
        if (is_count)
            m->count = textfile_to_count(v);
        else if (is_sum)
            m->sum = v;
        else if (f->type == TEXTFILE_SUMMARY && !isnan(smp.quantile))
            textfile_add_point(ps, m, smp.quantile, v);
        else if (f->type == TEXTFILE_HISTOGRAM && !isnan(smp.bucket))
            textfile_add_point(ps, m, smp.bucket, textfile_to_count(v));
        return 0;
    }
    m->value = v;
    textfile_append_metric(f, m);
    return 0;
}

/*
 * Parses one file's text into ps (families in creation order from
 * ps->first). 0, or -EINVAL with ps->line and ps->reason set. As expfmt,
 * a last line without its newline is an error, except trailing blanks.
 */
static int textfile_parse(struct textfile_parser *ps, const char *buf, size_t len)
{
    size_t tail = len;
    while (tail && textfile_blank(buf[tail - 1]))
        tail--;
    ps->line = 0;
    for (size_t pos = 0; pos < tail;) {
        ps->line++;
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', tail - pos);
        if (!nl)
            return textfile_fail(ps, "unexpected end of input stream");
        pos = (size_t)(nl - buf) + 1;
        const char *p = line;
        while (p < nl && textfile_blank(*p))
            p++;
        if (p == nl)
            continue;
        int rc = *p == '#' ? textfile_parse_comment(ps, p, nl) : textfile_parse_sample(ps, p, nl);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Merging the files and emitting                                       */
/* ------------------------------------------------------------------ */

/* A family name as merged over the files: its first file's HELP and TYPE,
 * and the sonde families its samples go to. */
struct textfile_merged {
    const char *help;
    enum textfile_type type;
    const struct sonde_family *base, *bucket, *sum, *count;
};

/* One read: the parsed files and the merge state. */
struct textfile_read {
    struct sonde_batch *batch;
    struct sonde_buf *scratch;
    struct textfile_file *files, *last_file;
    struct textfile_map files_of; /* name -> struct textfile_paths: the files that have it */
    struct textfile_map merged;   /* name -> struct textfile_merged */
    struct textfile_map seen;     /* sample name + labels -> (void *)1: repeated label sets */
    uint64_t dropped;             /* metrics dropped by the merge */
};

/* The files that have a metric name, as node_exporter's default HELP
 * lists them: "a.prom, b.prom". */
struct textfile_paths {
    const char *text;
};

/* Records that `path` has a family `name`. */
static void textfile_note_file(struct textfile_read *rd, const char *name, const char *path)
{
    struct textfile_paths *list = textfile_map_get(&rd->files_of, name, strlen(name));
    if (!list) {
        list = sonde_arena_alloc(rd->batch->arena, sizeof(*list));
        list->text = path;
        textfile_map_put(rd->batch->arena, &rd->files_of, name, strlen(name), list);
        return;
    }
    list->text = sonde_arena_printf(rd->batch->arena, "%s, %s", list->text, path);
}

static const struct sonde_family *textfile_sonde_family(struct textfile_read *rd, const char *name,
                                                        const char *suffix,
                                                        enum sonde_metric_type type,
                                                        const char *help)
{
    char *full = sonde_arena_printf(rd->batch->arena, "%s%s", name, suffix);
    return sonde_family_new(rd->batch, full, type, help);
}

/* The merged entry for family f of a file, or NULL when an earlier file
 * gave the name another HELP or TYPE (the metrics are then dropped). */
static struct textfile_merged *textfile_merge(struct textfile_read *rd,
                                              const struct textfile_family *f, const char *help)
{
    size_t nlen = strlen(f->name);
    struct textfile_merged *m = textfile_map_get(&rd->merged, f->name, nlen);
    if (m)
        return m->type == f->type && strcmp(m->help, help) == 0 ? m : NULL;
    m = sonde_arena_alloc(rd->batch->arena, sizeof(*m));
    m->help = help;
    m->type = f->type;
    if (f->type == TEXTFILE_HISTOGRAM || f->type == TEXTFILE_SUMMARY) {
        if (f->type == TEXTFILE_HISTOGRAM)
            m->bucket = textfile_sonde_family(rd, f->name, "_bucket", SONDE_UNTYPED, help);
        else
            m->base = textfile_sonde_family(rd, f->name, "", SONDE_UNTYPED, help);
        m->sum = textfile_sonde_family(rd, f->name, "_sum", SONDE_UNTYPED, help);
        m->count = textfile_sonde_family(rd, f->name, "_count", SONDE_UNTYPED, help);
    } else {
        enum sonde_metric_type t = f->type == TEXTFILE_COUNTER ? SONDE_COUNTER
                                   : f->type == TEXTFILE_GAUGE ? SONDE_GAUGE
                                                               : SONDE_UNTYPED;
        m->base = sonde_family_new(rd->batch, f->name, t, help);
    }
    textfile_map_put(rd->batch->arena, &rd->merged, f->name, nlen, m);
    return m;
}

/* Whether this label set of `name` was exported already (then the metric
 * is dropped, as client_golang drops a repeated series); records it. */
static bool textfile_repeated(struct textfile_read *rd, const char *name,
                              struct sonde_label *labels, size_t n)
{
    struct sonde_buf *k = rd->scratch;
    k->len = 0;
    sonde_buf_append(k, name, strlen(name) + 1);
    for (size_t i = 0; i < n; i++) {
        sonde_buf_append(k, labels[i].key, strlen(labels[i].key) + 1);
        sonde_buf_append(k, labels[i].value, strlen(labels[i].value) + 1);
    }
    if (textfile_map_get(&rd->seen, k->data, k->len))
        return true;
    textfile_map_put(rd->batch->arena, &rd->seen, k->data, k->len, (void *)1);
    return false;
}

static int textfile_point_compare(const void *a, const void *b)
{
    const struct textfile_point *x = a, *y = b;
    if (x->bound != y->bound)
        return x->bound < y->bound ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorts quantiles / buckets by bound and keeps the last of equal bounds
 * (client_golang holds them in a map). Returns the new count. */
static size_t textfile_points_unique(struct textfile_point *pts, size_t n)
{
    if (n > 1)
        qsort(pts, n, sizeof(*pts), textfile_point_compare);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && pts[k - 1].bound == pts[i].bound)
            k--; /* a later one with the same bound replaces it */
        pts[k++] = pts[i];
    }
    return k;
}

static int textfile_sonde_label_compare(const void *a, const void *b)
{
    return strcmp(((const struct sonde_label *)a)->key, ((const struct sonde_label *)b)->key);
}

/* Emits one metric with labels[0..n) (room for one more: le / quantile). */
static void textfile_emit_metric(struct textfile_read *rd, const struct textfile_merged *mg,
                                 enum textfile_type type, struct textfile_metric *m,
                                 struct sonde_label *labels, size_t n)
{
    struct sonde_batch *b = rd->batch;
    if (type != TEXTFILE_SUMMARY && type != TEXTFILE_HISTOGRAM) {
        sonde_emitv(b, mg->base, m->value, labels, n);
        return;
    }
    char bound[TEXTFILE_FLOAT_TEXT];
    size_t npoints = textfile_points_unique(m->points, m->npoints);
    bool inf = false;
    for (size_t i = 0; i < npoints; i++) {
        textfile_format_float(m->points[i].bound, bound);
        labels[n].key = type == TEXTFILE_SUMMARY ? "quantile" : "le";
        labels[n].value = bound;
        sonde_emitv(b, type == TEXTFILE_SUMMARY ? mg->base : mg->bucket, m->points[i].value, labels,
                    n + 1);
        inf |= isinf(m->points[i].bound) && m->points[i].bound > 0;
    }
    if (type == TEXTFILE_HISTOGRAM && !inf) { /* client_golang adds the +Inf bucket */
        labels[n].key = "le";
        labels[n].value = "+Inf";
        sonde_emitv(b, mg->bucket, m->count, labels, n + 1);
    }
    sonde_emitv(b, mg->sum, m->sum, labels, n);
    sonde_emitv(b, mg->count, m->count, labels, n);
}

/* Emits a file's family: its metrics get every label name any metric of
 * the family has in this file ("" when missing), as node_exporter does. */
static void textfile_emit_family(struct textfile_read *rd, const struct textfile_file *file,
                                 const struct textfile_family *f)
{
    struct sonde_batch *b = rd->batch;
    const char *help = f->help;
    if (!help) {
        const struct textfile_paths *list =
            textfile_map_get(&rd->files_of, f->name, strlen(f->name));
        help = sonde_arena_printf(b->arena, "Metric read from %s", list ? list->text : file->path);
    }
    const struct textfile_merged *mg = textfile_merge(rd, f, help);
    if (!mg) {
        rd->dropped += f->nmetrics;
        sonde_log(SONDE_LOG_DEBUG, "textfile: %s: %s has another HELP or TYPE in an earlier file",
                  file->path, f->name);
        return;
    }
    /* Every label name of the family in this file, and its slot. */
    struct textfile_map slot_of = {0};
    const char **names = NULL;
    size_t nnames = 0, names_cap = 0;
    for (const struct textfile_metric *m = f->first; m; m = m->next)
        for (size_t i = 0; i < m->nlabels; i++) {
            const char *name = m->labels[i].name;
            if (textfile_map_get(&slot_of, name, strlen(name)))
                continue;
            names = textfile_grow(b->arena, names, nnames, &names_cap, sizeof(*names));
            names[nnames++] = name;
            textfile_map_put(b->arena, &slot_of, name, strlen(name), (void *)(uintptr_t)nnames);
        }
    if (nnames && f->nmetrics > TEXTFILE_MAX_LABEL_SLOTS / nnames) {
        /* Filling every metric with every name would explode. */
        rd->dropped += f->nmetrics;
        sonde_log(SONDE_LOG_WARN, "textfile: %s: %s: %zu metrics with %zu label names: dropped",
                  file->path, f->name, f->nmetrics, nnames);
        return;
    }
    struct sonde_label *labels = sonde_arena_alloc(b->arena, (nnames + 1) * sizeof(*labels));
    for (struct textfile_metric *m = f->first; m; m = m->next) {
        for (size_t k = 0; k < nnames; k++) {
            labels[k].key = names[k];
            labels[k].value = "";
        }
        for (size_t i = 0; i < m->nlabels; i++) {
            const char *name = m->labels[i].name;
            uintptr_t slot = (uintptr_t)textfile_map_get(&slot_of, name, strlen(name));
            labels[slot - 1].value = m->labels[i].value;
        }
        if (nnames > 1)
            qsort(labels, nnames, sizeof(*labels), textfile_sonde_label_compare);
        if (textfile_repeated(rd, f->name, labels, nnames)) {
            rd->dropped++;
            continue;
        }
        textfile_emit_metric(rd, mg, f->type, m, labels, nnames);
    }
}

/* ------------------------------------------------------------------ */
/* Files and directories                                                */
/* ------------------------------------------------------------------ */

/* Go's filepath.Clean (Unix): the lexically shortest equivalent path.
 * `out` has room for strlen(path) + 2. */
static void textfile_clean(const char *path, char *out)
{
    size_t n = strlen(path), r = 0, w = 0, dotdot = 0;
    bool rooted = n && path[0] == '/';
    if (rooted) {
        out[w++] = '/';
        r = dotdot = 1;
    }
    while (r < n) {
        if (path[r] == '/') {
            r++;
        } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
            r++;
        } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                w--;
                while (w > dotdot && out[w] != '/')
                    w--;
            } else if (!rooted) {
                if (w > 0)
                    out[w++] = '/';
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0))
                out[w++] = '/';
            for (; r < n && path[r] != '/'; r++)
                out[w++] = path[r];
        }
    }
    if (w == 0)
        out[w++] = '.';
    out[w] = '\0';
}

struct textfile_state {
    const struct textfile_config *config; /* borrowed: lives as long as the instance */
    struct sonde_buf content;             /* the file being parsed; reused */
    struct sonde_buf scratch;             /* parser and merge keys; reused */
    struct sonde_ratelimit log;
};

/* Reads a whole file into st->content (NUL-terminated). 0 or -errno. */
static int textfile_read_file(struct textfile_state *st, const char *path, struct stat *sb)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    st->content.len = 0;
    /* A directory named *.prom reads as an empty file to node_exporter. */
    struct stat first;
    bool is_dir = fstat(fd, &first) == 0 && S_ISDIR(first.st_mode);
    while (!is_dir) {
        char chunk[65536];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        if (st->content.len + (size_t)n > st->config->max_file_size) {
            rc = -EFBIG;
            break;
        }
        sonde_buf_append(&st->content, chunk, (size_t)n);
    }
    /* node_exporter takes the time after the parse, from the open file. */
    if (rc == 0 && fstat(fd, sb) < 0)
        rc = -errno;
    close(fd);
    sonde_buf_append(&st->content, "", 0);
    return rc;
}

/* Parses one file into the read; false when it had to be skipped. */
static bool textfile_process_file(struct textfile_state *st, struct textfile_read *rd,
                                  const char *path)
{
    struct textfile_file *file = sonde_arena_alloc(rd->batch->arena, sizeof(*file));
    file->path = path;
    struct stat sb;
    int rc = textfile_read_file(st, path, &sb);
    struct textfile_parser ps = {.arena = rd->batch->arena, .scratch = &st->scratch};
    if (rc == 0)
        rc = textfile_parse(&ps, st->content.data ? st->content.data : "", st->content.len);
    if (rc < 0) {
        if (rc == -EINVAL)
            sonde_log_limited(&st->log, 300, SONDE_LOG_WARN, "textfile: %s: line %zu: %s", path,
                              ps.line, ps.reason ? ps.reason : "malformed");
        else
            sonde_log_limited(&st->log, 300, SONDE_LOG_WARN, "textfile: %s: %s", path,
                              strerror(-rc));
        return false;
    }
    /* Go's UnixNano() / 1e9: seconds, truncated toward zero. */
    file->mtime = (int64_t)sb.st_mtim.tv_sec + (sb.st_mtim.tv_sec < 0 && sb.st_mtim.tv_nsec > 0);
    /* expfmt drops the families that have no sample (a lone HELP). */
    struct textfile_family *tail = NULL;
    for (struct textfile_family *f = ps.first, *next; f; f = next) {
        next = f->next;
        f->next = NULL;
        if (!f->nmetrics)
            continue;
        textfile_note_file(rd, f->name, path);
        if (tail)
            tail->next = f;
        else
            file->families = f;
        tail = f;
    }
    if (rd->last_file)
        rd->last_file->next = file;
    else
        rd->files = file;
    rd->last_file = file;
    return true;
}

static int textfile_name_compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.prom files of one directory, in name order (Go's os.ReadDir).
 * Returns false when the directory cannot be read. */
static bool textfile_process_dir(struct textfile_state *st, struct textfile_read *rd,
                                 const char *dir, bool *errored)
{
    DIR *d = opendir(dir);
    if (!d) {
        sonde_log_limited(&st->log, 300, SONDE_LOG_WARN, "textfile: cannot read directory %s: %s",
                          dir, strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".prom") != 0)
            continue;
        names = textfile_grow(rd->batch->arena, names, n, &cap, sizeof(*names));
        names[n++] = sonde_arena_strdup(rd->batch->arena, e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), textfile_name_compare);
    for (size_t i = 0; i < n; i++) {
        char *joined = sonde_arena_printf(rd->batch->arena, "%s/%s", dir, names[i]);
        char *path = sonde_arena_alloc(rd->batch->arena, strlen(joined) + 2);
        textfile_clean(joined, path);
        if (!textfile_process_file(st, rd, path))
            *errored = true;
    }
    return true;
}

static int textfile_file_compare(const void *a, const void *b)
{
    return strcmp((*(struct textfile_file *const *)a)->path,
                  (*(struct textfile_file *const *)b)->path);
}

/* node_textfile_mtime_seconds of the files read, sorted by path. */
static void textfile_emit_mtimes(struct textfile_read *rd)
{
    size_t n = 0;
    for (struct textfile_file *f = rd->files; f; f = f->next)
        n++;
    if (!n)
        return;
    struct textfile_file **sorted = sonde_arena_alloc(rd->batch->arena, n * sizeof(*sorted));
    n = 0;
    for (struct textfile_file *f = rd->files; f; f = f->next)
        sorted[n++] = f;
    if (n > 1)
        qsort(sorted, n, sizeof(*sorted), textfile_file_compare);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(sorted[i]->path, sorted[i - 1]->path) != 0)
            sonde_emit(rd->batch, &textfile_mtime_family, (double)sorted[i]->mtime, "file",
                       sorted[i]->path, NULL);
}

/* Claims node_textfile_mtime_seconds and node_textfile_scrape_error (and
 * the series this read gives them) before the files' families are merged:
 * a file that defines them too cannot replace or repeat them. */
static void textfile_reserve_own(struct textfile_read *rd)
{
    const struct sonde_family *own[] = {&textfile_mtime_family, &textfile_error_family};
    for (size_t i = 0; i < 2; i++) {
        struct textfile_merged *m = sonde_arena_alloc(rd->batch->arena, sizeof(*m));
        m->help = own[i]->help;
        m->type = TEXTFILE_GAUGE;
        m->base = own[i];
        textfile_map_put(rd->batch->arena, &rd->merged, own[i]->name, strlen(own[i]->name), m);
    }
    textfile_repeated(rd, textfile_error_family.name, NULL, 0);
    for (struct textfile_file *f = rd->files; f; f = f->next) {
        struct sonde_label file = {"file", f->path};
        textfile_repeated(rd, textfile_mtime_family.name, &file, 1);
    }
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                     */
/* ------------------------------------------------------------------ */

static int textfile_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)ctx; /* node_exporter does not put the directory under --path.rootfs */
    struct textfile_state *st = sonde_xcalloc(1, sizeof(*st));
    st->config = config;
    *state = st;
    return 0;
}

static int textfile_read(void *state, struct sonde_batch *batch)
{
    struct textfile_state *st = state;
    if (!batch->want_series)
        return 0; /* nothing for line protocol */
    struct textfile_read rd = {.batch = batch, .scratch = &st->scratch};
    bool errored = false;
    const char *dir = st->config->directory ? st->config->directory : "";
    if (*dir) {
        /* A glob, as node_exporter 1.5 allows; no match: the name itself
         * (which then fails to open, as a missing directory should). */
        glob_t g;
        int grc = glob(dir, GLOB_NOCHECK, NULL, &g);
        if (grc == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++)
                if (!textfile_process_dir(st, &rd, g.gl_pathv[i], &errored))
                    errored = true;
            globfree(&g);
        } else if (!textfile_process_dir(st, &rd, dir, &errored)) {
            errored = true;
        }
    }
    textfile_reserve_own(&rd);
    for (struct textfile_file *f = rd.files; f; f = f->next)
        for (struct textfile_family *fam = f->families; fam; fam = fam->next)
            textfile_emit_family(&rd, f, fam);
    if (rd.dropped) {
        batch->skipped += rd.dropped;
        sonde_log_limited(&st->log, 300, SONDE_LOG_WARN,
                          "textfile: dropped %llu metric(s) repeated, or with another HELP or "
                          "TYPE than in an earlier file",
                          (unsigned long long)rd.dropped);
    }
    textfile_emit_mtimes(&rd);
    sonde_emit(batch, &textfile_error_family, errored ? 1.0 : 0.0, NULL);
    return 0;
}

static void textfile_destroy(void *state)
{
    struct textfile_state *st = state;
    if (!st)
        return;
    sonde_buf_free(&st->content);
    sonde_buf_free(&st->scratch);
    free(st);
}

const struct sonde_plugin sonde_plugin_textfile = {
    .name = "textfile",                                              /* node_exporter's collector */
    .kind = SONDE_INPUT,                                             /* reads the host */
    .summary = "Metrics from *.prom files (Prometheus text format)", /* for --help and docs */
    .config_size = sizeof(struct textfile_config),                   /* directory, max_file_size */
    .options = textfile_options,                                     /* see the table above */
    .init = textfile_init,                                           /* keeps the config */
    .read = textfile_read,                                           /* every file, every cycle */
    .write = NULL,                                                   /* inputs do not write */
    .destroy = textfile_destroy,                                     /* frees the buffers */
};
