/*
 * core.h - internal interfaces between the parts of the daemon core
 * (batches, encoders, store, config, scheduler, endpoint). Plugins never
 * include this file; they see include/sonde.h only.
 */
#ifndef SONDE_CORE_H
#define SONDE_CORE_H

#include <pthread.h>
#include <stdatomic.h>

#include "sonde.h"

/* ---- arena.c ---- */
size_t arena_bytes(const struct sonde_arena *arena);

/* ---- batch.c ---- */
/* A new empty batch named after `input` (borrowed, static or longer-lived).
 * Freed with batch_free. */
struct sonde_batch *batch_new(const char *input);
void batch_free(struct sonde_batch *batch);
/* Sorts every point's tags; called once after read(). */
void batch_finish(struct sonde_batch *batch);

/* ---- file.c ---- */
/* Starts a round of the calling thread (the scheduler's): reads shared
 * with sonde_file_read_shared are valid until the next. */
void file_round_begin(void);

/* ---- buf.c ---- */
/* Makes room for `extra` more bytes and the terminating NUL, for writers
 * that fill buf->data themselves. */
void buf_reserve(struct sonde_buf *buf, size_t extra);

/* ---- log.c ---- */
void log_set_level(enum sonde_log_level level);
int64_t clock_realtime_ns(void);
int64_t clock_monotonic_ns(void);

/* ---- format.c ---- */
/* Shortest text that reads back as the same double; "NaN", "+Inf", "-Inf".
 * Returns the length written to `out` (at least 32 bytes). */
size_t format_double(char *out, double value);

/* ---- lineproto.c: the escapes, exposed for tests ---- */
enum lp_context { LP_MEASUREMENT, LP_TAG_KEY, LP_TAG_VALUE, LP_FIELD_KEY, LP_STRING_VALUE };
void lp_escape(struct sonde_buf *out, const char *s, enum lp_context context);

/* ---- exposition.c: Prometheus text 0.0.4 and OpenMetrics 1.0 ---- */
enum expo_format { EXPO_TEXT, EXPO_OPENMETRICS };
struct expo_source {
    const struct sonde_batch *const *batches;
    size_t nbatches;
};
/* Appends every series of every batch, grouped by family (sorted by name,
 * one HELP and TYPE each). */
void expo_render(struct sonde_buf *out, const struct expo_source *src, enum expo_format format);
/* The grouping of one render kept for the next (whatever the format): the
 * next render of series of the same families, run by run, skips grouping
 * and sorting. Not shared between threads without a lock. */
struct expo_cache;
struct expo_cache *expo_cache_new(void);
void expo_cache_free(struct expo_cache *cache);
/* expo_render with a cache (updated). */
void expo_render_cached(struct sonde_buf *out, const struct expo_source *src,
                        enum expo_format format, struct expo_cache *cache);
/* Picks the format from an Accept header (NULL: text). */
enum expo_format expo_negotiate(const char *accept);
const char *expo_content_type(enum expo_format format);

#endif
