/*
 * influxdb_v2.c - output: line protocol to the InfluxDB 2.x write API
 * (/api/v2/write, org and bucket, Authorization: Token). The core queues,
 * batches, compresses and retries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct influxdb_v2_config {
    char *url;
    char *token;
    char *org;
    char *bucket;
};

static const struct sonde_option influxdb_v2_options[] = {
    {"url", SONDE_OPT_STRING, offsetof(struct influxdb_v2_config, url), NULL, true,
     "base URL of the server, e.g. https://influx.example:8086"},
    {"token", SONDE_OPT_STRING, offsetof(struct influxdb_v2_config, token), "", false,
     "API token (use ${VAR})"},
    {"org", SONDE_OPT_STRING, offsetof(struct influxdb_v2_config, org), NULL, true,
     "organization name"},
    {"bucket", SONDE_OPT_STRING, offsetof(struct influxdb_v2_config, bucket), NULL, true,
     "bucket to write to"},
    {NULL},
};

struct influxdb_v2_state {
    char *url;           /* the write URL; owned */
    char *authorization; /* "Authorization: Token ..."; owned; NULL without a token */
};

static int influxdb_v2_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)ctx;
    const struct influxdb_v2_config *cfg = config;
    if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0) {
        sonde_log(SONDE_LOG_ERROR, "output influxdb_v2: url must start with http:// or https://");
        return -EINVAL;
    }
    struct influxdb_v2_state *st = sonde_xcalloc(1, sizeof(*st));
    struct sonde_buf url = {0};
    sonde_buf_puts(&url, cfg->url);
    while (url.len && url.data[url.len - 1] == '/')
        url.data[--url.len] = '\0';
    sonde_buf_puts(&url, "/api/v2/write?org=");
    sonde_url_escape(&url, cfg->org);
    sonde_buf_puts(&url, "&bucket=");
    sonde_url_escape(&url, cfg->bucket);
    sonde_buf_puts(&url, "&precision=ns");
    st->url = url.data;
    if (cfg->token[0]) {
        struct sonde_buf auth = {0};
        sonde_buf_printf(&auth, "Authorization: Token %s", cfg->token);
        st->authorization = auth.data;
    }
    *state = st;
    return 0;
}

static int influxdb_v2_request(void *state, bool gzip, struct sonde_request *req)
{
    struct influxdb_v2_state *st = state;
    req->url = st->url;
    req->content_type = "text/plain; charset=utf-8";
    req->compression = gzip ? SONDE_COMPRESS_GZIP : SONDE_COMPRESS_NONE;
    req->headers[0] = st->authorization; /* NULL ends the list when there is no token */
    return 0;
}

static void influxdb_v2_destroy(void *state)
{
    struct influxdb_v2_state *st = state;
    free(st->url);
    free(st->authorization);
    free(st);
}

static const struct sonde_push influxdb_v2_push = {
    .unit = "lines",                     /* one record per line */
    .gzip_default = true,                /* InfluxDB takes gzip */
    .series = false,                     /* line protocol */
    .encode = sonde_lp_push_encode,      /* the batch as lines */
    .record_size = sonde_lp_record_size, /* up to the newline */
    .request = influxdb_v2_request,      /* /api/v2/write?org=&bucket=, token */
    .rejected = sonde_lp_rejected,       /* partial writes: dropped=N */
};

const struct sonde_plugin sonde_plugin_influxdb_v2 = {
    .name = "influxdb_v2",                                    /* configuration key */
    .kind = SONDE_OUTPUT,                                     /* an output */
    .summary = "line protocol to the InfluxDB 2.x write API", /* for --help and docs */
    .config_size = sizeof(struct influxdb_v2_config),         /* options land here */
    .options = influxdb_v2_options,                           /* url, token, org, bucket */
    .init = influxdb_v2_init,                                 /* builds URL and header */
    .read = NULL,                                             /* not an input */
    .write = NULL,                                            /* the core sends */
    .push = &influxdb_v2_push,                                /* encoding and request */
    .destroy = influxdb_v2_destroy,                           /* frees them */
};
