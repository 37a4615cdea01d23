/*
 * lineproto.c - InfluxDB line protocol encoder. Escaping follows the
 * InfluxDB 1.x/2.x spec per element: measurement (comma, space), tag keys,
 * tag values and field keys (comma, equals, space), string field values
 * (double quote, backslash). Control characters that would end a line are
 * written as \n, \r, \t, \f as Telegraf does; a trailing backslash is
 * dropped because the parser would read it as escaping the separator.
 * Integers carry an `i` suffix; unsigned values are written as integers
 * (clamped to int64) since InfluxDB 1.x rejects `u` unless configured.
 * Empty tags are skipped; NaN and infinite fields are skipped and counted;
 * a point left with no field is not written, and counted.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static bool lp_needs_escape(char c, enum lp_context context)
{
    switch (context) {
    case LP_MEASUREMENT:
        return c == ',' || c == ' ';
    case LP_TAG_KEY:
    case LP_TAG_VALUE:
    case LP_FIELD_KEY:
        return c == ',' || c == '=' || c == ' ';
    case LP_STRING_VALUE:
        return c == '"' || c == '\\';
    }
    return false;
}

void lp_escape(struct sonde_buf *out, const char *s, enum lp_context context)
{
    size_t len = strlen(s);
    if (context != LP_STRING_VALUE)
        while (len > 0 && s[len - 1] == '\\')
            len--;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        const char *rep = NULL;
        char esc[2] = {'\\', c};
        if (context != LP_STRING_VALUE && (c == '\n' || c == '\r' || c == '\t' || c == '\f')) {
            rep = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : "\\f";
        } else if (lp_needs_escape(c, context)) {
            rep = esc;
        }
        if (!rep)
            continue;
        sonde_buf_append(out, s + start, i - start);
        sonde_buf_append(out, rep, 2);
        start = i + 1;
    }
    sonde_buf_append(out, s + start, len - start);
}

/* Writes ",key=value" for a tag unless it is empty once escaped. */
static void lp_tag(struct sonde_buf *out, const struct sonde_label *tag)
{
    if (!tag->key[0] || !tag->value[0])
        return;
    size_t mark = out->len;
    sonde_buf_append(out, ",", 1);
    lp_escape(out, tag->key, LP_TAG_KEY);
    size_t key_end = out->len;
    sonde_buf_append(out, "=", 1);
    lp_escape(out, tag->value, LP_TAG_VALUE);
    if (key_end == mark + 1 || out->len == key_end + 1) { /* all backslashes */
        out->len = mark;
        out->data[mark] = '\0';
    }
}

/* Merges the batch tags and the point's tags (both sorted); the point's
 * own tag wins over a batch tag of the same key, as in Telegraf. */
static void lp_tags(struct sonde_buf *out, const struct sonde_batch *batch,
                    const struct sonde_point *p)
{
    size_t i = 0, j = 0;
    while (i < batch->nlp_tags || j < p->ntags) {
        int cmp;
        if (i == batch->nlp_tags)
            cmp = 1;
        else if (j == p->ntags)
            cmp = -1;
        else
            cmp = strcmp(batch->lp_tags[i].key, p->tags[j].key);
        if (cmp < 0) {
            lp_tag(out, &batch->lp_tags[i++]);
        } else if (cmp > 0) {
            lp_tag(out, &p->tags[j++]);
        } else {
            lp_tag(out, &p->tags[j++]);
            i++;
        }
    }
}

/* Appends one field as key=value; returns false when it was skipped. */
static bool lp_field(struct sonde_buf *out, const struct sonde_field *f, bool first,
                     struct sonde_lp_stats *stats)
{
    char num[40];
    if (f->type == SONDE_FIELD_FLOAT && !isfinite(f->v.f)) {
        stats->nonfinite_fields++;
        return false;
    }
    if (!f->key[0])
        return false;
    size_t mark = out->len;
    if (!first)
        sonde_buf_append(out, ",", 1);
    size_t key_start = out->len;
    lp_escape(out, f->key, LP_FIELD_KEY);
    if (out->len == key_start) { /* key was only backslashes */
        out->len = mark;
        out->data[mark] = '\0';
        return false;
    }
    sonde_buf_append(out, "=", 1);
    switch (f->type) {
    case SONDE_FIELD_FLOAT:
        sonde_buf_append(out, num, format_double(num, f->v.f));
        break;
    case SONDE_FIELD_INT:
        sonde_buf_printf(out, "%" PRId64 "i", f->v.i);
        break;
    case SONDE_FIELD_UINT:
        sonde_buf_printf(out, "%" PRIu64 "i", f->v.u > INT64_MAX ? (uint64_t)INT64_MAX : f->v.u);
        break;
    case SONDE_FIELD_BOOL:
        sonde_buf_puts(out, f->v.b ? "true" : "false");
        break;
    case SONDE_FIELD_STRING:
        sonde_buf_append(out, "\"", 1);
        lp_escape(out, f->v.s, LP_STRING_VALUE);
        sonde_buf_append(out, "\"", 1);
        break;
    }
    return true;
}

static void lp_point(struct sonde_buf *out, const struct sonde_batch *batch,
                     const struct sonde_point *p, struct sonde_lp_stats *stats)
{
    size_t mark = out->len;
    lp_escape(out, p->measurement, LP_MEASUREMENT);
    if (out->len == mark || out->data[mark] == '#') {
        out->len = mark; /* empty, or would read as a comment */
        out->data[mark] = '\0';
        stats->empty_points++;
        return;
    }
    lp_tags(out, batch, p);
    sonde_buf_append(out, " ", 1);
    size_t written = 0;
    for (size_t i = 0; i < p->nfields; i++)
        written += lp_field(out, &p->fields[i], written == 0, stats);
    if (written == 0) {
        out->len = mark;
        out->data[mark] = '\0';
        stats->empty_points++;
        return;
    }
    sonde_buf_printf(out, " %" PRId64 "\n", batch->timestamp_ns);
    stats->lines++;
}

void sonde_lp_encode_batch(struct sonde_buf *out, const struct sonde_batch *batch,
                           struct sonde_lp_stats *stats)
{
    for (size_t i = 0; i < batch->npoints; i++)
        lp_point(out, batch, batch->points[i], stats);
}

int sonde_lp_push_encode(void *state, const struct sonde_batch *batch, struct sonde_buf *out,
                         size_t *nrecords)
{
    (void)state;
    struct sonde_lp_stats stats = {0};
    sonde_lp_encode_batch(out, batch, &stats);
    *nrecords += stats.lines;
    return 0;
}

size_t sonde_lp_record_size(const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    return nl ? (size_t)(nl - buf) + 1 : len;
}

size_t sonde_lp_rejected(void *state, long status, const char *body, size_t nrecords)
{
    (void)state;
    (void)status;
    const char *d = strstr(body, "dropped=");
    if (!d)
        return nrecords;
    char *end;
    unsigned long long n = strtoull(d + 8, &end, 10);
    if (end == d + 8 || n > nrecords)
        return nrecords;
    return (size_t)n;
}

void sonde_url_escape(struct sonde_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            sonde_buf_append(out, (const char *)&c, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            sonde_buf_append(out, esc, 3);
        }
    }
}
