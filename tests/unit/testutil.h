/*
 * testutil.h - helpers shared by the unit tests: reading fixtures and
 * looking up what a plugin emitted in a batch.
 */
#ifndef SONDE_TESTUTIL_H
#define SONDE_TESTUTIL_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

/* Reads tests/fixtures/<name> into a malloc'd NUL-terminated string. */
static inline char *fixture_read(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "fixture %s missing", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static inline const char *label_get(const struct sonde_label *labels, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(labels[i].key, key) == 0)
            return labels[i].value;
    return NULL;
}

/* Finds the series `name` whose labels include the NULL-terminated
 * key/value pairs given; NULL when absent. */
static inline const struct sonde_series *series_find(const struct sonde_batch *b, const char *name,
                                                     ...)
{
    for (size_t i = 0; i < b->nseries; i++) {
        const struct sonde_series *s = &b->series[i];
        if (strcmp(s->family->name, name) != 0)
            continue;
        va_list ap;
        va_start(ap, name);
        int match = 1;
        for (const char *k; match && (k = va_arg(ap, const char *));) {
            const char *v = va_arg(ap, const char *);
            const char *have = label_get(s->labels, s->nlabels, k);
            match = have && strcmp(have, v) == 0;
        }
        va_end(ap);
        if (match)
            return s;
    }
    return NULL;
}

/* Number of series of family `name`. */
static inline size_t series_count(const struct sonde_batch *b, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nseries; i++)
        n += strcmp(b->series[i].family->name, name) == 0;
    return n;
}

/* Finds the point `measurement` whose tags include the pairs given. */
static inline const struct sonde_point *point_find(const struct sonde_batch *b,
                                                   const char *measurement, ...)
{
    for (size_t i = 0; i < b->npoints; i++) {
        const struct sonde_point *p = b->points[i];
        if (strcmp(p->measurement, measurement) != 0)
            continue;
        va_list ap;
        va_start(ap, measurement);
        int match = 1;
        for (const char *k; match && (k = va_arg(ap, const char *));) {
            const char *v = va_arg(ap, const char *);
            const char *have = label_get(p->tags, p->ntags, k);
            match = have && strcmp(have, v) == 0;
        }
        va_end(ap);
        if (match)
            return p;
    }
    return NULL;
}

static inline const struct sonde_field *field_get(const struct sonde_point *p, const char *key)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (strcmp(p->fields[i].key, key) == 0)
            return &p->fields[i];
    return NULL;
}

#endif
