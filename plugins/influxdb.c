/*
 * influxdb.c - output: line protocol to InfluxDB 1.x's /write (also what
 * VictoriaMetrics accepts there). The core queues, batches, compresses and
 * retries; this file encodes, names the request and reads partial writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde.h"

struct influxdb_config {
    char *url;
    char *database;
    char *retention_policy;
    char *username;
    char *password;
};

static const struct sonde_option influxdb_options[] = {
    {"url", SONDE_OPT_STRING, offsetof(struct influxdb_config, url), NULL, true,
     "base URL of the server, e.g. http://127.0.0.1:8086"},
    {"database", SONDE_OPT_STRING, offsetof(struct influxdb_config, database), "sonde", false,
     "database to write to (it must exist)"},
    {"retention_policy", SONDE_OPT_STRING, offsetof(struct influxdb_config, retention_policy), "",
     false, "retention policy; empty: the database's default"},
    {"username", SONDE_OPT_STRING, offsetof(struct influxdb_config, username), "", false,
     "HTTP basic auth user"},
    {"password", SONDE_OPT_STRING, offsetof(struct influxdb_config, password), "", false,
     "HTTP basic auth password (use ${VAR})"},
    {NULL},
};

struct influxdb_state {
    const struct influxdb_config *config; /* borrowed from the core */
    char *url;                            /* the /write URL; owned */
};

static int influxdb_init(void **state, const void *config, const struct sonde_context *ctx)
{
    (void)ctx;
    const struct influxdb_config *cfg = config;
    if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0) {
        sonde_log(SONDE_LOG_ERROR, "output influxdb: url must start with http:// or https://");
        return -EINVAL;
    }
    struct influxdb_state *st = sonde_xcalloc(1, sizeof(*st));
    st->config = cfg;
    struct sonde_buf url = {0};
    sonde_buf_puts(&url, cfg->url);
    while (url.len && url.data[url.len - 1] == '/')
        url.data[--url.len] = '\0';
    sonde_buf_puts(&url, "/write?db=");
    sonde_url_escape(&url, cfg->database);
    if (cfg->retention_policy[0]) {
        sonde_buf_puts(&url, "&rp=");
        sonde_url_escape(&url, cfg->retention_policy);
    }
    sonde_buf_puts(&url, "&precision=ns");
    st->url = url.data;
    *state = st;
    return 0;
}

static int influxdb_request(void *state, bool gzip, struct sonde_request *req)
{
    struct influxdb_state *st = state;
    req->url = st->url;
    req->content_type = "text/plain; charset=utf-8";
    req->compression = gzip ? SONDE_COMPRESS_GZIP : SONDE_COMPRESS_NONE;
    if (st->config->username[0]) {
        req->username = st->config->username;
        req->password = st->config->password;
    }
    return 0;
}

static void influxdb_destroy(void *state)
{
    struct influxdb_state *st = state;
    free(st->url);
    free(st);
}

static const struct sonde_push influxdb_push = {
    .unit = "lines",                     /* one record per line */
    .gzip_default = true,                /* InfluxDB takes gzip */
    .series = false,                     /* line protocol */
    .encode = sonde_lp_push_encode,      /* the batch as lines */
    .record_size = sonde_lp_record_size, /* up to the newline */
    .request = influxdb_request,         /* /write?db=&rp=&precision=ns, basic auth */
    .rejected = sonde_lp_rejected,       /* partial writes: dropped=N */
};

const struct sonde_plugin sonde_plugin_influxdb = {
    .name = "influxdb",                                /* configuration key */
    .kind = SONDE_OUTPUT,                              /* an output */
    .summary = "line protocol to InfluxDB 1.x /write", /* for --help and docs */
    .config_size = sizeof(struct influxdb_config),     /* options land here */
    .options = influxdb_options,                       /* url, database ... */
    .init = influxdb_init,                             /* builds the URL */
    .read = NULL,                                      /* not an input */
    .write = NULL,                                     /* the core sends */
    .push = &influxdb_push,                            /* encoding and request */
    .destroy = influxdb_destroy,                       /* frees the URL */
};
