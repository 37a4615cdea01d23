/*
 * stdout.c - output: each batch as InfluxDB line protocol on standard
 * output, one write per batch (for debugging, or piping into other tools).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct stdout_config {
    char *format; /* only "influx" for now */
};

static const struct sonde_option stdout_options[] = {
    {"format", SONDE_OPT_STRING, offsetof(struct stdout_config, format), "influx", false,
     "output format: influx (line protocol)"},
    {NULL},
};

struct stdout_state {
    struct sonde_buf buf; /* reused between batches */
};

static int stdout_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)ctx;
    const struct stdout_config *cfg = config;
    if (cfg->format[0] && strcmp(cfg->format, "influx") != 0) {
        sonde_log(SONDE_LOG_ERROR, "output stdout: unknown format \"%s\" (expected influx)",
                  cfg->format);
        return -EINVAL;
    }
    *state = sonde_xcalloc(1, sizeof(struct stdout_state));
    return 0;
}

static int stdout_write(void *state, const struct sonde_batch *batch)
{
    struct stdout_state *st = state;
    struct sonde_lp_stats stats = {0};
    st->buf.len = 0;
    sonde_lp_encode_batch(&st->buf, batch, &stats);
    if (st->buf.len && fwrite(st->buf.data, 1, st->buf.len, stdout) != st->buf.len)
        return -EIO;
    return fflush(stdout) == 0 ? 0 : -EIO;
}

static void stdout_destroy(void *state)
{
    struct stdout_state *st = state;
    sonde_buf_free(&st->buf);
    free(st);
}

const struct sonde_plugin sonde_plugin_stdout = {
    .name = "stdout",                              /* configuration key */
    .kind = SONDE_OUTPUT,                          /* an output */
    .summary = "line protocol on standard output", /* for --help */
    .config_size = sizeof(struct stdout_config),   /* options land here */
    .options = stdout_options,                     /* format */
    .init = stdout_init,                           /* checks the format */
    .read = NULL,                                  /* not an input */
    .write = stdout_write,                         /* encodes and writes a batch */
    .destroy = stdout_destroy,                     /* frees the buffer */
};
