/*
 * batch.c - building a batch: Prometheus series and line-protocol points
 * appended by an input's read(). Everything lives in the batch's arena;
 * arrays grow by doubling inside it (the old copy is left to the arena).
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct sonde_batch *batch_new(const char *input)
{
    struct sonde_batch *batch = sonde_xcalloc(1, sizeof(*batch));
    batch->arena = sonde_arena_new();
    batch->input = input;
    batch->want_series = true;
    batch->want_points = true;
    return batch;
}

void batch_free(struct sonde_batch *batch)
{
    if (!batch)
        return;
    sonde_arena_free(batch->arena);
    free(batch);
}

/* Grows an arena array of `*cap` elements of `size` bytes to hold one more. */
static void *batch_grow(struct sonde_arena *arena, void *items, size_t count, size_t *cap,
                        size_t size)
{
    if (count < *cap)
        return items;
    size_t new_cap = *cap ? *cap * 2 : 16;
    void *grown = sonde_arena_alloc(arena, new_cap * size);
    if (count)
        memcpy(grown, items, count * size);
    *cap = new_cap;
    return grown;
}

static int label_compare(const void *a, const void *b)
{
    return strcmp(((const struct sonde_label *)a)->key, ((const struct sonde_label *)b)->key);
}

/* Insertion sort: label sets are small and usually already in order. */
static void labels_sort(struct sonde_label *labels, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct sonde_label cur = labels[i];
        size_t j = i;
        while (j > 0 && label_compare(&labels[j - 1], &cur) > 0) {
            labels[j] = labels[j - 1];
            j--;
        }
        labels[j] = cur;
    }
}

void sonde_emitv(struct sonde_batch *batch, const struct sonde_family *family, double value,
                 const struct sonde_label *labels, size_t nlabels)
{
    if (!batch->want_series)
        return;
    batch->series = batch_grow(batch->arena, batch->series, batch->nseries, &batch->series_cap,
                               sizeof(*batch->series));
    struct sonde_series *s = &batch->series[batch->nseries++];
    s->family = family;
    s->value = value;
    s->nlabels = (uint32_t)nlabels;
    s->labels = nlabels ? sonde_arena_alloc(batch->arena, nlabels * sizeof(*labels)) : NULL;
    for (size_t i = 0; i < nlabels; i++) {
        s->labels[i].key = labels[i].key;
        s->labels[i].value = sonde_arena_strdup(batch->arena, labels[i].value);
    }
    labels_sort(s->labels, nlabels);
}

#define EMIT_MAX_LABELS 32

void sonde_emit(struct sonde_batch *batch, const struct sonde_family *family, double value, ...)
{
    if (!batch->want_series)
        return;
    struct sonde_label labels[EMIT_MAX_LABELS];
    size_t n = 0;
    va_list ap;
    va_start(ap, value);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *val = va_arg(ap, const char *);
        if (n == EMIT_MAX_LABELS) {
            sonde_log(SONDE_LOG_ERROR, "%s: more than %d labels on %s", batch->input,
                      EMIT_MAX_LABELS, family->name);
            abort(); /* a programming error, caught by the unit tests */
        }
        labels[n].key = key;
        labels[n].value = val ? val : "";
        n++;
    }
    va_end(ap);
    sonde_emitv(batch, family, value, labels, n);
}

struct sonde_point *sonde_point(struct sonde_batch *batch, const char *measurement)
{
    if (!batch->want_points)
        return &batch->discard;
    batch->points = batch_grow(batch->arena, batch->points, batch->npoints, &batch->points_cap,
                               sizeof(*batch->points));
    struct sonde_point *p = sonde_arena_alloc(batch->arena, sizeof(*p));
    p->measurement = measurement;
    batch->points[batch->npoints++] = p;
    return p;
}

void sonde_point_tag(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                     const char *value)
{
    if (point == &batch->discard)
        return;
    size_t cap = point->tags_cap;
    point->tags = batch_grow(batch->arena, point->tags, point->ntags, &cap, sizeof(*point->tags));
    point->tags_cap = (uint32_t)cap;
    point->tags[point->ntags].key = key;
    point->tags[point->ntags].value = sonde_arena_strdup(batch->arena, value ? value : "");
    point->ntags++;
}

/* A field slot of the point; a scratch slot for the discard point. */
static struct sonde_field *point_field(struct sonde_batch *batch, struct sonde_point *point,
                                       const char *key, enum sonde_field_type type)
{
    static _Thread_local struct sonde_field scratch;
    if (point == &batch->discard)
        return &scratch;
    size_t cap = point->fields_cap;
    point->fields =
        batch_grow(batch->arena, point->fields, point->nfields, &cap, sizeof(*point->fields));
    point->fields_cap = (uint32_t)cap;
    struct sonde_field *f = &point->fields[point->nfields++];
    f->key = key;
    f->type = type;
    return f;
}

void sonde_point_float(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                       double value)
{
    point_field(batch, point, key, SONDE_FIELD_FLOAT)->v.f = value;
}

void sonde_point_int(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                     int64_t value)
{
    point_field(batch, point, key, SONDE_FIELD_INT)->v.i = value;
}

void sonde_point_uint(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                      uint64_t value)
{
    point_field(batch, point, key, SONDE_FIELD_UINT)->v.u = value;
}

void sonde_point_bool(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                      bool value)
{
    point_field(batch, point, key, SONDE_FIELD_BOOL)->v.b = value;
}

void sonde_point_string(struct sonde_batch *batch, struct sonde_point *point, const char *key,
                        const char *value)
{
    if (point == &batch->discard)
        return;
    point_field(batch, point, key, SONDE_FIELD_STRING)->v.s =
        sonde_arena_strdup(batch->arena, value ? value : "");
}

const struct sonde_family *sonde_family_new(struct sonde_batch *batch, const char *name,
                                            enum sonde_metric_type type, const char *help)
{
    struct sonde_family *f = sonde_arena_alloc(batch->arena, sizeof(*f));
    f->name = sonde_arena_strdup(batch->arena, name);
    f->type = type;
    f->help = sonde_arena_strdup(batch->arena, help ? help : "");
    return f;
}

void batch_finish(struct sonde_batch *batch)
{
    for (size_t i = 0; i < batch->npoints; i++)
        labels_sort(batch->points[i]->tags, batch->points[i]->ntags);
}
