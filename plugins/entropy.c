/*
 * entropy.c - the `entropy` input: the kernel's random pool from
 * /proc/sys/kernel/random as node_exporter's entropy collector. No line
 * protocol: Telegraf has no entropy input (its inputs.kernel carries
 * entropy_avail, and sonde's kernel input writes it there).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct entropy_config {
    char unused; /* no options; keeps the struct non-empty (ISO C) */
};

static const struct sonde_option entropy_options[] = {
    {NULL},
};

static const struct sonde_family entropy_avail_family = {"node_entropy_available_bits", SONDE_GAUGE,
                                                         "Bits of available entropy."};
static const struct sonde_family entropy_pool_family = {"node_entropy_pool_size_bits", SONDE_GAUGE,
                                                        "Bits of entropy pool."};

struct entropy_state {
    struct sonde_file avail;    /* <procfs>/sys/kernel/random/entropy_avail */
    struct sonde_file poolsize; /* <procfs>/sys/kernel/random/poolsize */
};

/* One unsigned decimal number, blanks and a newline around it allowed (the
 * kernel prints "256\n"). 0 or -EINVAL. */
static int entropy_parse(const char *buf, uint64_t *out)
{
    const char *p = buf;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno == ERANGE)
        return -EINVAL;
    while (*end == ' ' || *end == '\t' || *end == '\n')
        end++;
    if (*end)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Reads one file and emits its number. node_exporter fails the collector
 * when either file is missing or malformed; so do we (-errno). */
static int entropy_emit_file(struct sonde_file *file, const struct sonde_family *family,
                             struct sonde_batch *batch)
{
    int rc = sonde_file_read(file);
    if (rc < 0)
        return rc;
    uint64_t v;
    if (entropy_parse(file->buf, &v) < 0) {
        batch->skipped++;
        return -EINVAL;
    }
    sonde_emit(batch, family, (double)v, NULL);
    return 0;
}

static int entropy_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)config;
    char avail[4096], pool[4096];
    if (snprintf(avail, sizeof(avail), "%s/sys/kernel/random/entropy_avail", ctx->procfs) >=
            (int)sizeof(avail) ||
        snprintf(pool, sizeof(pool), "%s/sys/kernel/random/poolsize", ctx->procfs) >=
            (int)sizeof(pool))
        return -ENAMETOOLONG;
    struct entropy_state *st = sonde_xcalloc(1, sizeof(*st));
    sonde_file_init(&st->avail, avail);
    sonde_file_init(&st->poolsize, pool);
    *state = st;
    return 0;
}

static int entropy_read(void *state, struct sonde_batch *batch)
{
    struct entropy_state *st = state;
    if (!batch->want_series)
        return 0; /* nothing for line protocol */
    /* As node_exporter: the pool size is not tried when the first fails. */
    int rc = entropy_emit_file(&st->avail, &entropy_avail_family, batch);
    if (rc < 0)
        return rc;
    return entropy_emit_file(&st->poolsize, &entropy_pool_family, batch);
}

static void entropy_destroy(void *state)
{
    struct entropy_state *st = state;
    if (!st)
        return;
    sonde_file_close(&st->avail);
    sonde_file_close(&st->poolsize);
    free(st);
}

const struct sonde_plugin sonde_plugin_entropy = {
    .name = "entropy",                                /* node_exporter's collector name */
    .kind = SONDE_INPUT,                              /* reads the host */
    .summary = "Available entropy and the pool size", /* for --help and docs */
    .config_size = sizeof(struct entropy_config),     /* no options */
    .options = entropy_options,                       /* empty table */
    .init = entropy_init,                             /* opens nothing yet */
    .read = entropy_read,                             /* two small files per cycle */
    .write = NULL,                                    /* inputs do not write */
    .destroy = entropy_destroy,                       /* closes the files */
};
